//! The `mesh_*` tool surface of the upstream MCP server: `MeshClient::call(name, args)` takes
//! the upstream tool names and argument shapes and answers with JSON objects, so agent code
//! written as `mcp.call('mesh_kv_set', {...})` moves over unchanged. The dotted names later
//! versions of that server used (`kv.get`, `events.send` with `detailType`, ...) are aliases;
//! [`tool_specs`] describes every tool with a JSON Schema (what `agent-mesh mcp` lists).

mod catalogue;
mod later;
pub(crate) mod status;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

use crate::client::MeshClient;
use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::kv::{KvItem, SetOptions};
use crate::page::ListOptions;
use crate::timeline::TimelineQuery;
use crate::workflows::StartOptions;
use crate::{ArtifactMeta, PutOptions};

pub use catalogue::{ALIASES, ToolSpec, canonical_name, tool_spec, tool_specs};

/// The tool names `call` accepts.
pub const TOOLS: &[&str] = &[
    "mesh_kv_get",
    "mesh_kv_set",
    "mesh_kv_delete",
    "mesh_kv_list",
    "mesh_artifacts_list",
    "mesh_artifacts_get",
    "mesh_artifacts_put",
    "mesh_event_send",
    "mesh_timeline_get",
    "mesh_workflow_start",
    "mesh_workflow_status",
    "mesh_status",
];

/// The TTL `mesh_kv_set` applies when `ttl_hours` is not given (the upstream default).
const DEFAULT_TTL_HOURS: f64 = 24.0;

/// The source `mesh_event_send` gives events that name none (the upstream default).
const DEFAULT_EVENT_SOURCE: &str = "mcp-client";

/// The entries `mesh_timeline_get` returns when `max_keys` is not given (the upstream default).
const DEFAULT_TIMELINE_KEYS: usize = 10;

/// The arguments of one tool call.
struct Args<'a> {
    /// The name the caller used (a `mesh_*` name or a dotted alias).
    tool: &'a str,
    /// How to call the tool, for messages.
    usage: &'a str,
    map: &'a Map<String, Value>,
}

impl Args<'_> {
    /// `InvalidInput` naming the tool, what is wrong with its arguments and how to call it.
    fn bad(&self, why: String) -> Error {
        Error::new(
            ErrorKind::InvalidInput,
            format!(
                "{}: {why}; call it as {} {}",
                self.tool, self.tool, self.usage
            ),
        )
        .with_context("operation", "call")
        .with_context("tool", self.tool)
    }

    fn str(&self, name: &str) -> Result<&str> {
        self.opt_str(name)?
            .ok_or_else(|| self.bad(format!("the argument \"{name}\" (a string) is missing")))
    }

    fn opt_str(&self, name: &str) -> Result<Option<&str>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.bad(format!("\"{name}\" must be a string, not {other}"))),
        }
    }

    fn opt_f64(&self, name: &str) -> Result<Option<f64>> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("\"{name}\" must be a number, not {v}"))),
        }
    }

    fn limit(&self, name: &str) -> Result<Option<usize>> {
        match self.opt_f64(name)? {
            Some(n) if n >= 1.0 => Ok(Some(n as usize)),
            Some(n) => Err(self.bad(format!("\"{name}\" must be at least 1, not {n}"))),
            None => Ok(None),
        }
    }

    fn value(&self, name: &str) -> Result<Value> {
        self.map
            .get(name)
            .cloned()
            .ok_or_else(|| self.bad(format!("the argument \"{name}\" is missing")))
    }
}

pub(crate) fn time(t: Timestamp) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// A KV item as the tools answer: `expires_at` in epoch seconds (a number), as upstream's
/// DynamoDB TTL attribute; the other times as RFC 3339 text.
pub(crate) fn item_json(item: &KvItem) -> Value {
    json!({
        "key": item.key,
        "value": item.value,
        "version": item.version,
        "created_at": time(item.created_at),
        "updated_at": time(item.updated_at),
        "expires_at": item.expires_at.map(|t| t.timestamp()),
    })
}

/// An artifact's metadata as the tools answer (upstream's `modified` for the write time).
pub(crate) fn artifact_json(meta: &ArtifactMeta) -> Value {
    json!({
        "key": meta.key,
        "size": meta.size,
        "content_type": meta.content_type,
        "metadata": meta.metadata,
        "etag": meta.etag,
        "modified": time(meta.last_modified),
    })
}

