//! The workflow backend trait: state machines, executions, history, activities and task tokens.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::error::Result;
use crate::page::Page;
use crate::types::workflows::{
    ActivityTask, Execution, ExecutionRef, ExecutionStatus, HistoryEvent, StateMachineInfo,
    TaskHandler,
};

/// Workflows: Amazon States Language state machines and their executions.
///
/// Guarantees every implementation gives (checked by the behaviour suites):
/// - **Validation first**: `create` rejects an invalid definition before storing anything.
/// - **Idempotent start**: starting an execution with a name already used for the same state
///   machine and the same input returns the existing execution; with another input it is a
///   `Conflict`.
/// - **Ordered history**: events have ids 1, 2, 3, ... without gaps, in the order they happened;
///   the first is `ExecutionStarted`, the last of a finished execution its end
///   (`ExecutionSucceeded`, `ExecutionFailed`, `ExecutionTimedOut`, `ExecutionAborted`).
/// - **Durability** (local): an execution's progress is committed at every state transition; an
///   execution whose process died is resumed by another process that opens the mesh, from its
///   last transition, and a Task whose success was committed never runs again.
/// - **Task tokens**: `send_task_success`/`failure` complete a waiting task exactly once; a
///   second completion, or one for an unknown or timed-out token, is an error.
#[async_trait]
pub trait WorkflowBackend: Send + Sync + std::fmt::Debug {
    /// Creates the state machine `name`, or updates its definition (validated by the caller).
    async fn create(&self, name: &str, definition: &Value) -> Result<StateMachineInfo>;
    /// Starts an execution of `name`.
    async fn start(&self, name: &str, input: &Value, execution_name: &str) -> Result<ExecutionRef>;
    /// The execution's current status.
    async fn describe(&self, arn: &str) -> Result<Execution>;
    /// Waits until the execution is no longer running, or `timeout` passes (then returns it
    /// still running).
    async fn wait(&self, arn: &str, timeout: Option<Duration>) -> Result<Execution>;
    /// Every history event, oldest first.
    async fn history(&self, arn: &str) -> Result<Vec<HistoryEvent>>;
    /// Stops a running execution (`ABORTED`); stopping a finished one changes nothing.
    async fn stop(&self, arn: &str, error: Option<&str>, cause: Option<&str>) -> Result<Execution>;
    /// Executions of `name`, newest first.
    async fn list_executions(
        &self,
        name: &str,
        status: Option<ExecutionStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Execution>>;
    /// Serves Task states whose resource resolves to `name` with `handler` in this process.
    fn register(&self, name: &str, handler: TaskHandler) -> Result<()>;
    /// The ARN of the activity `name`, created if needed.
    async fn create_activity(&self, name: &str) -> Result<String>;
    /// Waits up to `wait` for a task of the activity; `None` if none came.
    async fn poll_activity(
        &self,
        activity_arn: &str,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<ActivityTask>>;
    /// Completes the task with `token` successfully.
    async fn send_task_success(&self, token: &str, output: &Value) -> Result<()>;
    /// Fails the task with `token`.
    async fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> Result<()>;
    /// Reports that the task with `token` is still being worked on.
    async fn send_task_heartbeat(&self, token: &str) -> Result<()>;
    /// The name `create` gave the state machine of `arn` (a state machine or execution ARN of
    /// this backend); `None` when `arn` is neither.
    fn state_machine_name(&self, arn: &str) -> Option<String>;
}

/// The state machine part of a state machine ARN (`...:stateMachine:<name>`) or an execution
/// ARN (`...:execution:<name>:<execution>`, `...:express:<name>:...`), as the service names it.
pub(crate) fn arn_state_machine(arn: &str) -> Option<&str> {
    let mut parts = arn.strip_prefix("arn:")?.splitn(7, ':');
    let (_partition, service, _region, _account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (kind, name) = (parts.next()?, parts.next()?);
    let ok = service == "states"
        && matches!(kind, "stateMachine" | "execution" | "express")
        && !name.is_empty();
    ok.then_some(name)
}
