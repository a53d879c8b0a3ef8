//! `mesh.artifacts`: named blobs with a content type and user metadata.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::Buffer;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;

use crate::errors::{IntoJs, Result};
use crate::kv::{ListOptions, list_options};
use crate::promise::{Canceller, abortable, promise};

/// What is known about a stored artifact.
#[napi(object)]
pub struct ArtifactMeta {
    /// The artifact's key.
    pub key: String,
    /// Size in bytes.
    pub size: i64,
    /// MIME type.
    pub content_type: String,
    /// User metadata (lower-cased names).
    pub metadata: HashMap<String, String>,
    /// Opaque tag that changes whenever the content is replaced.
    pub etag: String,
    /// When the artifact was last written.
    pub last_modified: DateTime<Utc>,
}

impl From<agent_mesh::ArtifactMeta> for ArtifactMeta {
    fn from(m: agent_mesh::ArtifactMeta) -> Self {
        ArtifactMeta {
            key: m.key,
            size: m.size as i64,
            content_type: m.content_type,
            metadata: m.metadata.into_iter().collect(),
            etag: m.etag,
            last_modified: m.last_modified,
        }
    }
}

/// An artifact read in full.
#[napi(object)]
pub struct Artifact {
    /// Its metadata.
    pub meta: ArtifactMeta,
    /// Its content.
    pub data: Buffer,
}

/// Options of `artifacts.put` / `artifacts.putFile`.
#[napi(object)]
#[derive(Default)]
pub struct PutOptions {
    /// MIME type (default `application/octet-stream`).
    pub content_type: Option<String>,
    /// User metadata (names are lower-cased; at most 2 KB in total).
    pub metadata: Option<HashMap<String, String>>,
}

fn put_options(o: Option<PutOptions>) -> agent_mesh::PutOptions {
    let o = o.unwrap_or_default();
    agent_mesh::PutOptions::default()
        .with_content_type(o.content_type)
        .with_metadata_entries(o.metadata.unwrap_or_default())
}

/// One page of artifact metadata.
#[napi(object)]
pub struct ArtifactPage {
    /// The items, in ascending key order.
    pub items: Vec<ArtifactMeta>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The artifact namespace of a `MeshClient`.
#[napi]
pub struct Artifacts {
    mesh: agent_mesh::MeshClient,
}

impl Artifacts {
    pub(crate) fn new(mesh: agent_mesh::MeshClient) -> Self {
        Artifacts { mesh }
    }
}

#[napi]
impl Artifacts {
    /// Stores `data` under `key`, replacing any previous artifact atomically.
    #[napi]
    pub fn put<'env>(
        &self,
        env: &'env Env,
        key: String,
        data: Buffer,
        options: Option<PutOptions>,
    ) -> Result<PromiseRaw<'env, ArtifactMeta>> {
        let data = bytes::Bytes::copy_from_slice(&data);
        let mesh = self.mesh.clone();
        promise(env, async move {
            let meta = mesh
                .artifacts()
                .put(&key, data, put_options(options))
                .await
                .js()?;
            Ok(meta.into())
        })
    }

    /// Stores the file at `path` under `key`, streaming it with bounded memory. Aborting `signal`
    /// stops the upload (on AWS its multipart upload is aborted) and leaves no artifact.
    #[napi(
        ts_args_type = "key: string, path: string, options?: PutOptions | undefined | null, signal?: AbortSignal | undefined | null"
    )]
    pub fn put_file<'env>(
        &self,
        env: &'env Env,
        key: String,
        path: String,
        options: Option<PutOptions>,
        signal: Option<&Canceller>,
    ) -> Result<PromiseRaw<'env, ArtifactMeta>> {
        let mesh = self.mesh.clone();
        abortable(
            env,
            async move {
                let meta = mesh
                    .artifacts()
                    .put_file(&key, path, put_options(options))
                    .await
                    .js()?;
                Ok(meta.into())
            },
            signal,
        )
    }

    /// The artifact under `key` (`meta`, `data`), or null.
    #[napi(ts_return_type = "Promise<Artifact | null>")]
    pub fn get<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, Option<Artifact>>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let artifact = mesh.artifacts().get(&key).await.js()?;
            Ok(artifact.map(|a| Artifact {
                meta: a.meta.into(),
                data: a.data.to_vec().into(),
            }))
        })
    }

    /// Streams the artifact under `key` into the file at `path`; rejects with `NotFound` if missing.
    /// Aborting `signal` stops the copy, leaving `path` as it was.
    #[napi(ts_args_type = "key: string, path: string, signal?: AbortSignal | undefined | null")]
    pub fn get_to_file<'env>(
        &self,
        env: &'env Env,
        key: String,
        path: String,
        signal: Option<&Canceller>,
    ) -> Result<PromiseRaw<'env, ArtifactMeta>> {
        let mesh = self.mesh.clone();
        abortable(
            env,
            async move { Ok(mesh.artifacts().get_to_file(&key, path).await.js()?.into()) },
            signal,
        )
    }

    /// The metadata of the artifact under `key`, or null.
    #[napi(ts_return_type = "Promise<ArtifactMeta | null>")]
    pub fn head<'env>(
        &self,
        env: &'env Env,
        key: String,
    ) -> Result<PromiseRaw<'env, Option<ArtifactMeta>>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            Ok(mesh.artifacts().head(&key).await.js()?.map(Into::into))
        })
    }

    /// One page of artifacts whose key starts with `prefix`, in ascending key order.
    #[napi]
    pub fn list<'env>(
        &self,
        env: &'env Env,
        prefix: Option<String>,
        options: Option<ListOptions>,
    ) -> Result<PromiseRaw<'env, ArtifactPage>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let prefix = prefix.unwrap_or_default();
            let page = mesh
                .artifacts()
                .list(&prefix, list_options(options))
                .await
                .js()?;
            Ok(ArtifactPage {
                items: page.items.into_iter().map(Into::into).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }

    /// Deletes the artifact under `key`; resolves to whether it existed.
    #[napi]
    pub fn delete<'env>(&self, env: &'env Env, key: String) -> Result<PromiseRaw<'env, bool>> {
        let mesh = self.mesh.clone();
        promise(env, async move { mesh.artifacts().delete(&key).await.js() })
    }
}