/// Whether content of this type is returned as text rather than base64.
pub(crate) fn is_text(content_type: &str) -> bool {
    let t = content_type.to_ascii_lowercase();
    t.starts_with("text/") || t.contains("json") || t.contains("xml") || t.contains("yaml")
}

/// The tool named by `AGENT_MESH_FAILPOINT` panics when called: the hostile-input suites use
/// it to check that a panic inside agent-mesh reaches Python and JavaScript as an `Internal`
/// error and leaves the process running.
fn panic_on_purpose(tool: &str) {
    if crate::failpoint::is_set(tool) {
        panic!("AGENT_MESH_FAILPOINT={tool}: a panic on purpose");
    }
}

/// The JSON type of `value`, for messages that must not print the value itself.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `args` with the camelCase spellings of [`catalogue::CAMEL_ARGUMENTS`] renamed to snake_case;
/// borrowed unchanged when it has none (the common case).
fn snake_case_arguments<'a>(
    tool: &str,
    map: &'a Map<String, Value>,
) -> Result<std::borrow::Cow<'a, Map<String, Value>>> {
    let camel = |name: &str| catalogue::CAMEL_ARGUMENTS.iter().find(|(c, _)| *c == name);
    if !map.keys().any(|k| camel(k).is_some()) {
        return Ok(std::borrow::Cow::Borrowed(map));
    }
    let mut out = Map::new();
    for (name, value) in map {
        let name = match camel(name) {
            Some((camel, snake)) if map.contains_key(*snake) => {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "{tool}: the arguments name both \"{camel}\" and \"{snake}\"; pass one of them"
                    ),
                )
                .with_context("operation", "call")
                .with_context("tool", tool));
            }
            Some((_, snake)) => (*snake).to_owned(),
            None => name.clone(),
        };
        out.insert(name, value.clone());
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// The error for a tool name that is neither a `mesh_*` tool nor an alias.
fn unknown_tool(name: &str) -> Error {
    let aliases: Vec<&str> = ALIASES.iter().map(|(alias, _)| *alias).collect();
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "call {name:?}: no such tool; the tools are {} (also accepted: {})",
            TOOLS.join(", "),
            aliases.join(", ")
        ),
    )
    .with_context("operation", "call")
    .with_context("tool", name)
}

impl MeshClient {
    /// Runs the upstream MCP tool `name` with `args` (a JSON object) and returns its JSON
    /// result, e.g. `call("mesh_kv_get", json!({"key": "k"}))` → `{"key", "value", "found"}`.
    /// See [`TOOLS`] for the names and [`ALIASES`] for the dotted names also accepted (their
    /// results add the camelCase fields later upstream versions returned); an unknown name is
    /// `InvalidInput` listing them.
    pub async fn call(&self, name: &str, args: Value) -> Result<Value> {
        panic_on_purpose(name);
        let Some(tool) = canonical_name(name) else {
            return Err(unknown_tool(name));
        };
        let args = crate::validate::checked_envelope_depth("call", name, "arguments object", args)?;
        let empty = Map::new();
        let map = match &args {
            Value::Object(map) => map,
            Value::Null => &empty,
            other => {
                return Err(Error::invalid_input(
                    "call",
                    name,
                    format!(
                        "the arguments must be a JSON object, not {}",
                        json_type(other)
                    ),
                ));
            }
        };
        let map = snake_case_arguments(name, map)?;
        let usage = tool_spec(tool).map_or("{}", |spec| spec.usage);
        let a = Args {
            tool: name,
            usage,
            map: &map,
        };
        let mut out = self.run_tool(tool, &a).await?;
        if tool != name {
            later::add_later_fields(tool, &mut out);
        }
        Ok(out)
    }

