//! Artifacts in a scope: keys stored under the scope's prefix, handed back without it.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Scope, Unscoped, unscope_in_place, unscoped_page};
use crate::backend::{ArtifactBackend, BackendPage, PutPayload};
use crate::error::Result;
use crate::types::artifacts::{ArtifactMeta, PutOptions};

/// An [`ArtifactBackend`] confined to one scope.
#[derive(Debug)]
pub(crate) struct ScopedArtifacts {
    inner: Arc<dyn ArtifactBackend>,
    scope: Scope,
}

impl ScopedArtifacts {
    /// `inner` seen through `scope`.
    pub(crate) fn new(inner: Arc<dyn ArtifactBackend>, scope: Scope) -> Self {
        ScopedArtifacts { inner, scope }
    }

    fn unscoped(&self, operation: &str, mut meta: ArtifactMeta) -> Result<ArtifactMeta> {
        unscope_in_place(&self.scope, operation, &mut meta.key)?;
        Ok(meta)
    }

    fn unscoped_opt(
        &self,
        operation: &str,
        meta: Option<ArtifactMeta>,
    ) -> Result<Option<ArtifactMeta>> {
        meta.map(|m| self.unscoped(operation, m)).transpose()
    }
}

#[async_trait]
impl ArtifactBackend for ScopedArtifacts {
    async fn put(
        &self,
        key: &str,
        payload: PutPayload,
        options: &PutOptions,
    ) -> Result<ArtifactMeta> {
        let stored = self.scope.key("artifacts.put", key)?;
        let meta = self
            .inner
            .put(&stored, payload, options)
            .await
            .unscoped(&self.scope)?;
        self.unscoped("artifacts.put", meta)
    }

    async fn get(&self, key: &str) -> Result<Option<(ArtifactMeta, Bytes)>> {
        let stored = self.scope.key("artifacts.get", key)?;
        match self.inner.get(&stored).await.unscoped(&self.scope)? {
            Some((meta, bytes)) => Ok(Some((self.unscoped("artifacts.get", meta)?, bytes))),
            None => Ok(None),
        }
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> Result<Option<ArtifactMeta>> {
        let stored = self.scope.key("artifacts.get_to_file", key)?;
        let meta = self
            .inner
            .get_to_file(&stored, path)
            .await
            .unscoped(&self.scope)?;
        self.unscoped_opt("artifacts.get_to_file", meta)
    }

    async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        let stored = self.scope.key("artifacts.head", key)?;
        let meta = self.inner.head(&stored).await.unscoped(&self.scope)?;
        self.unscoped_opt("artifacts.head", meta)
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<ArtifactMeta>> {
        const OP: &str = "artifacts.list";
        let stored_prefix = self.scope.key(OP, prefix)?;
        let stored_after = start_after.map(|a| self.scope.key(OP, a)).transpose()?;
        let page = self
            .inner
            .list(&stored_prefix, stored_after.as_deref(), limit)
            .await
            .unscoped(&self.scope)?;
        unscoped_page(&self.scope, OP, page, |meta| &mut meta.key)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let stored = self.scope.key("artifacts.delete", key)?;
        self.inner.delete(&stored).await.unscoped(&self.scope)
    }
}
