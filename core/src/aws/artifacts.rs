//! Artifacts on S3: object key = artifact key, `Content-Type` and user metadata kept.
//!
//! Puts above [`MULTIPART_THRESHOLD`] use a multipart upload with [`PARTS_IN_FLIGHT`] parts
//! uploading at once, each read from the source as it is sent (memory stays at a few parts), and
//! aborted on any failure so no upload is left behind. Downloads stream to the file.

use std::io::Write;
use std::path::Path;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::errors::{Target, map_sdk_error};
use crate::backend::{ArtifactBackend, BackendPage, PutPayload};
use crate::clock::{from_ms, now_ms};
use crate::error::{Error, Result};
use crate::fsutil::{AtomicFile, io_error};
use crate::types::artifacts::{ArtifactMeta, DEFAULT_CONTENT_TYPE, PutOptions};

/// Puts larger than this use a multipart upload.
pub(crate) const MULTIPART_THRESHOLD: u64 = 16 * 1024 * 1024;
/// Size of each part of a multipart upload (S3's minimum is 5 MiB).
pub(crate) const PART_SIZE: u64 = 8 * 1024 * 1024;
/// Parts uploading at the same time.
pub(crate) const PARTS_IN_FLIGHT: usize = 4;
/// `HeadObject` calls in flight while a listing fills in content types and metadata.
const HEADS_IN_FLIGHT: usize = 16;

/// The AWS backend's artifact store.
#[derive(Debug)]
pub(crate) struct S3Artifacts {
    client: Client,
    bucket: String,
    resource: String,
}

impl S3Artifacts {
    pub(crate) fn new(client: Client, bucket: String) -> Self {
        let resource = format!("S3 bucket {bucket:?}");
        S3Artifacts {
            client,
            bucket,
            resource,
        }
    }

    fn target<'a>(&'a self, operation: &'a str, key: &'a str) -> Target<'a> {
        Target {
            operation,
            key,
            resource: &self.resource,
        }
    }

    /// Creates the bucket, idempotently.
    pub(crate) async fn provision(&self) -> Result<()> {
        let mut create = self.client.create_bucket().bucket(&self.bucket);
        let region = self.client.config().region().map(|r| r.as_ref().to_owned());
        if let Some(region) = region.filter(|r| r != "us-east-1") {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                        region.as_str(),
                    ))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
            {
                Ok(())
            }
            Err(e) => Err(map_sdk_error(&self.target("provision", &self.bucket), e)),
        }
    }

    async fn put_single(
        &self,
        key: &str,
        body: ByteStream,
        size: u64,
        options: &PutOptions,
    ) -> Result<Option<String>> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(body)
            .content_length(size as i64)
            .content_type(content_type(options))
            .set_metadata(Some(options.metadata.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| map_sdk_error(&self.target("artifacts.put", key), e))?;
        Ok(out.e_tag)
    }

    /// Uploads `size` bytes in parts, `part(offset, length)` giving each part's body; returns
    /// the object's ETag.
    async fn put_multipart<F, Fut>(
        &self,
        key: &str,
        size: u64,
        options: &PutOptions,
        part: F,
    ) -> Result<Option<String>>
    where
        F: Fn(u64, u64) -> Fut,
        Fut: std::future::Future<Output = Result<ByteStream>>,
    {
        let target = self.target("artifacts.put", key);
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type(options))
            .set_metadata(Some(options.metadata.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| map_sdk_error(&target, e))?;
        let upload_id = upload.upload_id.unwrap_or_default();
        let mut pending = PendingUpload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            upload_id: upload_id.clone(),
            armed: true,
        };
        let count = size.div_ceil(PART_SIZE);
        let uploaded = futures::stream::iter(0..count)
            .map(|i| {
                let (offset, length) = (i * PART_SIZE, PART_SIZE.min(size - i * PART_SIZE));
                let body = part(offset, length);
                let upload_id = &upload_id;
                let target = &target;
                async move {
                    let out = self
                        .client
                        .upload_part()
                        .bucket(&self.bucket)
                        .key(key)
                        .upload_id(upload_id)
                        .part_number(i as i32 + 1)
                        .content_length(length as i64)
                        .body(body.await?)
                        .send()
                        .await
                        .map_err(|e| map_sdk_error(target, e))?;
                    Ok::<_, Error>(
                        CompletedPart::builder()
                            .part_number(i as i32 + 1)
                            .set_e_tag(out.e_tag)
                            .build(),
                    )
                }
            })
            .buffered(PARTS_IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await;
        let completed = match uploaded {
            Ok(parts) => self
                .client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| map_sdk_error(&target, e))
                .map(|out| out.e_tag),
            Err(e) => Err(e),
        };
        match completed {
            Ok(_) => pending.armed = false,
            // The error reported is the cause; the abort is best effort.
            Err(_) => pending.abort().await,
        }
        completed
    }
}