    /// Runs the `mesh_*` tool `tool` with checked arguments.
    async fn run_tool(&self, tool: &str, a: &Args<'_>) -> Result<Value> {
        match tool {
            "mesh_kv_get" | "mesh_kv_set" | "mesh_kv_delete" | "mesh_kv_list" => {
                self.run_kv_tool(tool, a).await
            }
            "mesh_artifacts_list" | "mesh_artifacts_get" | "mesh_artifacts_put" => {
                self.run_artifacts_tool(tool, a).await
            }
            "mesh_event_send" | "mesh_timeline_get" => self.run_events_tool(tool, a).await,
            "mesh_workflow_start" | "mesh_workflow_status" => self.run_workflow_tool(tool, a).await,
            "mesh_status" => Ok(status::status(self).await),
            _ => Err(unknown_tool(tool)),
        }
    }

    /// Runs one of the KV tools.
    async fn run_kv_tool(&self, tool: &str, a: &Args<'_>) -> Result<Value> {
        match tool {
            "mesh_kv_get" => {
                let key = a.str("key")?;
                Ok(match self.kv().get(key).await? {
                    Some(item) => {
                        let mut out = item_json(&item);
                        out["found"] = json!(true);
                        out
                    }
                    None => json!({"key": key, "value": null, "found": false}),
                })
            }
            "mesh_kv_set" => {
                let key = a.str("key")?;
                let hours = a.opt_f64("ttl_hours")?.unwrap_or(DEFAULT_TTL_HOURS);
                let options = SetOptions::from_parts(a.tool, key, None, Some(hours), None, false)?;
                let item = self.kv().set(key, a.value("value")?, options).await?;
                let mut out = item_json(&item);
                out["status"] = json!("stored");
                out["success"] = json!(true);
                Ok(out)
            }
            "mesh_kv_delete" => {
                let key = a.str("key")?;
                let deleted = self.kv().delete(key).await?;
                Ok(json!({"key": key, "deleted": deleted, "success": true}))
            }
            "mesh_kv_list" => {
                let prefix = a.opt_str("prefix")?.unwrap_or("");
                let options = ListOptions {
                    limit: a.limit("limit")?,
                    cursor: a.opt_str("cursor")?.map(str::to_owned),
                };
                let page = self.kv().list(prefix, options).await?;
                let items: Vec<Value> = page.items.iter().map(item_json).collect();
                Ok(
                    json!({"prefix": prefix, "count": items.len(), "items": items, "next_cursor": page.next_cursor}),
                )
            }
            _ => Err(unknown_tool(tool)),
        }
    }

    /// Runs one of the artifact tools.
    async fn run_artifacts_tool(&self, tool: &str, a: &Args<'_>) -> Result<Value> {
        match tool {
            "mesh_artifacts_list" => {
                let prefix = a.opt_str("prefix")?.unwrap_or("");
                let options = ListOptions {
                    limit: a.limit("max_keys")?,
                    cursor: a.opt_str("cursor")?.map(str::to_owned),
                };
                let page = self.artifacts().list(prefix, options).await?;
                let objects: Vec<Value> = page.items.iter().map(artifact_json).collect();
                Ok(json!({
                    "bucket": status::bucket(self),
                    "prefix": prefix,
                    "count": objects.len(),
                    "objects": objects,
                    "next_cursor": page.next_cursor,
                }))
            }
            "mesh_artifacts_get" => {
                let key = a.str("key")?;
                Ok(match self.artifacts().get(key).await? {
                    Some(artifact) => {
                        let mut out = artifact_json(&artifact.meta);
                        let (content, encoding) = match std::str::from_utf8(&artifact.data) {
                            Ok(text) if is_text(&artifact.meta.content_type) => {
                                (text.to_owned(), "utf-8")
                            }
                            _ => (STANDARD.encode(&artifact.data), "base64"),
                        };
                        out["content"] = json!(content);
                        out["encoding"] = json!(encoding);
                        out["found"] = json!(true);
                        out
                    }
                    None => json!({"key": key, "content": null, "found": false}),
                })
            }
            "mesh_artifacts_put" => {
                let key = a.str("key")?;
                let content = a.str("content")?;
                let data = match a.opt_str("encoding")? {
                    Some("base64") => STANDARD.decode(content).map_err(|e| {
                        a.bad(format!("\"content\" is not valid base64 ({e}); send text, or base64 with \"encoding\": \"base64\""))
                    })?,
                    Some("utf-8") | None => content.as_bytes().to_vec(),
                    Some(other) => return Err(a.bad(format!("\"encoding\" must be \"utf-8\" or \"base64\", not {other:?}"))),
                };
                let options = PutOptions {
                    content_type: Some(
                        a.opt_str("content_type")?
                            .unwrap_or("text/plain")
                            .to_owned(),
                    ),
                    metadata: Default::default(),
                };
                let meta = self
                    .artifacts()
                    .put(key, Bytes::from(data), options)
                    .await?;
                let mut out = artifact_json(&meta);
                out["bucket"] = json!(status::bucket(self));
                out["status"] = json!("stored");
                out["success"] = json!(true);
                Ok(out)
            }
            _ => Err(unknown_tool(tool)),
        }
    }

