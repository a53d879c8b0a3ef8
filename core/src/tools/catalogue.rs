//! The catalogue of the tool surface: every tool's name, description and JSON Schema (what
//! `agent-mesh mcp` answers to `tools/list`), the dotted names later versions of the upstream
//! server used, and the camelCase argument spellings they sent.

use std::sync::OnceLock;

use serde_json::{Value, json};

/// One tool of the surface, as an MCP `tools/list` entry describes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolSpec {
    /// The tool name (`mesh_kv_get`, ...).
    pub name: &'static str,
    /// A short human-readable title.
    pub title: &'static str,
    /// What the tool does, what it returns and when to use it, written for a model.
    pub description: &'static str,
    /// The JSON Schema (draft 2020-12 subset) of the arguments object.
    pub input_schema: Value,
    /// Whether the tool only reads (MCP `readOnlyHint`).
    pub read_only: bool,
    /// How to call it, quoted in error messages: `{"key": "...", ...}`.
    pub usage: &'static str,
}

/// The dotted tool names later versions of the upstream server listed, and the `mesh_*` tool
/// each one is an alias of. Their results carry the later camelCase fields too.
pub const ALIASES: &[(&str, &str)] = &[
    ("kv.get", "mesh_kv_get"),
    ("kv.set", "mesh_kv_set"),
    ("artifacts.list", "mesh_artifacts_list"),
    ("artifacts.get", "mesh_artifacts_get"),
    ("artifacts.put", "mesh_artifacts_put"),
    ("events.send", "mesh_event_send"),
    ("workflow.start", "mesh_workflow_start"),
    ("workflow.status", "mesh_workflow_status"),
];

/// camelCase argument names accepted for the snake_case ones (the dotted tools sent
/// `detailType`, `executionArn`, ...). Giving both spellings of one argument is an error.
pub(crate) const CAMEL_ARGUMENTS: &[(&str, &str)] = &[
    ("detailType", "detail_type"),
    ("executionArn", "execution_arn"),
    ("executionName", "execution_name"),
    ("contentType", "content_type"),
    ("ttlHours", "ttl_hours"),
    ("maxKeys", "max_keys"),
];

/// The `mesh_*` tool `name` stands for: itself, or the tool a dotted alias names.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    if let Some(spec) = tool_specs().iter().find(|spec| spec.name == name) {
        return Some(spec.name);
    }
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map(|(_, tool)| *tool)
}

/// The spec of the `mesh_*` tool `name`.
pub fn tool_spec(name: &str) -> Option<&'static ToolSpec> {
    tool_specs().iter().find(|spec| spec.name == name)
}

fn string(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn key(what: &str) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 1024, "description": what})
}

fn page_size(description: &str, default: u64) -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": default, "description": description})
}

fn cursor() -> Value {
    string("The next_cursor of the previous page, to read the next one; omit for the first page.")
}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": true})
}

/// Every `mesh_*` tool, in the order `tools/list` gives them.
pub fn tool_specs() -> &'static [ToolSpec] {
    static SPECS: OnceLock<Vec<ToolSpec>> = OnceLock::new();
    SPECS.get_or_init(all_specs)
}

/// Every tool's spec, group by group.
fn all_specs() -> Vec<ToolSpec> {
    [
        kv_specs(),
        artifact_specs(),
        event_and_timeline_specs(),
        workflow_specs(),
        status_specs(),
    ]
    .concat()
}

