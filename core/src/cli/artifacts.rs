//! `agent-mesh artifacts put|get|head|list|delete`: files streamed to and from the artifact
//! store with bounded memory, with a progress bar on a terminal for large transfers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use clap::Subcommand;
use serde_json::{Value, json};

use super::exit::{CliResult, Failure};
use super::output::{Output, human_value, note, stdout_is_terminal};
use super::progress::{Direction, Progress};
use crate::artifacts::{ArtifactMeta, PutOptions, not_found};
use crate::client::MeshClient;
use crate::page::ListOptions;
use crate::tools::{artifact_json, is_text, status::bucket, time};

/// Artifact storage.
#[derive(Debug, Subcommand)]
pub enum ArtifactsCommand {
    /// Store FILE (or stdin with -) under KEY, streamed; replaces any artifact there atomically.
    Put {
        /// The artifact key, a relative path such as reports/2024/q1.pdf.
        key: String,
        /// The file to upload, or - for stdin.
        file: PathBuf,
        /// The MIME type (default: guessed from the file name, else application/octet-stream).
        #[arg(long)]
        content_type: Option<String>,
        /// User metadata NAME=VALUE (repeatable; at most 2 KB in total).
        #[arg(long = "metadata", value_name = "NAME=VALUE")]
        metadata: Vec<String>,
    },
    /// Write the artifact under KEY to a file with -o (streamed), or to stdout (read whole).
    Get {
        /// The artifact key.
        key: String,
        /// Write to this file (replaced atomically) instead of stdout; - is stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print an artifact's metadata: size, content type, etag, modified, user metadata.
    Head {
        /// The artifact key.
        key: String,
    },
    /// List the artifacts whose key starts with PREFIX, in key order.
    List {
        /// The key prefix (default: every artifact).
        #[arg(default_value = "")]
        prefix: String,
        /// Artifacts per page (1-1000, default 100).
        #[arg(long)]
        limit: Option<usize>,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<String>,
        /// Follow next_cursor to the end and print every artifact.
        #[arg(long)]
        all: bool,
    },
    /// Delete the artifact under KEY (exit 0 also when there was none).
    Delete {
        /// The artifact key.
        key: String,
    },
}

/// The MIME type for a file name's extension, for puts that name none.
fn guess_content_type(name: &Path) -> Option<&'static str> {
    let extension = name.extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "txt" | "log" => "text/plain",
        "md" | "markdown" => "text/markdown",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "xml" => "application/xml",
        "yaml" | "yml" => "application/yaml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        _ => return None,
    })
}

fn meta_text(meta: &ArtifactMeta) -> String {
    let mut text = format!(
        "{}\n  size: {} bytes\n  content type: {}\n  etag: {}\n  modified: {}",
        meta.key,
        meta.size,
        meta.content_type,
        meta.etag,
        human_value(&time(meta.last_modified))
    );
    for (name, value) in &meta.metadata {
        text.push_str(&format!("\n  metadata {name}: {value}"));
    }
    text
}

async fn put(
    mesh: &MeshClient,
    out: Output,
    key: String,
    file: PathBuf,
    content_type: Option<String>,
    metadata: Vec<String>,
) -> CliResult {
    let mut options = PutOptions {
        content_type: content_type.or_else(|| {
            let named = if file == Path::new("-") {
                Path::new(&key)
            } else {
                &file
            };
            guess_content_type(named).map(str::to_owned)
        }),
        metadata: BTreeMap::new(),
    };
    for pair in metadata {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "artifacts put {key:?}: --metadata {pair:?} is not NAME=VALUE; write e.g. --metadata owner=john"
            ))
        })?;
        options.metadata.insert(name.to_owned(), value.to_owned());
    }
    // stdin is spooled to a private temporary file first, so the upload streams from a file
    // (and a multipart upload can read it again) with bounded memory.
    let spool;
    let path = if file == Path::new("-") {
        let mut temp = tempfile::NamedTempFile::new().map_err(|e| {
            crate::Error::internal(
                "artifacts put",
                format!("cannot create a temporary file for stdin: {e}"),
            )
        })?;
        std::io::copy(&mut std::io::stdin().lock(), temp.as_file_mut()).map_err(|e| {
            Failure::usage(format!("artifacts put {key:?}: cannot read stdin: {e}"))
        })?;
        spool = temp;
        spool.path().to_owned()
    } else {
        file
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let progress = Progress::start(&format!("put {key}"), size, Direction::Upload);
    let stored = mesh.artifacts().put_file(&key, &path, options).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    let meta = stored?;
    let mut value = artifact_json(&meta);
    value["bucket"] = json!(bucket(mesh));
    value["status"] = json!("stored");
    out.either(&value, || {
        format!(
            "stored {} ({} bytes, {})",
            meta.key, meta.size, meta.content_type
        )
    })
}