    /// Runs one of the event and timeline tools.
    async fn run_events_tool(&self, tool: &str, a: &Args<'_>) -> Result<Value> {
        match tool {
            "mesh_event_send" => {
                let detail_type = a.str("detail_type")?;
                let source = a.opt_str("source")?.unwrap_or(DEFAULT_EVENT_SOURCE);
                let mut event = Event::new(detail_type, a.value("detail")?).with_source(source);
                event.stream = a.opt_str("stream")?.map(str::to_owned);
                let id = self.events().send(event).await?;
                Ok(json!({
                    "event_id": id,
                    "detail_type": detail_type,
                    "source": source,
                    "status": "sent",
                    "success": true,
                }))
            }
            "mesh_timeline_get" => {
                let prefix = a.opt_str("prefix")?.unwrap_or("");
                let query = TimelineQuery {
                    limit: Some(a.limit("max_keys")?.unwrap_or(DEFAULT_TIMELINE_KEYS)),
                    cursor: a.opt_str("cursor")?.map(str::to_owned),
                    ..Default::default()
                };
                let page = self.timeline().get(prefix, query).await?;
                let events: Vec<Value> = page
                    .items
                    .iter()
                    .map(|e| {
                        json!({
                            "key": format!("{}/{}", e.stream, e.id),
                            "timestamp": time(e.time),
                            "data": e.data,
                            "stream": e.stream,
                            "id": e.id,
                        })
                    })
                    .collect();
                Ok(json!({
                    "timeline_events": events,
                    "prefix": prefix,
                    "count": events.len(),
                    "next_cursor": page.next_cursor,
                }))
            }
            _ => Err(unknown_tool(tool)),
        }
    }

    /// Runs one of the workflow tools.
    async fn run_workflow_tool(&self, tool: &str, a: &Args<'_>) -> Result<Value> {
        match tool {
            "mesh_workflow_start" => {
                let machine = a.str("name")?;
                let input = a.map.get("input").cloned().unwrap_or_else(|| json!({}));
                let options = StartOptions {
                    name: a.opt_str("execution_name")?.map(str::to_owned),
                };
                let run = self.workflows().start(machine, input, options).await?;
                Ok(json!({
                    "execution_arn": run.arn,
                    "name": run.name,
                    "state_machine": machine,
                    "start_date": time(run.start_date),
                    "status": "RUNNING",
                }))
            }
            "mesh_workflow_status" => {
                let execution = self.workflows().describe(a.str("execution_arn")?).await?;
                Ok(json!({
                    "execution_arn": execution.arn,
                    "name": execution.name,
                    "state_machine": execution.state_machine,
                    "status": execution.status.as_str(),
                    "input": execution.input,
                    "output": execution.output,
                    "error": execution.error,
                    "cause": execution.cause,
                    "start_date": time(execution.start_date),
                    "stop_date": execution.stop_date.map(time),
                }))
            }
            _ => Err(unknown_tool(tool)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of [`TOOLS`] reaches a branch of the dispatch (a missing one would answer
    /// "no such tool"), and the dispatch answers nothing else: its fallback is that error.
    #[tokio::test]
    async fn every_listed_tool_is_dispatched() {
        let mesh = MeshClient::connect("memory://").await.unwrap();
        for tool in TOOLS {
            let outcome = mesh.call(tool, json!({})).await;
            if let Err(e) = &outcome {
                assert!(!e.message.contains("no such tool"), "{tool}: {e}");
            }
        }
        let e = mesh.call("mesh_kv_nope", json!({})).await.unwrap_err();
        assert!(e.message.contains("no such tool"), "{e}");
    }
}