/// A multipart upload that is aborted unless it completed: explicitly after a failed part,
/// and on drop when the put's future is dropped mid-upload (a cancelled await), so no upload
/// is left behind either way.
struct PendingUpload {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    armed: bool,
}

impl PendingUpload {
    fn request(
        &self,
    ) -> aws_sdk_s3::operation::abort_multipart_upload::builders::AbortMultipartUploadFluentBuilder
    {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
    }

    /// Aborts the upload now.
    async fn abort(&mut self) {
        self.armed = false;
        let _ = self.request().send().await;
    }
}

impl Drop for PendingUpload {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let request = self.request();
            runtime.spawn(async move {
                let _ = request.send().await;
            });
        }
    }
}

impl S3Artifacts {
    /// `GetObject`: the artifact's metadata and its body stream, or `None` if there is none.
    async fn get_object(
        &self,
        operation: &str,
        key: &str,
    ) -> Result<Option<(ArtifactMeta, ByteStream)>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let meta = meta_of(
                    key,
                    out.content_length,
                    out.content_type,
                    out.metadata,
                    out.e_tag,
                    out.last_modified,
                );
                Ok(Some((meta, out.body)))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(map_sdk_error(&self.target(operation, key), e)),
        }
    }

    /// The error for a download that broke off mid-stream.
    fn broken_download(&self, operation: &str, key: &str, e: impl std::fmt::Display) -> Error {
        Error::keyed(
            crate::ErrorKind::Unavailable,
            operation,
            key,
            format!("the download from {} broke off: {e}; retry", self.resource),
        )
    }
}

fn content_type(options: &PutOptions) -> String {
    options
        .content_type
        .clone()
        .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned())
}

fn meta_of(
    key: &str,
    size: Option<i64>,
    content_type: Option<String>,
    metadata: Option<std::collections::HashMap<String, String>>,
    etag: Option<String>,
    last_modified: Option<aws_sdk_s3::primitives::DateTime>,
) -> ArtifactMeta {
    ArtifactMeta {
        key: key.to_owned(),
        size: size.unwrap_or(0).max(0) as u64,
        content_type: content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
        metadata: metadata
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        etag: etag.unwrap_or_default().trim_matches('"').to_owned(),
        last_modified: from_ms(
            last_modified
                .and_then(|t| t.to_millis().ok())
                .unwrap_or_else(now_ms),
        ),
    }
}

