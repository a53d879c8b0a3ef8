//! Artifact storage: named blobs with a content type and user metadata.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::backend::{ArtifactBackend, PutPayload};
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::page::{ListOptions, ListRequest, Page};
use crate::validate;

/// Content type stored when a put names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Options of [`Artifacts::put`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

    /// These options with one more metadata entry.
    pub fn with_metadata(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(name.into(), value.into());
        self
    }
}

/// What is known about a stored artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
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
pub struct Artifact {
    /// Its metadata.
    pub meta: ArtifactMeta,
    /// Its content.
    pub data: Bytes,
}

/// The artifact domain of a [`MeshClient`](crate::MeshClient): `mesh.artifacts()`.
#[derive(Clone)]
pub struct Artifacts {
    backend: Arc<dyn ArtifactBackend>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Artifacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifacts").finish_non_exhaustive()
    }
}

impl Artifacts {
    pub(crate) fn new(backend: Arc<dyn ArtifactBackend>) -> Self {
        Artifacts { backend }
    }

    /// Stores `data` under `key`, replacing any previous artifact atomically.
    pub async fn put(
        &self,
        key: &str,
        data: impl Into<Bytes>,
        options: PutOptions,
    ) -> Result<ArtifactMeta> {
        let options = check_put("artifacts.put", key, options)?;
        self.backend
            .put(key, PutPayload::Bytes(data.into()), &options)
            .await
    }

    /// Stores the file at `path` under `key`, streaming it with bounded memory.
    pub async fn put_file(
        &self,
        key: &str,
        path: impl AsRef<Path>,
        options: PutOptions,
    ) -> Result<ArtifactMeta> {
        let options = check_put("artifacts.put_file", key, options)?;
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(Error::invalid_input(
                    "artifacts.put_file",
                    key,
                    format!("{} is not a regular file; pass a file path", path.display()),
                ));
            }
            Err(e) => {
                return Err(Error::keyed(
                    ErrorKind::NotFound,
                    "artifacts.put_file",
                    key,
                    format!("cannot read source file {}: {e}", path.display()),
                ));
            }
        }
        self.backend
            .put(key, PutPayload::File(path.to_owned()), &options)
            .await
    }

    /// The artifact under `key` in full, or `None`.
    pub async fn get(&self, key: &str) -> Result<Option<Artifact>> {
        validate::check_artifact_key("artifacts.get", key)?;
        Ok(self
            .backend
            .get(key)
            .await?
            .map(|(meta, data)| Artifact { meta, data }))
    }

    /// Streams the artifact under `key` into the file at `path` (created or replaced
    /// atomically); `NotFound` if there is no such artifact.
    pub async fn get_to_file(&self, key: &str, path: impl AsRef<Path>) -> Result<ArtifactMeta> {
        validate::check_artifact_key("artifacts.get_to_file", key)?;
        self.backend
            .get_to_file(key, path.as_ref())
            .await?
            .ok_or_else(|| not_found("artifacts.get_to_file", key))
    }

    /// The metadata of the artifact under `key`, or `None`.
    pub async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        validate::check_artifact_key("artifacts.head", key)?;
        self.backend.head(key).await
    }

    /// One page of artifacts whose key starts with `prefix`, in ascending key order.
    pub async fn list(&self, prefix: &str, options: ListOptions) -> Result<Page<ArtifactMeta>> {
        let request = ListRequest::new("artifacts.list", prefix, &options)?;
        let page = self
            .backend
            .list(prefix, request.start_after.as_deref(), request.limit)
            .await?;
        Ok(ListRequest::finish(page, |meta: &ArtifactMeta| &meta.key))
    }

    /// Deletes the artifact under `key`; returns whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        validate::check_artifact_key("artifacts.delete", key)?;
        self.backend.delete(key).await
    }
}

/// The `NotFound` error for a missing artifact.
pub(crate) fn not_found(operation: &str, key: &str) -> Error {
    Error::keyed(
        ErrorKind::NotFound,
        operation,
        key,
        "no artifact has this key; list the prefix to see what exists",
    )
}

/// Validates a put and normalises its options (default content type, lower-case metadata keys):
/// metadata names are header-safe ASCII and distinct ignoring case, metadata values and the
/// content type hold no control characters (they become HTTP headers on S3).
fn check_put(operation: &str, key: &str, mut options: PutOptions) -> Result<PutOptions> {
    validate::check_artifact_key(operation, key)?;
    let mut metadata = BTreeMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut total = 0;
    for (name, value) in std::mem::take(&mut options.metadata) {
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid_name {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata name {name:?} must be non-empty ASCII letters, digits, '-', '_' or \
                     '.' (S3 sends it as an HTTP header name); rename it"
                ),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata {name:?} has the control character U+{:04X} in its value; S3 sends \
                     metadata as HTTP headers, where CR, LF and other control characters are \
                     not allowed: remove it (or store such text in the artifact)",
                    c as u32
                ),
            ));
        }
        total += name.len() + value.len();
        let lower = name.to_ascii_lowercase();
        if let Some(earlier) = names.insert(lower.clone(), name.clone()) {
            return Err(Error::invalid_input(
                operation,
                key,
                format!(
                    "metadata names {earlier:?} and {name:?} differ only in case; S3 lower-cases \
                     metadata names, so one value would be lost: keep one of them"
                ),
            ));
        }
        metadata.insert(lower, value);
    }
    if total > validate::MAX_METADATA_BYTES {
        return Err(Error::keyed(
            ErrorKind::TooLarge,
            operation,
            key,
            format!(
                "user metadata is {total} bytes; at most {} are allowed (S3's limit): move large values into the artifact",
                validate::MAX_METADATA_BYTES
            ),
        ));
    }
    let content_type = options
        .content_type
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
    if let Some(c) = content_type.chars().find(|c| c.is_control()) {
        return Err(Error::invalid_input(
            operation,
            key,
            format!(
                "content_type {content_type:?} has the control character U+{:04X}; it is sent as \
                 the Content-Type HTTP header, where CR, LF and other control characters are not \
                 allowed: pass a MIME type such as \"application/pdf\"",
                c as u32
            ),
        ));
    }
    Ok(PutOptions {
        content_type: Some(content_type),
        metadata,
    })
}
