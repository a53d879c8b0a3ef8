//! Results of the dotted tool names (`kv.get`, `events.send`, ...): the `mesh_*` result plus
//! the camelCase fields later versions of the upstream server answered with, so agent code
//! that reads `result.executionArn` or `result.contentType` keeps working.

use serde_json::{Value, json};

/// Copies `from` to the camelCase name `to` if the result has it.
fn copy(out: &mut Value, from: &str, to: &str) {
    if let Some(value) = out.get(from).cloned() {
        out[to] = value;
    }
}

/// Adds the later camelCase fields to `out`, the result of the `mesh_*` tool `tool`.
pub(crate) fn add_later_fields(tool: &str, out: &mut Value) {
    match tool {
        "mesh_kv_set" => out["success"] = json!(true),
        "mesh_artifacts_list" => {
            let items: Vec<Value> = out["objects"]
                .as_array()
                .map(|objects| {
                    objects
                        .iter()
                        .map(|o| json!({"key": o["key"], "size": o["size"], "lastModified": o["modified"], "etag": o["etag"]}))
                        .collect()
                })
                .unwrap_or_default();
            out["items"] = Value::Array(items);
        }
        "mesh_artifacts_get" => {
            copy(out, "content_type", "contentType");
            copy(out, "modified", "lastModified");
        }
        "mesh_artifacts_put" => copy(out, "content_type", "contentType"),
        "mesh_event_send" => {
            copy(out, "event_id", "eventId");
            out["success"] = json!(true);
            out["timestamp"] =
                json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        "mesh_workflow_start" | "mesh_workflow_status" => {
            copy(out, "execution_arn", "executionArn");
            copy(out, "start_date", "startDate");
            copy(out, "stop_date", "stopDate");
        }
        _ => {}
    }
}
