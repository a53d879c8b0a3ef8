//! Artifacts on the local backend.
//!
//! Content lives in immutable blob files `artifacts/blobs/<xx>/<id>` whose names come from
//! random ids, never from keys, so no key can reach a path outside the mesh. The `artifacts`
//! table maps each key to its blob, size, content type and metadata; replacing an artifact is one
//! SQLite commit that swaps the blob id, so readers see the old or the new artifact whole.
//!
//! A put writes and fsyncs the new blob while holding an exclusive lock on it and a row in
//! `artifact_garbage` naming it; the commit that publishes the blob removes that row and records
//! the replaced blob instead, which is then unlinked. After a crash, rows left in
//! `artifact_garbage` whose blob is not locked (its writer is gone) are collected on open.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use rusqlite::{OptionalExtension, Row, params};

use crate::backend::{ArtifactBackend, BackendPage, PutPayload};
use crate::clock::{from_ms, now_ms};
use crate::error::{Error, Result};
use crate::fsutil::{
    AtomicFile, Cancel, copy_unless_cancelled, create_private_dir_all, create_private_file,
    io_error, sync_dir,
};
use crate::page::prefix_upper_bound;
use crate::sqlite::{Db, decode_json, sql_error};
use crate::types::artifacts::{ArtifactMeta, DEFAULT_CONTENT_TYPE, PutOptions};

const COLUMNS: &str = "key, blob, size, content_type, metadata, updated_at";
/// How often a read retries when a concurrent put replaced the blob it was about to open.
const READ_ATTEMPTS: usize = 5;

/// The local backend's artifact store.
#[derive(Debug, Clone)]
pub(super) struct LocalArtifacts {
    db: Arc<Db>,
    blobs: PathBuf,
}

/// A row of the `artifacts` table.
struct StoredArtifact {
    meta: ArtifactMeta,
    blob: String,
}

fn row_meta(row: &Row<'_>) -> rusqlite::Result<(ArtifactMeta, String, String)> {
    let blob: String = row.get(1)?;
    Ok((
        ArtifactMeta {
            key: row.get(0)?,
            size: row.get::<_, i64>(2)? as u64,
            content_type: row.get(3)?,
            metadata: BTreeMap::new(),
            etag: blob.clone(),
            last_modified: from_ms(row.get(5)?),
        },
        blob,
        row.get(4)?,
    ))
}

fn decode_row(operation: &str, raw: (ArtifactMeta, String, String)) -> Result<StoredArtifact> {
    let (mut meta, blob, metadata) = raw;
    meta.metadata = decode_json(operation, &meta.key, &metadata)?;
    Ok(StoredArtifact { meta, blob })
}

impl LocalArtifacts {
    /// Opens the store under the mesh directory and collects blobs left by crashed writers.
    pub(super) fn open(db: Arc<Db>) -> Result<Self> {
        let blobs = db.dir().join("artifacts").join("blobs");
        create_private_dir_all(&blobs)
            .map_err(|e| io_error("open local mesh", "artifacts", &blobs, e))?;
        let store = LocalArtifacts { db, blobs };
        store.collect_garbage()?;
        Ok(store)
    }

