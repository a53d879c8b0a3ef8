//! Artifacts for the memory backend: a `BTreeMap` of bytes behind a mutex. (Being in memory,
//! `put_file` reads the file whole.)

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use crate::backend::{ArtifactBackend, BackendPage, PutPayload};
use crate::clock::{from_ms, now_ms};
use crate::error::Result;
use crate::fsutil::{AtomicFile, io_error};
use crate::types::artifacts::{ArtifactMeta, DEFAULT_CONTENT_TYPE, PutOptions};

/// The memory backend's artifact store.
#[derive(Debug, Default)]
pub(super) struct MemoryArtifacts {
    objects: Mutex<BTreeMap<String, (ArtifactMeta, Bytes)>>,
}

impl MemoryArtifacts {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (ArtifactMeta, Bytes)>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl ArtifactBackend for MemoryArtifacts {
    async fn put(
        &self,
        key: &str,
        payload: PutPayload,
        options: &PutOptions,
    ) -> Result<ArtifactMeta> {
        let data = match payload {
            PutPayload::Bytes(b) => b,
            PutPayload::File(path) => Bytes::from(
                std::fs::read(&path).map_err(|e| io_error("artifacts.put_file", key, &path, e))?,
            ),
        };
        let meta = ArtifactMeta {
            key: key.to_owned(),
            size: data.len() as u64,
            content_type: options
                .content_type
                .clone()
                .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            metadata: options.metadata.clone(),
            etag: uuid::Uuid::new_v4().simple().to_string(),
            last_modified: from_ms(now_ms()),
        };
        self.lock().insert(key.to_owned(), (meta.clone(), data));
        Ok(meta)
    }

    async fn get(&self, key: &str) -> Result<Option<(ArtifactMeta, Bytes)>> {
        Ok(self.lock().get(key).cloned())
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> Result<Option<ArtifactMeta>> {
        let Some((meta, data)) = self.get(key).await? else {
            return Ok(None);
        };
        let write = || -> std::io::Result<()> {
            let mut file = AtomicFile::create(path)?;
            file.file().write_all(&data)?;
            file.commit()
        };
        write().map_err(|e| io_error("artifacts.get_to_file", key, path, e))?;
        Ok(Some(meta))
    }

    async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        Ok(self.lock().get(key).map(|(meta, _)| meta.clone()))
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<ArtifactMeta>> {
        let objects = self.lock();
        let metas = super::prefix_range(&objects, prefix, start_after).map(|(_, (m, _))| m.clone());
        Ok(BackendPage::from_iter(metas, limit))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        Ok(self.lock().remove(key).is_some())
    }
}
