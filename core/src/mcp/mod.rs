//! `agent-mesh mcp`: the tool surface ([`MeshClient::call`]) as a Model Context Protocol server,
//! on rmcp (the official Rust MCP SDK), over stdio ([`serve_stdio`]) or Streamable HTTP
//! ([`serve_http`], endpoint `/mcp` plus `GET /health`, bearer token required).
//!
//! `tools/list` describes every `mesh_*` tool with a JSON Schema ([`crate::tools::tool_specs`]);
//! the dotted names of later upstream versions (`kv.get`, ...) are accepted by `tools/call`
//! without being listed. A tool that fails answers an error result (`isError: true`) whose text
//! names the tool, the argument and the fix; an unknown tool's lists the tools that exist.

mod http;

use std::sync::Arc;

use futures::FutureExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use crate::client::MeshClient;
use crate::error::{Error, ErrorKind, Result};
use crate::tools::tool_specs;

pub use http::{BoundHttp, ENV_TOKEN, HttpOptions, serve_http};

/// What the server tells clients in `initialize` (models read it).
const INSTRUCTIONS: &str = "agent-mesh: key-value memory with TTL (mesh_kv_*), artifact \
storage (mesh_artifacts_*), events (mesh_event_send), an append-only timeline \
(mesh_timeline_get) and workflows (mesh_workflow_*) shared by AI agents. The tools keep the \
names, arguments and result shapes of the AWS AI Agent Bus MCP server. mesh_status reports \
which mesh this is and whether it answers.";

/// The MCP server: one mesh, every `mesh_*` tool.
#[derive(Clone)]
pub struct MeshMcpServer {
    mesh: MeshClient,
    tools: Arc<Vec<Tool>>,
}

impl std::fmt::Debug for MeshMcpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeshMcpServer")
            .field("mesh", &self.mesh)
            .finish_non_exhaustive()
    }
}

impl MeshMcpServer {
    /// A server for `mesh`.
    pub fn new(mesh: MeshClient) -> Self {
        let tools = tool_specs()
            .iter()
            .map(|spec| {
                let schema = match &spec.input_schema {
                    Value::Object(schema) => schema.clone(),
                    _ => serde_json::Map::new(),
                };
                Tool::new(spec.name, spec.description, Arc::new(schema))
                    .with_title(spec.title)
                    .with_annotations(
                        ToolAnnotations::with_title(spec.title)
                            .read_only(spec.read_only)
                            .open_world(false),
                    )
            })
            .collect();
        MeshMcpServer {
            mesh,
            tools: Arc::new(tools),
        }
    }

    /// Runs one tool call to an MCP result: success with the JSON result as text and as
    /// structured content, or an error result (a panic inside agent-mesh becomes one too).
    pub async fn call_tool_result(&self, name: &str, arguments: Value) -> CallToolResult {
        let outcome = std::panic::AssertUnwindSafe(self.mesh.call(name, arguments))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| Err(Error::from_panic(name, panic.as_ref())));
        match outcome {
            Ok(value) => CallToolResult::structured(value),
            Err(error) => error_result(name, &error),
        }
    }
}

/// The text a failed tool answers: the kind and message (which name the operation, the key or
/// argument, and the fix), prefixed by the tool name when the message does not start with it.
pub fn error_text(tool: &str, error: &Error) -> String {
    let named =
        error.message.starts_with(tool) || error.message.starts_with(&format!("call {tool:?}"));
    if named {
        format!("{}: {}", error.kind, error.message)
    } else {
        format!("{tool} failed: {}: {}", error.kind, error.message)
    }
}

fn error_result(tool: &str, error: &Error) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(error_text(tool, error))]);
    result.structured_content = Some(json!({
        "error": {
            "tool": tool,
            "kind": error.kind.name(),
            "message": error.message,
            "retryable": error.retryable,
        }
    }));
    result
}

impl ServerHandler for MeshMcpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("agent-mesh", env!("CARGO_PKG_VERSION"))
                    .with_title("agent-mesh"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, ErrorData> {
        let arguments = request.arguments.map_or(Value::Null, Value::Object);
        Ok(self.call_tool_result(&request.name, arguments).await.into())
    }
}

/// Serves `mesh` over stdin/stdout until the client closes stdin (the way assistants start a
/// stdio MCP server). Nothing but protocol messages is written to stdout.
pub async fn serve_stdio(mesh: MeshClient) -> Result<()> {
    let transport = rmcp::transport::stdio_pipes();
    let running = MeshMcpServer::new(mesh)
        .serve(transport)
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("mcp (stdio): the MCP handshake with the client failed: {e}"),
            )
        })?;
    running
        .waiting()
        .await
        .map_err(|e| Error::internal("mcp (stdio)", format!("the server task stopped: {e}")))?;
    Ok(())
}