#[async_trait]
impl ArtifactBackend for S3Artifacts {
    async fn put(
        &self,
        key: &str,
        payload: PutPayload,
        options: &PutOptions,
    ) -> Result<ArtifactMeta> {
        let (size, etag) = match &payload {
            PutPayload::Bytes(bytes) => {
                let size = bytes.len() as u64;
                let etag = if size <= MULTIPART_THRESHOLD {
                    self.put_single(key, ByteStream::from(bytes.clone()), size, options)
                        .await?
                } else {
                    let part = |offset: u64, length: u64| {
                        let slice = bytes.slice(offset as usize..(offset + length) as usize);
                        async move { Ok(ByteStream::from(slice)) }
                    };
                    self.put_multipart(key, size, options, part).await?
                };
                (size, etag)
            }
            PutPayload::File(path) => {
                let size = std::fs::metadata(path)
                    .map_err(|e| io_error("artifacts.put_file", key, path, e))?
                    .len();
                let read = |offset: u64, length: u64| {
                    let path = path.clone();
                    async move {
                        ByteStream::read_from()
                            .path(&path)
                            .offset(offset)
                            .length(Length::Exact(length))
                            .build()
                            .await
                            .map_err(|e| {
                                Error::invalid_input(
                                    "artifacts.put_file",
                                    key,
                                    format!("cannot read {}: {e}", path.display()),
                                )
                            })
                    }
                };
                let etag = if size <= MULTIPART_THRESHOLD {
                    self.put_single(key, read(0, size).await?, size, options)
                        .await?
                } else {
                    self.put_multipart(key, size, options, read).await?
                };
                (size, etag)
            }
        };
        // Everything but the ETag is what was sent; no HeadObject round trip.
        Ok(meta_of(
            key,
            Some(size as i64),
            options.content_type.clone(),
            Some(options.metadata.clone().into_iter().collect()),
            etag,
            None,
        ))
    }

    async fn get(&self, key: &str) -> Result<Option<(ArtifactMeta, Bytes)>> {
        const OP: &str = "artifacts.get";
        let Some((meta, body)) = self.get_object(OP, key).await? else {
            return Ok(None);
        };
        let data = body
            .collect()
            .await
            .map_err(|e| self.broken_download(OP, key, e))?;
        Ok(Some((meta, data.into_bytes())))
    }

    async fn get_to_file(&self, key: &str, path: &Path) -> Result<Option<ArtifactMeta>> {
        const OP: &str = "artifacts.get_to_file";
        let Some((meta, mut body)) = self.get_object(OP, key).await? else {
            return Ok(None);
        };
        let mut file = AtomicFile::create(path).map_err(|e| io_error(OP, key, path, e))?;
        while let Some(chunk) = body
            .try_next()
            .await
            .map_err(|e| self.broken_download(OP, key, e))?
        {
            file.file()
                .write_all(&chunk)
                .map_err(|e| io_error(OP, key, path, e))?;
        }
        file.commit().map_err(|e| io_error(OP, key, path, e))?;
        Ok(Some(meta))
    }

    async fn head(&self, key: &str) -> Result<Option<ArtifactMeta>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(meta_of(
                key,
                out.content_length,
                out.content_type,
                out.metadata,
                out.e_tag,
                out.last_modified,
            ))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(map_sdk_error(&self.target("artifacts.head", key), e)),
        }
    }

    async fn list(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<BackendPage<ArtifactMeta>> {
        let out = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_start_after(start_after.map(str::to_owned))
            .max_keys(limit as i32)
            .send()
            .await
            .map_err(|e| map_sdk_error(&self.target("artifacts.list", prefix), e))?;
        let keys: Vec<String> = out
            .contents
            .unwrap_or_default()
            .into_iter()
            .filter_map(|o| o.key)
            .collect();
        // ListObjectsV2 carries no content type or user metadata: fill them in with HEADs.
        let metas: Vec<Option<ArtifactMeta>> = futures::stream::iter(keys)
            .map(|k| async move { self.head(&k).await })
            .buffered(HEADS_IN_FLIGHT)
            .try_collect()
            .await?;
        let items: Vec<ArtifactMeta> = metas.into_iter().flatten().collect();
        Ok(BackendPage {
            items,
            more: out.is_truncated.unwrap_or(false),
            resume_after: None,
        })
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let existed = self.head(key).await?.is_some();
        if existed {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| map_sdk_error(&self.target("artifacts.delete", key), e))?;
        }
        Ok(existed)
    }
}
