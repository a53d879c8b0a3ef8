//! Artifacts: metadata, content and put options. Shared by the public API and the backends, so neither imports the
//! other for them.

use crate::clock::Timestamp;
use bytes::Bytes;
use std::collections::BTreeMap;

/// Content type stored when a put names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Options of [`Artifacts::put`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutOptions {
    /// MIME type; `application/octet-stream` when `None`.
    pub content_type: Option<String>,
    /// User metadata (keys are lower-cased, as S3 does; at most 2 KB in total).
    pub metadata: BTreeMap<String, String>,
}

impl PutOptions {
    /// Options with a content type.
    pub fn content_type(content_type: impl Into<String>) -> Self {
        PutOptions {
            content_type: Some(content_type.into()),
            ..Self::default()
        }
    }

    /// These options with `content_type` (`None`: `application/octet-stream`).
    pub fn with_content_type(mut self, content_type: Option<String>) -> Self {
        self.content_type = content_type;
        self
    }

    /// These options with every entry of `metadata` added.
    pub fn with_metadata_entries(
        mut self,
        metadata: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        self.metadata.extend(metadata);
        self
    }

    /// These options with one more metadata entry.
    pub fn with_metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(name.into(), value.into());
        self
    }
}

/// What is known about a stored artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArtifactMeta {
    /// The artifact's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type.
    pub content_type: String,
    /// User metadata (lower-cased keys).
    pub metadata: BTreeMap<String, String>,
    /// Opaque tag that changes whenever the content is replaced.
    pub etag: String,
    /// When the artifact was last written.
    pub last_modified: Timestamp,
}

/// An artifact read in full.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Artifact {
    /// Its metadata.
    pub meta: ArtifactMeta,
    /// Its content.
    pub data: Bytes,
}
