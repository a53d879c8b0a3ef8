//! Workflows: Amazon States Language state machines run by the embedded engine (local and
//! memory backends) or by AWS Step Functions, with Task handlers and activity workers written
//! in Rust, Python or Node.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::backend::WorkflowBackend;
use crate::error::{Error, Result};
use crate::page::Page;
use crate::validate;

pub use crate::types::workflows::*;

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

use crate::asl::validate_definition;

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

    /// Stops a running execution (`ABORTED`, with optional error and cause) and returns it as it
    /// ended: on every backend the answer already shows `ABORTED` (or the end it reached first).
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