    /// Runs `f` on a clone of the store on a blocking thread (file I/O and write transactions).
    async fn blocking<T: Send + 'static>(
        &self,
        operation: &'static str,
        f: impl FnOnce(LocalArtifacts) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || f(store))
            .await
            .map_err(|e| Error::internal(operation, e))?
    }

    fn blob_path(&self, blob: &str) -> PathBuf {
        self.blobs.join(&blob[..2]).join(blob)
    }

    fn row(&self, operation: &str, key: &str) -> Result<Option<StoredArtifact>> {
        let sql = format!("SELECT {COLUMNS} FROM artifacts WHERE key = ?1");
        let raw = self.db.read(operation, key, |c| {
            c.prepare_cached(&sql)?
                .query_row([key], row_meta)
                .optional()
        })?;
        raw.map(|r| decode_row(operation, r)).transpose()
    }

    /// Opens the current blob of `key`, retrying when a concurrent put or delete unlinked the
    /// blob between reading the row and opening the file.
    async fn open_current(
        &self,
        operation: &str,
        key: &str,
    ) -> Result<Option<(ArtifactMeta, File)>> {
        for _ in 0..READ_ATTEMPTS {
            let Some(row) = self.row(operation, key)? else {
                return Ok(None);
            };
            let path = self.blob_path(&row.blob);
            match File::open(&path) {
                Ok(file) => return Ok(Some((row.meta, file))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tokio::task::yield_now().await
                }
                Err(e) => return Err(io_error(operation, key, &path, e)),
            }
        }
        Err(Error::new(
            crate::ErrorKind::Unavailable,
            format!(
                "{operation} {key:?}: the artifact was replaced {READ_ATTEMPTS} times while being read; retry"
            ),
        ))
    }

    /// Writes a new blob from `payload`, holding its lock; returns the blob id, the locked file
    /// and its size. A garbage row names the blob until the put commits; a failed or cancelled
    /// write removes the blob at once.
    fn write_blob(
        &self,
        key: &str,
        payload: &PutPayload,
        cancel: &Cancel,
    ) -> Result<(String, File, u64)> {
        const OP: &str = "artifacts.put";
        let blob = uuid::Uuid::new_v4().simple().to_string();
        let path = self.blob_path(&blob);
        let dir = path.parent().expect("blob paths have a parent");
        let io = |e| io_error(OP, key, &path, e);
        create_private_dir_all(dir).map_err(io)?;
        let mut file = create_private_file(&path).map_err(io)?;
        file.lock().map_err(io)?;
        self.db.write_blocking(OP, key, |tx| {
            tx.execute(
                "INSERT INTO artifact_garbage (blob, since) VALUES (?1, ?2)",
                params![blob, now_ms()],
            )
            .map_err(|e| sql_error(OP, key, e))
        })?;
        let written = match payload {
            PutPayload::Bytes(bytes) => file
                .write_all(bytes)
                .map(|()| bytes.len() as u64)
                .map_err(io),
            PutPayload::File(source) => File::open(source)
                .map_err(|e| io_error(OP, key, source, e))
                .and_then(|mut src| copy_unless_cancelled(&mut src, &mut file, cancel).map_err(io)),
        }
        .and_then(|size| {
            file.sync_all().map_err(io)?;
            sync_dir(dir).map_err(io)?;
            // Cancelled during the sync: the put must not commit after its caller gave up.
            cancel.check().map_err(io)?;
            Ok(size)
        });
        match written {
            Ok(size) => Ok((blob, file, size)),
            Err(e) => {
                drop(file);
                // Best effort: what is left is collected when the mesh is next opened.
                let _ = self.drop_blob(OP, key, &blob);
                Err(e)
            }
        }
    }

    /// Unlinks a blob no row refers to any more and forgets its garbage row.
    fn drop_blob(&self, operation: &str, key: &str, blob: &str) -> Result<()> {
        let path = self.blob_path(blob);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(operation, key, &path, e)),
        }
        self.db.write_blocking(operation, key, |tx| {
            tx.execute("DELETE FROM artifact_garbage WHERE blob = ?1", [blob])
                .map_err(|e| sql_error(operation, key, e))
                .map(drop)
        })
    }

    /// Removes blobs whose put or delete did not finish (their writer died): garbage rows whose
    /// blob is missing or not locked by a live writer, and that no artifact refers to.
    fn collect_garbage(&self) -> Result<()> {
        const OP: &str = "open local mesh";
        let candidates: Vec<String> = self.db.read(OP, "artifacts", |c| {
            let mut stmt = c.prepare("SELECT blob FROM artifact_garbage")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })?;
        for blob in candidates {
            let path = self.blob_path(&blob);
            let in_use = match File::open(&path) {
                Ok(file) => file.try_lock().is_err(),
                Err(_) => false,
            };
            if in_use {
                continue;
            }
            let referenced: bool = self.db.read(OP, &blob, |c| {
                c.query_row(
                    "SELECT EXISTS(SELECT 1 FROM artifacts WHERE blob = ?1)",
                    [&blob],
                    |r| r.get(0),
                )
            })?;
            if referenced {
                self.db.write_blocking(OP, &blob, |tx| {
                    tx.execute("DELETE FROM artifact_garbage WHERE blob = ?1", [&blob])
                        .map_err(|e| sql_error(OP, &blob, e))
                        .map(drop)
                })?;
            } else {
                self.drop_blob(OP, &blob, &blob)?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ArtifactBackend for LocalArtifacts {
    async fn put(
        &self,
        key: &str,
        payload: PutPayload,
        options: &PutOptions,
    ) -> Result<ArtifactMeta> {
        const OP: &str = "artifacts.put";
        let key = key.to_owned();
        let content_type = options
            .content_type
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        let metadata = options.metadata.clone();
        let cancel = Cancel::default();
        let _cancel_on_drop = cancel.on_drop();
        self.blocking(OP, move |store| {
            let (blob, locked_file, size) = store.write_blob(&key, &payload, &cancel)?;
            let now = now_ms();
            let metadata_json = serde_json::to_string(&metadata).map_err(|e| Error::internal(OP, e))?;
            let replaced: Option<String> = store.db.write_blocking(OP, &key, |tx| {
                let sql = |e| sql_error(OP, &key, e);
                let old: Option<String> = tx
                    .query_row("SELECT blob FROM artifacts WHERE key = ?1", [&key], |r| r.get(0))
                    .optional()
                    .map_err(sql)?;
                tx.execute(
                    "INSERT OR REPLACE INTO artifacts (key, blob, size, content_type, metadata, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![key, blob, size as i64, content_type, metadata_json, now],
                )
                .map_err(sql)?;
                tx.execute("DELETE FROM artifact_garbage WHERE blob = ?1", [&blob]).map_err(sql)?;
                if let Some(old) = &old {
                    tx.execute(
                        "INSERT OR REPLACE INTO artifact_garbage (blob, since) VALUES (?1, ?2)",
                        params![old, now],
                    )
                    .map_err(sql)?;
                }
                Ok(old)
            })?;
            drop(locked_file);
            if let Some(old) = replaced {
                store.drop_blob(OP, &key, &old)?;
            }
            Ok(ArtifactMeta {
                key,
                size,
                content_type,
                metadata,
                etag: blob,
                last_modified: from_ms(now),
            })
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<(ArtifactMeta, Bytes)>> {
        const OP: &str = "artifacts.get";
        let Some((meta, mut file)) = self.open_current(OP, key).await? else {
            return Ok(None);
        };
        self.blocking(OP, move |store| {
            let mut data = Vec::with_capacity(meta.size as usize);
            file.read_to_end(&mut data)
                .map_err(|e| io_error(OP, &meta.key, &store.blob_path(&meta.etag), e))?;
            Ok(Some((meta, Bytes::from(data))))
        })
        .await
    }

    async fn get_to_file(&self, key: &str, dest: &Path) -> Result<Option<ArtifactMeta>> {
        const OP: &str = "artifacts.get_to_file";
        let Some((meta, mut file)) = self.open_current(OP, key).await? else {
            return Ok(None);
        };
        let dest = dest.to_owned();
        let cancel = Cancel::default();
        let _cancel_on_drop = cancel.on_drop();
        self.blocking(OP, move |_| {
            let mut copy = || -> std::io::Result<()> {
                let mut out = AtomicFile::create(&dest)?;
                copy_unless_cancelled(&mut file, out.file(), &cancel)?;
                out.commit()
            };
            copy().map_err(|e| io_error(OP, &meta.key, &dest, e))?;
            Ok(Some(meta))
        })
        .await
    }

    async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        Ok(self.row("artifacts.head", key)?.map(|r| r.meta))
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<ArtifactMeta>> {
        const OP: &str = "artifacts.list";
        let upper = prefix_upper_bound(prefix);
        let bound = if upper.is_some() { "AND key < ?3" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS} FROM artifacts WHERE key >= ?1 AND key > ?2 {bound} ORDER BY key LIMIT ?4"
        );
        let raws = self.db.read(OP, prefix, |c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    prefix,
                    start_after.unwrap_or(""),
                    upper.as_deref().unwrap_or(""),
                    limit as i64 + 1
                ],
                row_meta,
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        BackendPage::from_rows(raws, limit).try_map(|r| decode_row(OP, r).map(|row| row.meta))
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        const OP: &str = "artifacts.delete";
        let key = key.to_owned();
        self.blocking(OP, move |store| {
            let removed: Option<String> = store.db.write_blocking(OP, &key, |tx| {
                let sql = |e| sql_error(OP, &key, e);
                let blob: Option<String> = tx
                    .query_row("SELECT blob FROM artifacts WHERE key = ?1", [&key], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(sql)?;
                if let Some(blob) = &blob {
                    tx.execute("DELETE FROM artifacts WHERE key = ?1", [&key])
                        .map_err(sql)?;
                    tx.execute(
                        "INSERT OR REPLACE INTO artifact_garbage (blob, since) VALUES (?1, ?2)",
                        params![blob, now_ms()],
                    )
                    .map_err(sql)?;
                }
                Ok(blob)
            })?;
            match removed {
                Some(blob) => store.drop_blob(OP, &key, &blob).map(|()| true),
                None => Ok(false),
            }
        })
        .await
    }
}
