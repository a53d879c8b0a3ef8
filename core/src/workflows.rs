//! Workflows: Amazon States Language state machines run by the embedded engine (local and
//! memory backends) or by AWS Step Functions, with Task handlers and activity workers written
//! in Rust, Python or Node.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use crate::asl::StateMachine;
use crate::backend::WorkflowBackend;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::page::{ListOptions, Page};
use crate::validate;

/// The status of an execution, as Step Functions names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
pub struct StateMachineInfo {
    /// The state machine ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
}

/// One history event, named and detailed as Step Functions does (`TaskStateEntered` with
/// `{"name", "input"}`, ...).
#[derive(Debug, Clone, PartialEq)]
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
}

/// Options of `list_executions`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListExecutionsOptions {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// Page size and cursor.
    pub page: ListOptions,
}

/// A task handed to a handler or activity worker.
#[derive(Clone)]
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
pub struct ActivityTask {
    /// The token to complete it with.
    pub token: String,
    /// The task input.
    pub input: Value,
}

impl fmt::Debug for ActivityTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityTask")
            .field("token", &crate::redact::token_label(&self.token))
            .field("input", &self.input)
            .finish()
    }
}

/// `result` with the task token replaced by its fingerprint wherever its error mentions it
/// (task tokens are credentials: whoever holds one can complete the task).
fn without_token<T>(result: Result<T>, token: &str) -> Result<T> {
    result.map_err(|e| crate::redact::scrub(e, token, &crate::redact::token_label(token)))
}

/// Workflow operations of one mesh; obtained from [`crate::MeshClient::workflows`].
#[derive(Clone)]
pub struct Workflows {
    backend: Arc<dyn WorkflowBackend>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl fmt::Debug for Workflows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflows").finish_non_exhaustive()
    }
}

/// Validates an ASL definition the way `create` does, without storing it.
pub fn validate_definition(name: &str, definition: &Value) -> Result<StateMachine> {
    StateMachine::parse(definition).map_err(|problems| {
        Error::invalid_input(
            "workflows.create",
            name,
            format!("invalid state machine definition: {}", problems.join("; ")),
        )
    })
}

fn check_name(operation: &str, what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            operation,
            name,
            format!(
                "{what} must be 1-80 characters of letters, digits, '-' and '_' (as Step Functions requires)"
            ),
        ))
    }
}

impl Workflows {
    pub(crate) fn new(backend: Arc<dyn WorkflowBackend>) -> Self {
        Workflows { backend }
    }

    /// Creates the state machine `name` from an ASL definition (a JSON object, or JSON text
    /// as a string value), or replaces its definition. The definition is validated first;
    /// every problem is reported as `InvalidInput` naming the state and field.
    pub async fn create(&self, name: &str, definition: Value) -> Result<StateMachineInfo> {
        const OP: &str = "workflows.create";
        check_name(OP, "a state machine name", name)?;
        let definition = validate::json_text_or_value(OP, name, "definition", definition)?;
        validate_definition(name, &definition)?;
        self.backend.create(name, &definition).await
    }

    /// Starts an execution of `name` with `input`.
    pub async fn start(
        &self,
        name: &str,
        input: Value,
        options: StartOptions,
    ) -> Result<ExecutionRef> {
        const OP: &str = "workflows.start";
        let execution_name = options
            .name
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        check_name(OP, "an execution name", &execution_name)?;
        let input = validate::checked_depth(OP, name, "execution input", input)?;
        let size = input.to_string().len();
        validate::check_size(
            OP,
            name,
            "execution input",
            size,
            crate::asl::MAX_PAYLOAD_BYTES,
        )?;
        self.backend.start(name, &input, &execution_name).await
    }

    /// The execution's current status.
    pub async fn describe(&self, arn: &str) -> Result<Execution> {
        self.backend.describe(arn).await
    }

    /// Waits until the execution is no longer running and returns it; with `timeout`, returns
    /// it still `RUNNING` if it has not finished by then.
    pub async fn wait(&self, arn: &str, timeout: Option<Duration>) -> Result<Execution> {
        self.backend.wait(arn, timeout).await
    }

    /// Every history event of the execution, oldest first.
    pub async fn history(&self, arn: &str) -> Result<Vec<HistoryEvent>> {
        self.backend.history(arn).await
    }