/// The key-value tools: get, set, delete and list.
fn kv_specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "mesh_kv_get",
            title: "Read a key",
            description: "Read the value stored under a key in the mesh's key-value memory. Returns {key, value, found}: found is false and value null when the key was never set, was deleted or its TTL ran out. Also returns version, created_at, updated_at and expires_at (epoch seconds, null without TTL).",
            input_schema: object(
                json!({"key": key("The key, e.g. \"user:john:preferences\".")}),
                &["key"],
            ),
            read_only: true,
            usage: r#"{"key": "user:john:preferences"}"#,
        },
        ToolSpec {
            name: "mesh_kv_set",
            title: "Write a key",
            description: "Store a value under a key, replacing any previous value, with a time to live (24 hours unless ttl_hours says otherwise). The value may be any JSON (agents of the upstream server send JSON text such as \"{\\\"timezone\\\": \\\"PST\\\"}\"). A value over 400,000 bytes (up to 64 MiB of JSON) is kept in the artifact store and reads back the same. Returns {key, value, expires_at (epoch seconds), status: \"stored\", version}.",
            input_schema: object(
                json!({
                    "key": key("The key, e.g. \"user:john:preferences\"."),
                    "value": {"description": "The value: any JSON (string, number, boolean, object, array)."},
                    "ttl_hours": {"type": "number", "exclusiveMinimum": 0, "default": 24, "description": "Hours until the item expires (default 24; fractions allowed, e.g. 0.5)."}
                }),
                &["key", "value"],
            ),
            read_only: false,
            usage: r#"{"key": "user:john:preferences", "value": "{\"timezone\": \"PST\"}", "ttl_hours": 720}"#,
        },
        ToolSpec {
            name: "mesh_kv_delete",
            title: "Delete a key",
            description: "Delete the item stored under a key. Returns {key, deleted, success}: deleted is false when there was nothing to delete.",
            input_schema: object(json!({"key": key("The key to delete.")}), &["key"]),
            read_only: false,
            usage: r#"{"key": "user:john:preferences"}"#,
        },
        ToolSpec {
            name: "mesh_kv_list",
            title: "List keys",
            description: "List the live items whose key starts with a prefix, in ascending key order, one page at a time. Returns {prefix, count, items: [{key, value, version, created_at, updated_at, expires_at}], next_cursor}; pass next_cursor back as cursor for the next page (null on the last page).",
            input_schema: object(
                json!({
                    "prefix": string("Only keys starting with this text (default: every key), e.g. \"user:john:\"."),
                    "limit": page_size("Most items per page (default 100, at most 1000).", 100),
                    "cursor": cursor()
                }),
                &[],
            ),
            read_only: true,
            usage: r#"{"prefix": "user:", "limit": 100}"#,
        },
    ]
}

/// The artifact tools: list, get and put.
fn artifact_specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "mesh_artifacts_list",
            title: "List artifacts",
            description: "List stored artifacts (files) whose key starts with a prefix, in ascending key order. Returns {bucket, prefix, count, objects: [{key, size, modified, content_type, etag, metadata}], next_cursor}; pass next_cursor back as cursor for the next page.",
            input_schema: object(
                json!({
                    "prefix": {"type": "string", "default": "", "description": "Only keys starting with this text, e.g. \"documents/\" (default: every artifact)."},
                    "max_keys": page_size("Most artifacts per page (default 100, at most 1000).", 100),
                    "cursor": cursor()
                }),
                &[],
            ),
            read_only: true,
            usage: r#"{"prefix": "documents/"}"#,
        },
        ToolSpec {
            name: "mesh_artifacts_get",
            title: "Read an artifact",
            description: "Read an artifact (a stored file) in full. Returns {key, content, content_type, size, encoding, modified, found}: content is text when the content type is text, JSON, XML or YAML (encoding \"utf-8\"), else base64 (encoding \"base64\"). found is false and content null when no artifact has the key.",
            input_schema: object(
                json!({"key": key("The artifact key, e.g. \"documents/contract.pdf\".")}),
                &["key"],
            ),
            read_only: true,
            usage: r#"{"key": "documents/contract.pdf"}"#,
        },
        ToolSpec {
            name: "mesh_artifacts_put",
            title: "Store an artifact",
            description: "Store a file under a key (a relative path such as \"documents/contract.pdf\": no leading '/', no '.' or '..' segments), replacing any previous one atomically. Send text as is, or binary data base64-encoded with encoding \"base64\". Returns {key, bucket, size, content_type, status: \"stored\", etag, modified}.",
            input_schema: object(
                json!({
                    "key": key("The artifact key, a relative path, e.g. \"reports/2024/q1.md\"."),
                    "content": string("The content: text, or base64 when encoding is \"base64\"."),
                    "content_type": {"type": "string", "default": "text/plain", "description": "The MIME type (default \"text/plain\"), e.g. \"application/pdf\"."},
                    "encoding": {"type": "string", "enum": ["utf-8", "base64"], "default": "utf-8", "description": "How content is encoded: \"utf-8\" text (default) or \"base64\" for binary data."}
                }),
                &["key", "content"],
            ),
            read_only: false,
            usage: r##"{"key": "notes/summary.md", "content": "# Summary", "content_type": "text/markdown"}"##,
        },
    ]
}