async fn get(mesh: &MeshClient, out: Output, key: String, output: Option<PathBuf>) -> CliResult {
    if let Some(path) = output.filter(|p| p != Path::new("-")) {
        let size = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            mesh.artifacts().head(&key).await?.map_or(0, |m| m.size)
        } else {
            0
        };
        let progress = Progress::start(&format!("get {key}"), size, Direction::Download);
        let written = mesh.artifacts().get_to_file(&key, &path).await;
        if let Some(progress) = progress {
            progress.finish();
        }
        let meta = written?;
        let mut value = artifact_json(&meta);
        value["path"] = json!(path.display().to_string());
        return out.either(&value, || {
            format!(
                "wrote {} ({} bytes) to {}",
                meta.key,
                meta.size,
                path.display()
            )
        });
    }
    let artifact = mesh
        .artifacts()
        .get(&key)
        .await?
        .ok_or_else(|| not_found("artifacts get", &key))?;
    if out.json {
        let mut value = artifact_json(&artifact.meta);
        let (content, encoding) = match std::str::from_utf8(&artifact.data) {
            Ok(text) if is_text(&artifact.meta.content_type) => (text.to_owned(), "utf-8"),
            _ => (
                base64::engine::general_purpose::STANDARD.encode(&artifact.data),
                "base64",
            ),
        };
        value["content"] = json!(content);
        value["encoding"] = json!(encoding);
        return out.json_line(&value);
    }
    let printable =
        is_text(&artifact.meta.content_type) && std::str::from_utf8(&artifact.data).is_ok();
    if !printable && stdout_is_terminal() {
        return Err(Failure::usage(format!(
            "artifacts get {key:?}: the artifact is binary ({}, {} bytes) and stdout is a terminal; write it to a file with -o FILE, or pipe it",
            artifact.meta.content_type, artifact.meta.size
        )));
    }
    out.bytes(&artifact.data)
}

/// Runs one `artifacts` subcommand.
pub async fn run(mesh: &MeshClient, out: Output, command: ArtifactsCommand) -> CliResult {
    match command {
        ArtifactsCommand::Put {
            key,
            file,
            content_type,
            metadata,
        } => put(mesh, out, key, file, content_type, metadata).await,
        ArtifactsCommand::Get { key, output } => get(mesh, out, key, output).await,
        ArtifactsCommand::Head { key } => {
            let meta = mesh
                .artifacts()
                .head(&key)
                .await?
                .ok_or_else(|| not_found("artifacts head", &key))?;
            out.either(&artifact_json(&meta), || meta_text(&meta))
        }
        ArtifactsCommand::List {
            prefix,
            limit,
            cursor,
            all,
        } => {
            let mut options = ListOptions { limit, cursor };
            let mut objects = Vec::new();
            let next = loop {
                let page = mesh.artifacts().list(&prefix, options.clone()).await?;
                objects.extend(page.items);
                match page.next_cursor {
                    Some(next) if all => options.cursor = Some(next),
                    next => break next,
                }
            };
            if out.json {
                let objects: Vec<Value> = objects.iter().map(artifact_json).collect();
                return out.json_line(&json!({
                    "bucket": bucket(mesh),
                    "prefix": prefix,
                    "count": objects.len(),
                    "objects": objects,
                    "next_cursor": next,
                }));
            }
            let rows: Vec<Vec<String>> = objects
                .iter()
                .map(|m| {
                    vec![
                        m.key.clone(),
                        m.size.to_string(),
                        m.content_type.clone(),
                        human_value(&time(m.last_modified)),
                    ]
                })
                .collect();
            out.table(&["KEY", "SIZE", "CONTENT TYPE", "MODIFIED"], &rows)?;
            if let Some(next) = next {
                note(format!(
                    "more artifacts: --cursor {next} (or --all for every page)"
                ));
            }
            Ok(())
        }
        ArtifactsCommand::Delete { key } => {
            let deleted = mesh.artifacts().delete(&key).await?;
            out.either(&json!({"key": key, "deleted": deleted}), || {
                if deleted {
                    format!("deleted {key}")
                } else {
                    format!("no artifact was stored under {key}")
                }
            })
        }
    }
}
