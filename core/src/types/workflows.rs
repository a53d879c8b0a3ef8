//! Workflows: executions, history, task handlers and their requests. Shared by the public API and the backends, so neither imports the
//! other for them.

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::page::ListOptions;
use futures::future::BoxFuture;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// The status of an execution, as Step Functions names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExecutionStatus {
    /// Still running.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Ran past the state machine's `TimeoutSeconds`.
    TimedOut,
    /// Stopped by `stop`.
    Aborted,
}

impl ExecutionStatus {
    /// `"RUNNING"`, `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// Parses a status name (as [`ExecutionStatus::as_str`] spells it).
    pub fn parse(operation: &str, text: &str) -> Result<ExecutionStatus> {
        Ok(match text {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            other => {
                return Err(Error::invalid_input(
                    operation,
                    other,
                    "the status must be RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED",
                ));
            }
        })
    }
}

impl fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One execution of a state machine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Execution {
    /// The execution ARN.
    pub arn: String,
    /// The execution name.
    pub name: String,
    /// The state machine's name.
    pub state_machine: String,
    /// Where it is.
    pub status: ExecutionStatus,
    /// The input.
    pub input: Value,
    /// The output, once `SUCCEEDED`.
    pub output: Option<Value>,
    /// The error name, once `FAILED`, `TIMED_OUT` or `ABORTED` (if given).
    pub error: Option<String>,
    /// The cause text that goes with `error`.
    pub cause: Option<String>,
    /// When it started.
    pub start_date: Timestamp,
    /// When it ended.
    pub stop_date: Option<Timestamp>,
}

/// What `start` returns: enough to `describe`, `wait`, `history` or `stop` the execution.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExecutionRef {
    /// The execution ARN.
    pub arn: String,
    /// The execution name.
    pub name: String,
    /// When it started.
    pub start_date: Timestamp,
}

/// A state machine as `create` stored it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StateMachineInfo {
    /// The state machine ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
}

/// One history event, named and detailed as Step Functions does (`TaskStateEntered` with
/// `{"name", "input"}`, ...).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HistoryEvent {
    /// 1, 2, 3, ... in order.
    pub id: u64,
    /// The id of the event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: Timestamp,
    /// `ExecutionStarted`, `PassStateEntered`, `TaskSucceeded`, ...
    pub event_type: String,
    /// The event's details (Step Functions' `...EventDetails` object).
    pub details: Value,
}

/// Options of `start`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartOptions {
    /// The execution name (1-80 characters); a UUID when `None`.
    pub name: Option<String>,
}

impl StartOptions {
    /// Starts the execution under `name`.
    pub fn named(name: impl Into<String>) -> Self {
        StartOptions {
            name: Some(name.into()),
        }
    }

    /// The same options with the execution name `name` (`None`: a UUID).
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }
}

/// Options of `list_executions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListExecutionsOptions {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// Page size and cursor.
    pub page: ListOptions,
}

impl ListExecutionsOptions {
    /// The same options listing only executions with `status` (`None`: all).
    pub fn with_status(mut self, status: Option<ExecutionStatus>) -> Self {
        self.status = status;
        self
    }

    /// The same options with `page` (size and cursor).
    pub fn with_page(mut self, page: ListOptions) -> Self {
        self.page = page;
        self
    }
}

/// A task handed to a handler or activity worker.
#[derive(Clone)]
#[non_exhaustive]
pub struct TaskRequest {
    /// The Task state's `Resource`.
    pub resource: String,
    /// The task input: the effective `Parameters`/`Arguments` (for `lambda:invoke`, the
    /// `Payload`).
    pub input: Value,
    /// The context object (`Execution`, `State`, `StateMachine`, `Task.Token`); for activity
    /// tasks only `{"Task": {"Token": ...}}`.
    pub context: Value,
    /// The task token.
    pub token: String,
    heartbeat: Arc<dyn Fn() -> BoxFuture<'static, Result<()>> + Send + Sync>,
}

impl fmt::Debug for TaskRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskRequest")
            .field("resource", &self.resource)
            .field("input", &self.input)
            .field("token", &crate::redact::token_label(&self.token))
            .finish_non_exhaustive()
    }
}

impl TaskRequest {
    /// A request; `heartbeat` is what [`TaskRequest::heartbeat`] calls.
    pub fn new(
        resource: String,
        input: Value,
        context: Value,
        token: String,
        heartbeat: Arc<dyn Fn() -> BoxFuture<'static, Result<()>> + Send + Sync>,
    ) -> Self {
        TaskRequest {
            resource,
            input,
            context,
            token,
            heartbeat,
        }
    }

    /// Tells the engine the task is alive (for Task states with `HeartbeatSeconds`).
    pub async fn heartbeat(&self) -> Result<()> {
        (self.heartbeat)().await
    }
}

/// How a handler fails a task: a Step Functions error name (matched by `Retry`/`Catch`) and a
/// cause.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskError {
    /// The error name, e.g. `"PolicyViolation"`.
    pub error: String,
    /// The cause text.
    pub cause: String,
}

impl TaskError {
    /// A task error with `error` and `cause`.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// A mesh error inside a handler (`?` on a mesh call) fails the task with the error kind as the
/// error name (`"NotFound"`, `"Conflict"`, ...), as a Python handler raising that exception does.
impl From<Error> for TaskError {
    fn from(e: Error) -> Self {
        TaskError::new(e.kind.name(), e.message)
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

/// A Task handler: gets the request, returns the task result or a [`TaskError`].
pub type TaskHandler = Arc<
    dyn Fn(TaskRequest) -> BoxFuture<'static, std::result::Result<Value, TaskError>> + Send + Sync,
>;

/// Wraps an async closure as a [`TaskHandler`].
pub fn handler<F, Fut>(f: F) -> TaskHandler
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::result::Result<Value, TaskError>> + Send + 'static,
{
    Arc::new(move |request| Box::pin(f(request)))
}

/// A task an activity worker received. `Debug` shows the token as a fingerprint only.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct ActivityTask {
    /// The token to complete it with.
    pub token: String,
    /// The task input.
    pub input: Value,
}

impl ActivityTask {
    /// A task with its token and input, as a worker receives it.
    pub fn new(token: impl Into<String>, input: Value) -> Self {
        ActivityTask {
            token: token.into(),
            input,
        }
    }
}

impl fmt::Debug for ActivityTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityTask")
            .field("token", &crate::redact::token_label(&self.token))
            .field("input", &self.input)
            .finish()
    }
}
