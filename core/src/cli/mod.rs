//! The `agent-mesh` command line: `kv`, `artifacts`, `events`, `timeline`, `workflows`,
//! `provision`, `status`, `call` and `mcp` over any mesh (`--url` or `AGENT_MESH_URL`), with
//! human-readable output by default and `--json` for machines. One implementation, installed
//! three ways: `cargo install --path core` (this crate's `agent-mesh` binary), `pip install
//! ./bindings-python` (a console script calling `agent_mesh._agent_mesh.cli_main`) and the npm
//! package's `bin` (calling the addon's `cliMain`). Exit codes: [`exit::TABLE`].

pub mod exit;

mod artifacts;
mod events;
mod kv;
mod output;
mod progress;
mod workflows;

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use self::exit::{CliResult, Failure};
use self::output::{Output, note, read_json_arg};
use crate::client::MeshClient;
use crate::mcp::{HttpOptions, serve_http, serve_stdio};

/// `agent-mesh`: key-value memory, artifacts, events, a timeline and workflows for AI agents,
/// from the shell, and the mesh as an MCP server.
#[derive(Debug, Parser)]
#[command(
    name = "agent-mesh",
    bin_name = "agent-mesh",
    version,
    about = "Key-value memory, artifacts, events, a timeline and workflows for AI agents, from the shell; `agent-mesh mcp` serves them to MCP assistants.",
    after_help = exit::TABLE
)]
struct Cli {
    /// The mesh: local:///abs/path, local://./rel, memory://, aws://?region=..&endpoint=..
    /// (default: $AGENT_MESH_URL, else the local mesh in $AGENT_MESH_DIR or ./.agent-mesh).
    #[arg(long, global = true, value_name = "URL")]
    url: Option<String>,
    /// Confine the command to a tenant scope: TENANT, or TENANT/AGENT[/SESSION] for a nested
    /// one (default: $AGENT_MESH_TENANT; none: the whole mesh). `mcp` then serves only it.
    #[arg(long, global = true, value_name = "TENANT", env = "AGENT_MESH_TENANT")]
    tenant: Option<String>,
    /// Machine-readable output: one JSON document per command (JSON lines for `tail`), and
    /// errors as JSON on stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Key-value memory: get, set, delete, list.
    #[command(subcommand)]
    Kv(kv::KvCommand),
    /// Artifacts (files): put, get, head, list, delete.
    #[command(subcommand)]
    Artifacts(artifacts::ArtifactsCommand),
    /// Events: send, tail.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// The timeline: get, tail, append.
    #[command(subcommand)]
    Timeline(events::TimelineCommand),
    /// Workflows: create, start, describe, history, list, stop, run.
    #[command(subcommand, alias = "workflow")]
    Workflows(workflows::WorkflowsCommand),
    /// Create the mesh's resources if missing (AWS tables, bucket, bus); a no-op locally.
    Provision,
    /// Which mesh this is (backend, environment, resource names) and a live probe of it.
    Status,
    /// Call a tool of the tool surface, as agents do: call mesh_kv_get '{"key": "k"}'.
    Call {
        /// The tool: mesh_kv_get, mesh_kv_set, ... (or a dotted alias such as kv.get).
        tool: String,
        /// Its arguments: a JSON object, @FILE or - (default {}).
        #[arg(default_value = "{}")]
        arguments: String,
    },
    /// Serve the tool surface as an MCP server: stdio by default, Streamable HTTP with --http.
    Mcp(McpArgs),
    /// Print the least-privilege IAM policy (JSON) of --tenant's agents on AWS.
    IamPolicy,
}

/// Options of `agent-mesh mcp`.
#[derive(Debug, Args)]
struct McpArgs {
    /// Serve Streamable HTTP on HOST:PORT (or PORT, for 127.0.0.1:PORT) at /mcp, with
    /// GET /health, instead of stdio.
    #[arg(long, value_name = "HOST:PORT")]
    http: Option<String>,
    /// The bearer token HTTP clients must send (default: a generated one, printed on stderr).
    /// Prefer the environment variable: a flag shows in `ps`.
    #[arg(long, env = crate::mcp::ENV_TOKEN, hide_env_values = true)]
    token: Option<String>,
    /// A Host header value to accept besides localhost (repeatable; for a public address).
    #[arg(long = "allowed-host", value_name = "HOST", requires = "http")]
    allowed_hosts: Vec<String>,
    /// A browser origin allowed to call the server, e.g. https://app.example.com:443
    /// (repeatable; by default requests carrying an Origin header are refused).
    #[arg(long = "allowed-origin", value_name = "ORIGIN", requires = "http")]
    allowed_origins: Vec<String>,
}

