//! `mesh.workflows`: Amazon States Language state machines, their executions, Task handlers
//! and activity workers written in JavaScript.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::{Value, json};

use crate::errors::{IntoJs, Result};
use crate::events::json_text_or_value;
use crate::handler::{JsHandlerFn, task_handler};
use crate::json::Json;
use crate::promise::{Canceller, abortable, promise};

/// A state machine as `create` stored it.
#[napi(object)]
pub struct StateMachineInfo {
    /// The state machine ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
}

/// What `start` resolves to: enough to `describe`, `wait`, `history` or `stop` the execution.
#[napi(object)]
pub struct ExecutionRef {
    /// The execution ARN.
    pub arn: String,
    /// The execution name.
    pub name: String,
    /// When it started.
    pub start_date: DateTime<Utc>,
}

/// One execution of a state machine.
#[napi(object)]
pub struct Execution {
    /// The execution ARN.
    pub arn: String,
    /// The execution name.
    pub name: String,
    /// The state machine's name.
    pub state_machine: String,
    /// Where it is.
    #[napi(ts_type = "'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'")]
    pub status: String,
    /// The input.
    #[napi(ts_type = "any")]
    pub input: Json,
    /// The output (parsed JSON), once `SUCCEEDED`.
    #[napi(ts_type = "any")]
    pub output: Option<Json>,
    /// The error name, once `FAILED`, `TIMED_OUT` or `ABORTED` (if given).
    pub error: Option<String>,
    /// The cause text that goes with `error`.
    pub cause: Option<String>,
    /// When it started.
    pub start_date: DateTime<Utc>,
    /// When it ended, or null while it runs.
    pub stop_date: Option<DateTime<Utc>>,
}

impl From<agent_mesh::Execution> for Execution {
    fn from(e: agent_mesh::Execution) -> Self {
        Execution {
            arn: e.arn,
            name: e.name,
            state_machine: e.state_machine,
            status: e.status.as_str().to_owned(),
            input: Json(e.input),
            output: e.output.map(Json),
            error: e.error,
            cause: e.cause,
            start_date: e.start_date,
            stop_date: e.stop_date,
        }
    }
}

/// One history event, named and detailed as Step Functions does.
#[napi(object)]
pub struct HistoryEvent {
    /// 1, 2, 3, ... in order.
    pub id: i64,
    /// The id of the event this one follows (0 for the first).
    pub previous_event_id: i64,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// `'ExecutionStarted'`, `'PassStateEntered'`, `'TaskSucceeded'`, ...
    #[napi(js_name = "type")]
    pub event_type: String,
    /// The event's details (Step Functions' `...EventDetails` object).
    #[napi(ts_type = "any")]
    pub details: Json,
}

impl From<agent_mesh::HistoryEvent> for HistoryEvent {
    fn from(e: agent_mesh::HistoryEvent) -> Self {
        HistoryEvent {
            id: e.id as i64,
            previous_event_id: e.previous_event_id as i64,
            timestamp: e.timestamp,
            event_type: e.event_type,
            details: Json(e.details),
        }
    }
}