/// The event tool and the timeline tool.
fn event_and_timeline_specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "mesh_event_send",
            title: "Send an event",
            description: "Publish an event (EventBridge semantics) that subscribers matching its detail_type, source or detail receive; it is also appended to the timeline under events/<source>/<detail_type>. Returns {event_id, detail_type, source, status: \"sent\"}.",
            input_schema: object(
                json!({
                    "detail_type": string("What happened, e.g. \"OrderCreated\" or \"DocumentUploaded\"."),
                    "detail": {"type": "object", "description": "The event's data, a JSON object, e.g. {\"order_id\": \"ord-123\"}."},
                    "source": {"type": "string", "default": "mcp-client", "description": "Who sends it (default \"mcp-client\"); names starting with \"aws.\" are refused."},
                    "stream": string("Timeline stream to append the event to instead of events/<source>/<detail_type>, e.g. \"user/user123/orders\".")
                }),
                &["detail_type", "detail"],
            ),
            read_only: false,
            usage: r#"{"detail_type": "OrderCreated", "detail": {"order_id": "ord-123"}, "source": "shop"}"#,
        },
        ToolSpec {
            name: "mesh_timeline_get",
            title: "Read the timeline",
            description: "Read the newest timeline entries whose stream starts with a prefix (streams are slash paths such as \"user/user123/profile\"; sent events are under \"events/<source>/<detail_type>\"). Returns {timeline_events: [{key, timestamp, data, stream, id}], prefix, count, next_cursor}, newest first; key is <stream>/<id>.",
            input_schema: object(
                json!({
                    "prefix": string("Stream prefix, e.g. \"user/user123/\" (default: the whole timeline)."),
                    "max_keys": page_size("Most entries to return (default 10, at most 1000).", 10),
                    "cursor": cursor()
                }),
                &[],
            ),
            read_only: true,
            usage: r#"{"prefix": "user/user123/", "max_keys": 50}"#,
        },
    ]
}

/// The workflow tools: start and status.
fn workflow_specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "mesh_workflow_start",
            title: "Start a workflow",
            description: "Start an execution of a workflow (an Amazon States Language state machine created beforehand with `agent-mesh workflows create` or the SDK). Returns {execution_arn, name, state_machine, start_date, status: \"RUNNING\"}; poll mesh_workflow_status with the execution_arn for the result.",
            input_schema: object(
                json!({
                    "name": string("The state machine's name, e.g. \"content-moderation\"."),
                    "input": {"description": "The execution's input, any JSON (default {})."},
                    "execution_name": string("A name for the execution, unique per state machine (default: a random id).")
                }),
                &["name"],
            ),
            read_only: false,
            usage: r#"{"name": "content-moderation", "input": {"content_id": "c1"}}"#,
        },
        ToolSpec {
            name: "mesh_workflow_status",
            title: "Workflow status",
            description: "Describe a workflow execution. Returns {execution_arn, name, state_machine, status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED), input, output, error, cause, start_date, stop_date}.",
            input_schema: object(
                json!({"execution_arn": string("The execution_arn mesh_workflow_start returned.")}),
                &["execution_arn"],
            ),
            read_only: true,
            usage: r#"{"execution_arn": "arn:aws:states:...:execution:content-moderation:run-1"}"#,
        },
    ]
}

/// The mesh's own status tool.
fn status_specs() -> Vec<ToolSpec> {
    vec![ToolSpec {
        name: "mesh_status",
        title: "Mesh status",
        description: "Report which mesh this is and whether it answers: {status (\"ok\" or \"degraded\"), backend, environment, region, infrastructure (the table, bucket and bus names), timestamp, probe (a live read of each store with its latency and any error), version, tools}.",
        input_schema: object(json!({}), &[]),
        read_only: true,
        usage: "{}",
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_a_schema_a_description_and_a_usage_that_parses() {
        assert_eq!(tool_specs().len(), crate::tools::TOOLS.len());
        for (spec, name) in tool_specs().iter().zip(crate::tools::TOOLS) {
            assert_eq!(spec.name, *name);
            assert!(spec.description.len() > 60, "{}", spec.name);
            assert_eq!(spec.input_schema["type"], "object", "{}", spec.name);
            let usage: Value = serde_json::from_str(spec.usage).unwrap();
            for required in spec.input_schema["required"].as_array().unwrap() {
                let required = required.as_str().unwrap();
                assert!(usage.get(required).is_some(), "{}: {required}", spec.name);
                assert!(
                    spec.input_schema["properties"].get(required).is_some(),
                    "{}: {required}",
                    spec.name
                );
            }
        }
        for (alias, tool) in ALIASES {
            assert_eq!(canonical_name(alias), Some(*tool));
        }
        assert_eq!(canonical_name("mesh_nope"), None);
    }
}