    /// Stops a running execution (`ABORTED`, with optional error and cause).
    pub async fn stop(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<Execution> {
        self.backend.stop(arn, error, cause).await
    }

    /// Executions of the state machine `name`, newest first, one page at a time.
    pub async fn list_executions(
        &self,
        name: &str,
        options: ListExecutionsOptions,
    ) -> Result<Page<Execution>> {
        const OP: &str = "workflows.list_executions";
        let limit = validate::page_limit(OP, name, options.page.limit)?;
        self.backend
            .list_executions(name, options.status, limit, options.page.cursor.as_deref())
            .await
    }

    /// Serves Task states with `handler` in this process. `name` is matched against the
    /// Task's `Resource` (an ARN or a plain name), the `FunctionName` of
    /// `arn:aws:states:::lambda:invoke` (name or ARN) and the `TaskDefinition` of
    /// `arn:aws:states:::ecs:runTask` (family, `family:revision` or ARN), so definitions written
    /// for Step Functions run unchanged. Local and memory backends only: on AWS, Step Functions
    /// invokes the real resources (use [`Workflows::worker`] for activities).
    pub fn register(&self, name: &str, handler: TaskHandler) -> Result<()> {
        if name.is_empty() {
            return Err(Error::invalid_input(
                "workflows.register",
                name,
                "the handler name must not be empty",
            ));
        }
        self.backend.register(name, handler)
    }

    /// The ARN of the activity `name` (created if needed).
    pub async fn create_activity(&self, name: &str) -> Result<String> {
        check_name("workflows.create_activity", "an activity name", name)?;
        self.backend.create_activity(name).await
    }

    /// Runs `handler` for every task of the activity `activity` (a name or an activity ARN)
    /// until the returned [`Worker`] is stopped or dropped: polls for a task, runs the handler,
    /// and sends its result or error back (`SendTaskSuccess`/`SendTaskFailure`).
    pub async fn worker(&self, activity: &str, handler: TaskHandler) -> Result<Worker> {
        let arn = if activity.starts_with("arn:") {
            activity.to_owned()
        } else {
            self.create_activity(activity).await?
        };
        let backend = self.backend.clone();
        let worker_name = format!("worker-{}", std::process::id());
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let (ended, done) = tokio::sync::watch::channel(());
        tokio::spawn(async move {
            // Dropped when the loop ends: what `Worker::stopped` waits for.
            let _ended = ended;
            // A poll is never cancelled: locally it may have claimed a task as it is dropped.
            while !*stopping.borrow() {
                let polled = backend
                    .poll_activity(&arn, &worker_name, Duration::from_secs(1))
                    .await;
                let task = match polled {
                    Ok(Some(task)) => task,
                    Ok(None) => continue,
                    Err(e) => {
                        let pause = if e.retryable { 200 } else { 1000 };
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                        continue;
                    }
                };
                let beat_backend = backend.clone();
                let beat_token = task.token.clone();
                // Activity tasks carry no context object: give the handler the token where
                // Task states have it (`Task.Token`), e.g. to send heartbeats.
                let request = TaskRequest::new(
                    arn.clone(),
                    task.input,
                    serde_json::json!({"Task": {"Token": task.token}}),
                    task.token.clone(),
                    Arc::new(move || {
                        let b = beat_backend.clone();
                        let t = beat_token.clone();
                        Box::pin(async move { without_token(b.send_task_heartbeat(&t).await, &t) })
                    }),
                );
                // A completion that cannot be delivered (the task timed out meanwhile) is dropped:
                // Step Functions has already failed the task.
                let _ = match handler(request).await {
                    Ok(output) => backend.send_task_success(&task.token, &output).await,
                    Err(e) => {
                        backend
                            .send_task_failure(&task.token, &e.error, &e.cause)
                            .await
                    }
                };
            }
        });
        Ok(Worker { stop, done })
    }

    /// Completes the waiting task `token` (an activity task or a `.waitForTaskToken` callback)
    /// with `output`.
    pub async fn send_task_success(&self, token: &str, output: Value) -> Result<()> {
        const OP: &str = "workflows.send_task_success";
        let output = validate::checked_depth(OP, "task", "task output", output)?;
        validate::check_size(
            OP,
            "task",
            "task output",
            output.to_string().len(),
            crate::asl::MAX_PAYLOAD_BYTES,
        )?;
        without_token(self.backend.send_task_success(token, &output).await, token)
    }

    /// Fails the waiting task `token` with `error` and `cause`.
    pub async fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> Result<()> {
        without_token(
            self.backend.send_task_failure(token, error, cause).await,
            token,
        )
    }

    /// Reports that the task `token` is still being worked on (resets `HeartbeatSeconds`).
    /// Errors name the token by its fingerprint (`task token sha256:...`), never in full.
    pub async fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        without_token(self.backend.send_task_heartbeat(token).await, token)
    }
}

/// A running activity worker; stops when [`Worker::stop`] is called or it is dropped.
///
/// Stopping is graceful: no new task is taken once the poll in progress has ended (at most a
/// second locally; Step Functions' long poll, up to 60 s, on AWS), and a task already taken is
/// still handled and its result or error sent. [`Worker::stopped`] waits for that.
#[derive(Debug)]
pub struct Worker {
    stop: tokio::sync::watch::Sender<bool>,
    done: tokio::sync::watch::Receiver<()>,
}

impl Worker {
    /// Asks the worker to stop (see the type's doc); returns at once.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until the worker has stopped: asked to stop, its poll ended, and the task it had
    /// taken (if any) handled and reported. Waits forever if it was not asked to stop.
    pub async fn stopped(&self) {
        let mut done = self.done.clone();
        while done.changed().await.is_ok() {}
    }
}

impl Drop for Worker {
    /// Asks the worker to stop; it finishes the task in hand in the background.
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
