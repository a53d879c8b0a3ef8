//! `agent-mesh workflows create|start|describe|history|list|stop|run` (`workflow` is accepted
//! too, so `agent-mesh workflow run def.json` works as before).

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde_json::{Value, json};

use super::exit::{CliResult, Failure};
use super::output::{
    Output, execution_json, execution_text, history_json, human_value, note, read_json_arg,
};
use crate::client::MeshClient;
use crate::config::MeshConfig;
use crate::page::ListOptions;
use crate::tools::time;
use crate::workflows::{
    Execution, ExecutionStatus, ListExecutionsOptions, StartOptions, Workflows,
};

/// Workflows: Amazon States Language state machines and their executions.
#[derive(Debug, Subcommand)]
pub enum WorkflowsCommand {
    /// Create (or replace) the state machine NAME from an ASL definition.
    Create {
        /// The state machine's name.
        name: String,
        /// The definition: a JSON file path, @FILE, - for stdin, or the JSON text itself.
        definition: String,
    },
    /// Start an execution of the state machine NAME; prints its ARN. On the local and memory
    /// backends the embedded engine runs it in this process, so the command stays until the
    /// execution ends (Ctrl-C leaves it to the next process that opens the mesh).
    Start {
        /// The state machine's name.
        name: String,
        /// The input: JSON text, @FILE or - (default {}).
        #[arg(long, default_value = "{}")]
        input: String,
        /// The execution's name (default: a random id).
        #[arg(long)]
        execution_name: Option<String>,
        /// Wait until the execution ends and print it (exit 1 unless it SUCCEEDED).
        #[arg(long)]
        wait: bool,
        /// With --wait, give up waiting after this many seconds (exit 0 with status RUNNING).
        #[arg(long, requires = "wait")]
        timeout: Option<f64>,
    },
    /// Print an execution: status, input, output, error and cause.
    Describe {
        /// The execution ARN.
        arn: String,
    },
    /// Print an execution's history events, oldest first.
    History {
        /// The execution ARN.
        arn: String,
    },
    /// List the executions of the state machine NAME, newest first.
    List {
        /// The state machine's name.
        name: String,
        /// Only executions with this status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED).
        #[arg(long)]
        status: Option<String>,
        /// Executions per page (1-1000, default 100).
        #[arg(long)]
        limit: Option<usize>,
        /// The next_cursor of the previous page.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Stop a running execution (it ends ABORTED).
    Stop {
        /// The execution ARN.
        arn: String,
        /// The error name to record.
        #[arg(long)]
        error: Option<String>,
        /// The cause to record.
        #[arg(long)]
        cause: Option<String>,
    },
    /// Run an ASL definition file once and print its output JSON (exit 1 with error and cause
    /// if it fails, 2 if the definition is invalid). Runs on memory:// unless --mesh or --url
    /// names a mesh (whose workers then serve activities).
    Run {
        /// The definition file.
        definition: PathBuf,
        /// The input: JSON text or @FILE (default {}).
        #[arg(long, default_value = "{}")]
        input: String,
        /// The mesh to run on (default memory://; --url works too).
        #[arg(long, value_name = "URL")]
        mesh: Option<String>,
        /// Print the execution's history events on stderr.
        #[arg(long)]
        history: bool,
    },
}

/// A definition argument: a path to a JSON file (as `create def.json` is usually typed),
/// `@FILE`, `-`, or JSON text.
fn read_definition(arg: &str) -> CliResult<Value> {
    let path = std::path::Path::new(arg);
    if !arg.starts_with('@') && arg != "-" && !arg.trim_start().starts_with('{') && path.is_file() {
        return read_json_arg("the definition", &format!("@{arg}"));
    }
    read_json_arg("the definition", arg)
}

/// Prints a finished (or timed-out) execution; exit 1 unless it succeeded or still runs.
fn finished(out: Output, execution: &Execution) -> CliResult {
    out.either(&execution_json(execution), || execution_text(execution))?;
    match execution.status {
        ExecutionStatus::Succeeded | ExecutionStatus::Running => Ok(()),
        status => Err(Failure::failed(format!(
            "execution {} {status}: {}: {}",
            execution.name,
            execution.error.as_deref().unwrap_or(""),
            execution.cause.as_deref().unwrap_or("")
        ))),
    }
}

/// `workflows run`: today's `workflow run` behaviour, on the mesh it opens itself.
pub async fn run_definition(
    url: &str,
    tenant: Option<&str>,
    out: Output,
    definition: PathBuf,
    input: String,
    history: bool,
) -> CliResult {
    let input = read_json_arg("the input", &input)?;
    let definition = read_json_arg("the definition", &format!("@{}", definition.display()))?;
    let mesh = super::in_scope(MeshClient::connect(url).await?, tenant)?;
    let wf = mesh.workflows();
    wf.create("cli", definition).await?;
    let run = wf.start("cli", input, StartOptions::default()).await?;
    let done = wf.wait(&run.arn, None::<Duration>).await?;
    if history {
        for event in wf.history(&run.arn).await? {
            note(format!(
                "{:>4} {:<28} {}",
                event.id, event.event_type, event.details
            ));
        }
    }
    match done.status {
        ExecutionStatus::Succeeded => {
            let output = done.output.unwrap_or(Value::Null);
            out.line(output)
        }
        status => {
            if out.json {
                out.json_line(&execution_json(&done))?;
            }
            Err(Failure::failed(format!(
                "execution {status}: {}: {}",
                done.error.unwrap_or_default(),
                done.cause.unwrap_or_default()
            )))
        }
    }
}

/// Runs one `workflows` subcommand (except `run`, see [`run_definition`]).
pub async fn run(mesh: &MeshClient, out: Output, command: WorkflowsCommand) -> CliResult {
    let workflows = mesh.workflows();
    match command {
        WorkflowsCommand::Create { name, definition } => {
            let info = workflows
                .create(&name, read_definition(&definition)?)
                .await?;
            out.either(&json!({"name": info.name, "arn": info.arn}), || {
                format!("created {} ({})", info.name, info.arn)
            })
        }
        WorkflowsCommand::Start {
            name,
            input,
            execution_name,
            wait,
            timeout,
        } => start(mesh, out, &name, &input, execution_name, wait, timeout).await,
        WorkflowsCommand::Describe { arn } => {
            let execution = workflows.describe(&arn).await?;
            out.either(&execution_json(&execution), || execution_text(&execution))
        }
        WorkflowsCommand::History { arn } => history(workflows, out, &arn).await,
        WorkflowsCommand::List {
            name,
            status,
            limit,
            cursor,
        } => list(workflows, out, &name, status, ListOptions { limit, cursor }).await,
        WorkflowsCommand::Stop { arn, error, cause } => {
            let execution = workflows
                .stop(&arn, error.as_deref(), cause.as_deref())
                .await?;
            out.either(&execution_json(&execution), || execution_text(&execution))
        }
        WorkflowsCommand::Run { .. } => Err(Failure::usage(
            "workflows run is handled before the mesh opens; this is a bug, please report it",
        )),
    }
}

/// `workflows start`: starts an execution, then waits for it with `--wait` or when this process
/// runs it (the embedded engine).
async fn start(
    mesh: &MeshClient,
    out: Output,
    name: &str,
    input: &str,
    execution_name: Option<String>,
    wait: bool,
    timeout: Option<f64>,
) -> CliResult {
    let workflows = mesh.workflows();
    let input = read_json_arg("the input", input)?;
    let options = StartOptions {
        name: execution_name,
    };
    let run = workflows.start(name, input, options).await?;
    if wait {
        let timeout = timeout
            .map(|s| crate::validate::timeout("workflows start", name, s))
            .transpose()?;
        let done = workflows.wait(&run.arn, timeout).await?;
        return finished(out, &done);
    }
    let value = json!({
        "execution_arn": run.arn,
        "name": run.name,
        "state_machine": name,
        "start_date": time(run.start_date),
        "status": "RUNNING",
    });
    out.either(&value, || run.arn.clone())?;
    if !matches!(mesh.config(), MeshConfig::Aws(_)) {
        // The embedded engine runs the execution in this process: leaving now would
        // leave it to whichever process opens the mesh next. Stay until it ends.
        note(
            "agent-mesh: the embedded engine runs this execution in this process; waiting for it to end (Ctrl-C leaves it to the next process that opens the mesh)",
        );
        tokio::select! {
            done = workflows.wait(&run.arn, None) => { done?; }
            _ = super::events::interrupted() => {}
        }
    }
    Ok(())
}

/// `workflows history`: an execution's history events, as JSON or one line each.
async fn history(workflows: &Workflows, out: Output, arn: &str) -> CliResult {
    let events = workflows.history(arn).await?;
    if out.json {
        let events: Vec<Value> = events.iter().map(history_json).collect();
        return out.json_line(&json!({"execution_arn": arn, "events": events}));
    }
    for e in &events {
        out.line(format!(
            "{:>4}  {}  {:<28} {}",
            e.id,
            human_value(&time(e.timestamp)),
            e.event_type,
            e.details
        ))?;
    }
    Ok(())
}

/// `workflows list`: one page of a state machine's executions, as JSON or a table.
async fn list(
    workflows: &Workflows,
    out: Output,
    name: &str,
    status: Option<String>,
    page: ListOptions,
) -> CliResult {
    let status = status
        .map(|s| ExecutionStatus::parse("workflows list", &s))
        .transpose()?;
    let options = ListExecutionsOptions { status, page };
    let page = workflows.list_executions(name, options).await?;
    if out.json {
        let executions: Vec<Value> = page.items.iter().map(execution_json).collect();
        return out.json_line(&json!({
            "state_machine": name,
            "count": executions.len(),
            "executions": executions,
            "next_cursor": page.next_cursor,
        }));
    }
    let rows: Vec<Vec<String>> = page
        .items
        .iter()
        .map(|e| {
            vec![
                e.name.clone(),
                e.status.to_string(),
                human_value(&time(e.start_date)),
                e.arn.clone(),
            ]
        })
        .collect();
    out.table(&["NAME", "STATUS", "STARTED", "ARN"], &rows)?;
    if let Some(next) = page.next_cursor {
        note(format!("more executions: --cursor {next}"));
    }
    Ok(())
}