/// One page of executions.
#[napi(object)]
pub struct ExecutionPage {
    /// The executions, newest first.
    pub items: Vec<Execution>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Options of `workflows.start`.
#[napi(object)]
#[derive(Default)]
pub struct StartOptions {
    /// The execution name (1-80 letters, digits, `-`, `_`); a UUID when omitted.
    pub execution_name: Option<String>,
}

/// Options of `workflows.wait`.
#[napi(object)]
#[derive(Default)]
pub struct WaitOptions {
    /// Resolve with the execution still `RUNNING` if it has not finished after this long.
    pub timeout_ms: Option<f64>,
}

/// Options of `workflows.stop`.
#[napi(object)]
#[derive(Default)]
pub struct StopOptions {
    /// The error name recorded on the aborted execution.
    pub error: Option<String>,
    /// The cause text recorded with it.
    pub cause: Option<String>,
}

/// Options of `workflows.listExecutions`.
#[napi(object)]
#[derive(Default)]
pub struct ListExecutionsOptions {
    /// Only executions with this status.
    #[napi(ts_type = "'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'")]
    pub status: Option<String>,
    /// Most executions per page (default 100, at most 1000).
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// The workflows namespace of a `MeshClient`.
#[napi]
pub struct Workflows {
    mesh: agent_mesh::MeshClient,
}

impl Workflows {
    pub(crate) fn new(mesh: agent_mesh::MeshClient) -> Self {
        Workflows { mesh }
    }
}

#[napi]
impl Workflows {
    /// Creates the state machine `name` from an ASL definition (an object or JSON text), or
    /// replaces its definition. Every problem of the definition rejects with `InvalidInput`
    /// naming the state and field.
    #[napi(ts_args_type = "name: string, definition: object | string")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        name: String,
        definition: Value,
    ) -> Result<PromiseRaw<'env, StateMachineInfo>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let info = mesh.workflows().create(&name, definition).await.js()?;
            Ok(StateMachineInfo {
                arn: info.arn,
                name: info.name,
            })
        })
    }

    /// Starts an execution of the state machine `name` with `input` (an object or JSON text;
    /// `{}` when omitted).
    #[napi(ts_args_type = "name: string, input?: any, options?: StartOptions")]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        name: String,
        input: Option<Value>,
        options: Option<StartOptions>,
    ) -> Result<PromiseRaw<'env, ExecutionRef>> {
        let input = match input {
            Some(input) => json_text_or_value("workflows.start", "input", input)?,
            None => json!({}),
        };
        let options = agent_mesh::StartOptions::default()
            .with_name(options.unwrap_or_default().execution_name);
        let mesh = self.mesh.clone();
        promise(env, async move {
            let started = mesh.workflows().start(&name, input, options).await.js()?;
            Ok(ExecutionRef {
                arn: started.arn,
                name: started.name,
                start_date: started.start_date,
            })
        })
    }

    /// The execution's current state.
    #[napi]
    pub fn describe<'env>(
        &self,
        env: &'env Env,
        arn: String,
    ) -> Result<PromiseRaw<'env, Execution>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            Ok(mesh.workflows().describe(&arn).await.js()?.into())
        })
    }

    /// Waits until the execution is no longer running and resolves to it; with `timeoutMs`,
    /// resolves to it still `RUNNING` if it has not finished by then. Aborting `signal` gives
    /// up the wait (the execution goes on).
    #[napi(
        ts_args_type = "arn: string, options?: WaitOptions | undefined | null, signal?: AbortSignal | undefined | null"
    )]
    pub fn wait<'env>(
        &self,
        env: &'env Env,
        arn: String,
        options: Option<WaitOptions>,
        signal: Option<&Canceller>,
    ) -> Result<PromiseRaw<'env, Execution>> {
        let timeout = match options.unwrap_or_default().timeout_ms {
            Some(ms) => Some(crate::errors::timeout_ms("workflows.wait", &arn, ms)?),
            None => None,
        };
        let mesh = self.mesh.clone();
        abortable(
            env,
            async move { Ok(mesh.workflows().wait(&arn, timeout).await.js()?.into()) },
            signal,
        )
    }

    /// Every history event of the execution, oldest first.
    #[napi]
    pub fn history<'env>(
        &self,
        env: &'env Env,
        arn: String,
    ) -> Result<PromiseRaw<'env, Vec<HistoryEvent>>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let events = mesh.workflows().history(&arn).await.js()?;
            Ok(events.into_iter().map(Into::into).collect())
        })
    }

    /// Stops a running execution (`ABORTED`, with the optional error and cause); resolves to it.
    #[napi]
    pub fn stop<'env>(
        &self,
        env: &'env Env,
        arn: String,
        options: Option<StopOptions>,
    ) -> Result<PromiseRaw<'env, Execution>> {
        let StopOptions { error, cause } = options.unwrap_or_default();
        let mesh = self.mesh.clone();
        promise(env, async move {
            let stopped = mesh
                .workflows()
                .stop(&arn, error.as_deref(), cause.as_deref())
                .await
                .js()?;
            Ok(stopped.into())
        })
    }

    /// Executions of the state machine `name`, newest first, one page at a time.
    #[napi]
    pub fn list_executions<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<ListExecutionsOptions>,
    ) -> Result<PromiseRaw<'env, ExecutionPage>> {
        const OP: &str = "workflows.list_executions";
        let o = options.unwrap_or_default();
        let status = match o.status.as_deref() {
            Some(s) => Some(agent_mesh::ExecutionStatus::parse(OP, s).js()?),
            None => None,
        };
        let options = agent_mesh::ListExecutionsOptions::default()
            .with_status(status)
            .with_page(
                agent_mesh::ListOptions::default()
                    .with_limit(o.limit.map(|l| l as usize))
                    .with_cursor(o.cursor),
            );
        let mesh = self.mesh.clone();
        promise(env, async move {
            let page = mesh
                .workflows()
                .list_executions(&name, options)
                .await
                .js()?;
            Ok(ExecutionPage {
                items: page.items.into_iter().map(Into::into).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }

    /// Serves Task states in this process with `handler(input, context)`, which returns the
    /// result or a Promise of it, or throws (rejects) to fail the task with `error` =
    /// `err.error ?? err.name` and `cause` = `err.message`. `name` is matched against the
    /// Task's `Resource`, the `FunctionName` of `lambda:invoke` and the `TaskDefinition` of
    /// `ecs:runTask`. Local and memory backends only. The handler does not keep Node running.
    #[napi(ts_args_type = "name: string, handler: (input: any, context: any) => unknown")]
    pub fn register(&self, name: String, handler: JsHandlerFn<'_>) -> Result<()> {
        let handler = task_handler(handler)?;
        self.mesh.workflows().register(&name, handler).js()
    }

    /// The ARN of the activity `name` (created if needed).
    #[napi]
    pub fn create_activity<'env>(
        &self,
        env: &'env Env,
        name: String,
    ) -> Result<PromiseRaw<'env, String>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            mesh.workflows().create_activity(&name).await.js()
        })
    }

    /// Runs `handler(input, context)` for every task of the activity `activity` (a name or an
    /// activity ARN) until `worker.stop()`; results and throws complete the task as with
    /// `register`. `context.Task.Token` is the task token (for `sendTaskHeartbeat`). A worker
    /// does not keep Node running.
    #[napi(ts_args_type = "activity: string, handler: (input: any, context: any) => unknown")]
    pub fn worker<'env>(
        &self,
        env: &'env Env,
        activity: String,
        handler: JsHandlerFn<'_>,
    ) -> Result<PromiseRaw<'env, Worker>> {
        let handler = task_handler(handler)?;
        let mesh = self.mesh.clone();
        promise(env, async move {
            let worker = mesh.workflows().worker(&activity, handler).await.js()?;
            let id = NEXT_WORKER.fetch_add(1, Ordering::Relaxed);
            workers().insert(id, worker);
            Ok(Worker { id })
        })
    }

    /// Completes the waiting task `token` (an activity task or a `.waitForTaskToken` callback)
    /// with `output` (a value, or JSON text).
    #[napi(
        ts_args_type = "token: string, output: any",
        ts_return_type = "Promise<void>"
    )]
    pub fn send_task_success<'env>(
        &self,
        env: &'env Env,
        token: String,
        output: Value,
    ) -> Result<PromiseRaw<'env, ()>> {
        let output = json_text_or_value("workflows.send_task_success", "output", output)?;
        let mesh = self.mesh.clone();
        promise(env, async move {
            mesh.workflows()
                .send_task_success(&token, output)
                .await
                .js()
        })
    }

    /// Fails the waiting task `token` with `error` (matched by `Retry`/`Catch`) and `cause`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn send_task_failure<'env>(
        &self,
        env: &'env Env,
        token: String,
        error: String,
        cause: Option<String>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            let cause = cause.unwrap_or_default();
            mesh.workflows()
                .send_task_failure(&token, &error, &cause)
                .await
                .js()
        })
    }

    /// Reports that the task `token` is still being worked on (resets `HeartbeatSeconds`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn send_task_heartbeat<'env>(
        &self,
        env: &'env Env,
        token: String,
    ) -> Result<PromiseRaw<'env, ()>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            mesh.workflows().send_task_heartbeat(&token).await.js()
        })
    }
}

/// Running activity workers by id. A worker runs until `stop()`, not until its JavaScript
/// object is garbage-collected.
static WORKERS: LazyLock<Mutex<HashMap<u64, agent_mesh::Worker>>> = LazyLock::new(Default::default);

static NEXT_WORKER: AtomicU64 = AtomicU64::new(1);

fn workers() -> std::sync::MutexGuard<'static, HashMap<u64, agent_mesh::Worker>> {
    WORKERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running activity worker (from `workflows.worker`).
#[napi]
pub struct Worker {
    id: u64,
}

#[napi]
impl Worker {
    /// Stops the worker: it takes no new task once its poll in progress has ended, and a task
    /// being handled is still completed. Resolves once it has stopped. Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let worker = workers().remove(&self.id);
        promise(env, async move {
            if let Some(worker) = worker {
                worker.stop();
                worker.stopped().await;
            }
            Ok(())
        })
    }

    /// Whether the worker is still polling for tasks.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        workers().contains_key(&self.id)
    }
}
