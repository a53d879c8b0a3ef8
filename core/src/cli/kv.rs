//! `agent-mesh kv get|set|delete|list`.

use clap::Subcommand;
use serde_json::{Value, json};

use super::exit::{CliResult, Failure};
use super::output::{Output, human_value, note, read_json_arg, read_text_arg, truncate};
use crate::client::MeshClient;
use crate::error::ErrorKind;
use crate::kv::SetOptions;
use crate::page::ListOptions;
use crate::tools::item_json;

/// Key-value memory.
#[derive(Debug, Subcommand)]
pub enum KvCommand {
    /// Print the value stored under KEY (strings bare, other values as JSON; exit 3 if none).
    Get {
        /// The key, e.g. user:john:preferences.
        key: String,
    },
    /// Store VALUE under KEY, replacing what is there.
    Set {
        /// The key.
        key: String,
        /// The value as JSON text ('{"a": 1}', '"text"', 42), @FILE, or - for stdin; with
        /// --string, the text itself.
        value: String,
        /// Store VALUE as a JSON string, without parsing it.
        #[arg(long)]
        string: bool,
        /// Expire the item after this many hours (default: never).
        #[arg(long, conflicts_with = "ttl_seconds")]
        ttl_hours: Option<f64>,
        /// Expire the item after this many seconds.
        #[arg(long)]
        ttl_seconds: Option<f64>,
        /// Write only if the stored version is this one (else exit 4, Conflict).
        #[arg(long, conflicts_with = "if_absent")]
        if_version: Option<u64>,
        /// Write only if no live item has the key (else exit 4, Conflict).
        #[arg(long)]
        if_absent: bool,
    },
    /// Delete the item under KEY (exit 0 also when there was none; --json says `deleted`).
    Delete {
        /// The key.
        key: String,
    },
    /// List the items whose key starts with PREFIX, in key order.
    List {
        /// The key prefix (default: every key).
        #[arg(default_value = "")]
        prefix: String,
        /// Items per page (1-1000, default 100).
        #[arg(long)]
        limit: Option<usize>,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<String>,
        /// Follow next_cursor to the end and print every item.
        #[arg(long)]
        all: bool,
    },
}

/// Runs one `kv` subcommand.
pub async fn run(mesh: &MeshClient, out: Output, command: KvCommand) -> CliResult {
    match command {
        KvCommand::Get { key } => match mesh.kv().get(&key).await? {
            Some(item) => {
                let mut value = item_json(&item);
                value["found"] = json!(true);
                out.either(&value, || human_value(&item.value))
            }
            None => {
                if out.json {
                    out.json_line(&json!({"key": key, "value": null, "found": false}))?;
                }
                Err(crate::Error::keyed(
                    ErrorKind::NotFound,
                    "kv get",
                    &key,
                    "no live item has this key (never set, deleted or expired); `agent-mesh kv list PREFIX` shows what exists",
                )
                .into())
            }
        },
        KvCommand::Set {
            key,
            value,
            string,
            ttl_hours,
            ttl_seconds,
            if_version,
            if_absent,
        } => {
            let value = if string {
                Value::String(read_text_arg("the value", &value)?)
            } else {
                read_json_arg("the value", &value).map_err(|f| {
                    Failure::usage(format!(
                        "kv set {key:?}: {f}; or pass --string to store the text as it is"
                    ))
                })?
            };
            let options = SetOptions::from_parts(
                "kv set",
                &key,
                ttl_seconds,
                ttl_hours,
                if_version,
                if_absent,
            )?;
            let item = mesh.kv().set(&key, value, options).await?;
            let mut value = item_json(&item);
            value["status"] = json!("stored");
            out.either(&value, || {
                let expires = item
                    .expires_at
                    .map(|t| format!(", expires {}", human_value(&crate::tools::time(t))))
                    .unwrap_or_default();
                format!("stored {key} (version {}{expires})", item.version)
            })
        }
        KvCommand::Delete { key } => {
            let deleted = mesh.kv().delete(&key).await?;
            out.either(&json!({"key": key, "deleted": deleted}), || {
                if deleted {
                    format!("deleted {key}")
                } else {
                    format!("nothing was stored under {key}")
                }
            })
        }
        KvCommand::List {
            prefix,
            limit,
            cursor,
            all,
        } => list(mesh, out, &prefix, ListOptions { limit, cursor }, all).await,
    }
}

/// `kv list`: one page, or every page with `--all`, as a table or one JSON document.
async fn list(
    mesh: &MeshClient,
    out: Output,
    prefix: &str,
    mut options: ListOptions,
    all: bool,
) -> CliResult {
    let mut items = Vec::new();
    let next = loop {
        let page = mesh.kv().list(prefix, options.clone()).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if all => options.cursor = Some(next),
            next => break next,
        }
    };
    if out.json {
        let items: Vec<Value> = items.iter().map(item_json).collect();
        return out.json_line(&json!({
            "prefix": prefix,
            "count": items.len(),
            "items": items,
            "next_cursor": next,
        }));
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            vec![
                item.key.clone(),
                item.version.to_string(),
                item.expires_at
                    .map_or("-".to_owned(), |t| human_value(&crate::tools::time(t))),
                truncate(&human_value(&item.value), 60),
            ]
        })
        .collect();
    out.table(&["KEY", "VERSION", "EXPIRES", "VALUE"], &rows)?;
    if let Some(next) = next {
        note(format!(
            "more items: --cursor {next} (or --all for every page)"
        ));
    }
    Ok(())
}
