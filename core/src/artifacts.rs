//! Artifact storage: named blobs with a content type and user metadata.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::backend::{ArtifactBackend, PutPayload};
use crate::error::{Error, ErrorKind, Result};
use crate::page::{ListOptions, ListRequest, Page};
use crate::validate;

pub use crate::types::artifacts::*;

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
        let options = validate::check_put("artifacts.put", key, options)?;
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
        let options = validate::check_put("artifacts.put_file", key, options)?;
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
        validate::check_user_artifact_key("artifacts.get", key)?;
        Ok(self
            .backend
            .get(key)
            .await?
            .map(|(meta, data)| Artifact { meta, data }))
    }

    /// Streams the artifact under `key` into the file at `path` (created or replaced
    /// atomically); `NotFound` if there is no such artifact.
    pub async fn get_to_file(&self, key: &str, path: impl AsRef<Path>) -> Result<ArtifactMeta> {
        validate::check_user_artifact_key("artifacts.get_to_file", key)?;
        self.backend
            .get_to_file(key, path.as_ref())
            .await?
            .ok_or_else(|| not_found("artifacts.get_to_file", key))
    }

    /// The metadata of the artifact under `key`, or `None`.
    pub async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        validate::check_user_artifact_key("artifacts.head", key)?;
        self.backend.head(key).await
    }

    /// One page of artifacts whose key starts with `prefix`, in ascending key order. The bodies
    /// of large KV values (under a `.agent-mesh` segment) are left out, unless `prefix` names
    /// that segment.
    pub async fn list(&self, prefix: &str, options: ListOptions) -> Result<Page<ArtifactMeta>> {
        let request = ListRequest::new("artifacts.list", prefix, &options)?;
        let reserved_prefix = validate::is_reserved_artifact_key(prefix);
        let page = self
            .backend
            .list(prefix, request.start_after.as_deref(), request.limit)
            .await?
            // The bodies of large KV values are agent-mesh's own, not the client's artifacts:
            // listed only when the prefix names them (".agent-mesh/kv-values/").
            .readable(
                |meta| meta.key.clone(),
                |meta| match validate::is_reserved_artifact_key(&meta.key) && !reserved_prefix {
                    false => Ok(meta),
                    true => Err(Error::internal("artifacts.list", "a reserved key")),
                },
            );
        Ok(ListRequest::finish(page, |meta: &ArtifactMeta| &meta.key))
    }

    /// Deletes the artifact under `key`; returns whether it existed.
    pub async fn delete(&self, key: &str) -> Result<bool> {
        validate::check_user_artifact_key("artifacts.delete", key)?;
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