/// `HOST:PORT`, `PORT` or `:PORT` (the last two on 127.0.0.1).
fn listen_address(http: &str) -> String {
    let port = http.strip_prefix(':').unwrap_or(http);
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        format!("127.0.0.1:{port}")
    } else {
        http.to_owned()
    }
}

async fn open(url: Option<&str>) -> CliResult<MeshClient> {
    Ok(match url {
        Some(url) => MeshClient::connect(url).await?,
        None => MeshClient::open().await?,
    })
}

/// `mesh` confined to `tenant` (`TENANT` or `TENANT/AGENT/...`); `mesh` itself without one.
fn in_scope(mut mesh: MeshClient, tenant: Option<&str>) -> CliResult<MeshClient> {
    if let Some(tenant) = tenant.filter(|t| !t.is_empty()) {
        for id in tenant.split('/') {
            mesh = mesh.scope(id)?;
        }
    }
    Ok(mesh)
}

async fn mcp(mesh: MeshClient, args: McpArgs) -> CliResult {
    let Some(http) = args.http else {
        return Ok(serve_stdio(mesh).await?);
    };
    let options = HttpOptions::new(listen_address(&http))
        .with_token(args.token)
        .with_allowed_hosts(args.allowed_hosts)
        .with_allowed_origins(args.allowed_origins);
    let bound = serve_http(mesh, options).await?;
    let addr = bound.local_addr();
    note(format!(
        "agent-mesh mcp: serving MCP over Streamable HTTP at http://{addr}/mcp (health: http://{addr}/health); Ctrl-C stops"
    ));
    if bound.token_generated() {
        note(format!(
            "agent-mesh mcp: bearer token (generated; pass --token or set {} to choose one): {}",
            crate::mcp::ENV_TOKEN,
            bound.token()
        ));
    }
    Ok(bound.serve(events::interrupted()).await?)
}

async fn dispatch(cli: Cli) -> CliResult {
    let out = Output { json: cli.json };
    if let Command::Workflows(workflows::WorkflowsCommand::Run {
        definition,
        input,
        mesh,
        history,
    }) = cli.command
    {
        let url = mesh.or(cli.url).unwrap_or_else(|| "memory://".to_owned());
        return workflows::run_definition(
            &url,
            cli.tenant.as_deref(),
            out,
            definition,
            input,
            history,
        )
        .await;
    }
    let mesh = in_scope(open(cli.url.as_deref()).await?, cli.tenant.as_deref())?;
    match cli.command {
        Command::Kv(command) => kv::run(&mesh, out, command).await,
        Command::Artifacts(command) => artifacts::run(&mesh, out, command).await,
        Command::Events(command) => events::run(&mesh, out, command).await,
        Command::Timeline(command) => events::run_timeline(&mesh, out, command).await,
        Command::Workflows(command) => workflows::run(&mesh, out, command).await,
        Command::Provision => {
            mesh.provision().await?;
            let status = mesh.call("mesh_status", Value::Null).await?;
            out.either(&status, || {
                format!(
                    "provisioned the {} mesh: {}",
                    status["backend"].as_str().unwrap_or("?"),
                    status["infrastructure"]
                )
            })
        }
        Command::Status => {
            let status = mesh.call("mesh_status", Value::Null).await?;
            let degraded = status["status"] != "ok";
            out.either(&status, || status_text(&status))?;
            if degraded {
                return Err(Failure {
                    code: exit::code(crate::ErrorKind::Unavailable),
                    message: "the mesh did not answer every probe (see probe.checks)".into(),
                    kind: Some(crate::ErrorKind::Unavailable),
                });
            }
            Ok(())
        }
        Command::Call { tool, arguments } => {
            let arguments = read_json_arg("the arguments", &arguments)?;
            let result = mesh.call(&tool, arguments).await?;
            if out.json {
                out.json_line(&result)
            } else {
                out.line(serde_json::to_string_pretty(&result).unwrap_or_default())
            }
        }
        Command::Mcp(args) => mcp(mesh, args).await,
        Command::IamPolicy => {
            let policy = mesh.iam_policy()?;
            if out.json {
                out.json_line(&policy)
            } else {
                out.line(serde_json::to_string_pretty(&policy).unwrap_or_default())
            }
        }
    }
}

fn status_text(status: &Value) -> String {
    let mut text = format!(
        "{} mesh ({}), environment {}, region {}\n",
        status["backend"].as_str().unwrap_or("?"),
        status["status"].as_str().unwrap_or("?"),
        status["environment"].as_str().unwrap_or("?"),
        status["region"].as_str().unwrap_or("?"),
    );
    if let Some(names) = status["infrastructure"].as_object() {
        for (name, value) in names {
            text.push_str(&format!("  {name}: {}\n", output::human_value(value)));
        }
    }
    if let Some(checks) = status["probe"]["checks"].as_object() {
        for (store, check) in checks {
            let verdict = match check["error"].as_str() {
                Some(error) => format!("FAILED: {error}"),
                None => "ok".to_owned(),
            };
            text.push_str(&format!(
                "  probe {store}: {verdict} ({} ms)\n",
                check["latency_ms"]
            ));
        }
    }
    text.trim_end().to_owned()
}

/// Whether the command needs a multi-threaded runtime (the HTTP server serves clients in
/// parallel); everything else runs on the calling thread, which answers fastest.
fn wants_threads(cli: &Cli) -> bool {
    matches!(&cli.command, Command::Mcp(args) if args.http.is_some())
}

/// Prints clap's answer to bad usage (or to `--help`/`--version`) and returns its exit code;
/// with `--json`, a usage error is printed as the JSON error document other failures use.
fn usage_error(e: &clap::Error, json: bool) -> i32 {
    let code = e.exit_code();
    if json && e.use_stderr() {
        note(serde_json::json!({"error": {
            "kind": null,
            "message": e.render().to_string().trim_end(),
            "exit_code": code,
        }}));
    } else {
        let _ = e.print();
    }
    code
}

/// Runs the command line `args` (the program name first, as `std::env::args_os()` gives it)
/// and returns the exit code (see [`exit::TABLE`]). Never calls `process::exit` and never
/// panics across the call: the bindings run it inside Python and Node processes.
pub fn main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, args.iter().any(|a| a == "--json")),
    };
    let json = cli.json;
    let runtime = if wants_threads(&cli) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            note(format!("agent-mesh: cannot start the async runtime: {e}"));
            return exit::code(crate::ErrorKind::Internal);
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(dispatch(cli))
    }))
    .unwrap_or_else(|panic| Err(crate::Error::from_panic("agent-mesh", panic.as_ref()).into()));
    // Background tasks (a subscription's poller, the workflow scanner) must not keep the
    // process alive once the command is done.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match outcome {
        Ok(()) => exit::OK,
        Err(failure) => {
            if !failure.message.is_empty() {
                if json {
                    note(serde_json::json!({"error": {
                        "kind": failure.kind.map(crate::ErrorKind::name),
                        "message": failure.message,
                        "exit_code": failure.code,
                    }}));
                } else {
                    note(format!("agent-mesh: {}", failure.message));
                }
            }
            failure.code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_port_listens_on_loopback_only() {
        assert_eq!(listen_address("8080"), "127.0.0.1:8080");
        assert_eq!(listen_address(":0"), "127.0.0.1:0");
        assert_eq!(listen_address("0.0.0.0:80"), "0.0.0.0:80");
        assert_eq!(listen_address("[::1]:9"), "[::1]:9");
    }

    #[test]
    fn usage_errors_exit_2_and_the_security_flags_need_http() {
        assert_eq!(main(["agent-mesh", "--json", "kv", "nope"]), exit::USAGE);
        let stdio_with_origin = ["agent-mesh", "mcp", "--allowed-origin", "https://a.example"];
        assert_eq!(main(stdio_with_origin), exit::USAGE);
    }
}
