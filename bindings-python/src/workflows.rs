//! `mesh.workflows`, `ExecutionRef` and `Worker`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_mesh::unstable::validate::json_text_or_value;
use agent_mesh::{
    Error, ExecutionStatus, ListExecutionsOptions, MeshClient as CoreClient, StartOptions,
};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use serde_json::Value;

use crate::client::Shared;
use crate::convert::{Count, from_py};
use crate::errors::{IntoPy, to_py_err};
use crate::handlers::task_handler;
use crate::runtime::block_on;
use crate::types::Page;
use crate::workflow_types::{Execution, HistoryEvent, StateMachineInfo};

/// How long one wait inside `wait` lasts before Python signals (Ctrl-C) are checked.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

/// `seconds` as a Duration, or InvalidInput for NaN, infinities, negative and huge values.
fn seconds(operation: &str, key: &str, seconds: f64) -> PyResult<Duration> {
    agent_mesh::unstable::validate::timeout(operation, key, seconds).map_err(to_py_err)
}

/// Waits for the execution `arn` in slices, checking signals between them, until it is no
/// longer running or `timeout` seconds have passed.
fn wait_for(
    py: Python<'_>,
    client: &CoreClient,
    arn: &str,
    timeout: Option<f64>,
) -> PyResult<Execution> {
    let deadline = match timeout {
        Some(t) => Some(Instant::now() + seconds("workflows.wait", arn, t)?),
        None => None,
    };
    loop {
        let slice = deadline.map_or(SIGNAL_CHECK, |d| {
            d.saturating_duration_since(Instant::now())
                .min(SIGNAL_CHECK)
        });
        let execution = block_on(py, client.workflows().wait(arn, Some(slice))).py()?;
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if execution.status != ExecutionStatus::Running || expired {
            return Ok(execution.into());
        }
        py.check_signals()?;
    }
}

fn history(py: Python<'_>, client: &CoreClient, arn: &str) -> PyResult<Vec<HistoryEvent>> {
    let events = block_on(py, client.workflows().history(arn)).py()?;
    Ok(events.into_iter().map(HistoryEvent::from).collect())
}

fn stop(
    py: Python<'_>,
    client: &CoreClient,
    arn: &str,
    error: Option<&str>,
    cause: Option<&str>,
) -> PyResult<Execution> {
    block_on(py, client.workflows().stop(arn, error, cause))
        .py()
        .map(Execution::from)
}

/// Checks that `handler` is callable, naming `operation` and `name` if not.
fn check_callable(operation: &str, name: &str, handler: &Bound<'_, PyAny>) -> PyResult<()> {
    if handler.is_callable() {
        return Ok(());
    }
    Err(to_py_err(Error::invalid_input(
        operation,
        name,
        "the handler must be a callable handler(input, context) (a function or an async def)",
    )))
}

fn register(
    py: Python<'_>,
    shared: &Shared,
    name: &str,
    handler: &Bound<'_, PyAny>,
) -> PyResult<()> {
    check_callable("workflows.register", name, handler)?;
    let client = shared.client(py)?;
    client
        .workflows()
        .register(name, task_handler(handler.clone().unbind()))
        .py()
}

/// `mesh.workflows`: Amazon States Language state machines run by the embedded engine (local
/// and memory backends), with Task handlers and activity workers written in Python.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Workflows {
    pub(crate) shared: Arc<Shared>,
}

#[pymethods]
impl Workflows {
    /// Creates the state machine `name` from an ASL definition (a dict, or JSON text), or
    /// replaces its definition. Raises InvalidInput naming the state and field of every problem.
    fn create(
        &self,
        py: Python<'_>,
        name: &str,
        definition: &Bound<'_, PyAny>,
    ) -> PyResult<StateMachineInfo> {
        let definition = from_py("workflows.create", name, definition)?;
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().create(name, definition))
            .py()
            .map(Into::into)
    }

    /// Starts an execution of the state machine `name` with `input` (JSON-compatible, a str is
    /// JSON text; `{}` when
    /// None), named `execution_name` (a UUID when None). Returns an ExecutionRef.
    #[pyo3(signature = (name, input=None, *, execution_name=None))]
    fn start(
        &self,
        py: Python<'_>,
        name: &str,
        input: Option<&Bound<'_, PyAny>>,
        execution_name: Option<String>,
    ) -> PyResult<ExecutionRef> {
        let input = match input {
            Some(input) => json_text_or_value(
                "workflows.start",
                name,
                "input",
                from_py("workflows.start", name, input)?,
            )
            .py()?,
            None => Value::Object(Default::default()),
        };
        let client = self.shared.client(py)?;
        let options = StartOptions::default().with_name(execution_name);
        let inner = block_on(py, client.workflows().start(name, input, options)).py()?;
        Ok(ExecutionRef {
            inner,
            shared: self.shared.clone(),
        })
    }

    /// The execution `arn` as it is now.
    fn describe(&self, py: Python<'_>, arn: &str) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().describe(arn))
            .py()
            .map(Into::into)
    }

    /// Waits until the execution `arn` is no longer running and returns it; with `timeout`
    /// (seconds), returns it still `RUNNING` if it has not finished by then.
    #[pyo3(signature = (arn, timeout=None))]
    fn wait(&self, py: Python<'_>, arn: &str, timeout: Option<f64>) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        wait_for(py, &client, arn, timeout)
    }

    /// Every history event of the execution `arn`, oldest first.
    fn history(&self, py: Python<'_>, arn: &str) -> PyResult<Vec<HistoryEvent>> {
        let client = self.shared.client(py)?;
        history(py, &client, arn)
    }

    /// Stops the running execution `arn` (`ABORTED`, with optional error and cause); returns it.
    #[pyo3(signature = (arn, error=None, cause=None))]
    fn stop(
        &self,
        py: Python<'_>,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        stop(py, &client, arn, error, cause)
    }

    /// One page of the executions of the state machine `name`, newest first, optionally only
    /// those with `status` ("RUNNING", "SUCCEEDED", ...). Items are Execution.
    #[pyo3(signature = (name, status=None, limit=None, cursor=None))]
    fn list_executions(
        &self,
        py: Python<'_>,
        name: &str,
        status: Option<&str>,
        limit: Option<Count>,
        cursor: Option<String>,
    ) -> PyResult<Page> {
        let status = status
            .map(|s| ExecutionStatus::parse("workflows.list_executions", s))
            .transpose()
            .py()?;
        let options = ListExecutionsOptions::default()
            .with_status(status)
            .with_page(crate::client::list_options(limit.map(Count::size), cursor));
        let client = self.shared.client(py)?;
        let page = block_on(py, client.workflows().list_executions(name, options)).py()?;
        Page::new(py, page, Execution::from)
    }

    /// Serves Task states whose resource is `name` (a Resource ARN or plain name, a Lambda
    /// `FunctionName`, an ECS `TaskDefinition`) with `handler(input, context)`: a function or an
    /// `async def`, called in a background thread. Its return value is the task result; an
    /// exception fails the task with error = the exception's `error` attribute (a str) or its
    /// class name, and cause = str(exception). Local and memory backends only.
    fn register(&self, py: Python<'_>, name: &str, handler: &Bound<'_, PyAny>) -> PyResult<()> {
        register(py, &self.shared, name, handler)
    }

    /// Decorator form of `register`: `@mesh.workflows.handler("name")` registers the function
    /// and returns it unchanged.
    fn handler<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyCFunction>> {
        let shared = self.shared.clone();
        PyCFunction::new_closure(
            py,
            Some(c"register_handler"),
            Some(c"Registers the decorated function as a workflow Task handler and returns it."),
            move |args: &Bound<'_, PyTuple>,
                  _kwargs: Option<&Bound<'_, PyDict>>|
                  -> PyResult<Py<PyAny>> {
                let function = args.get_item(0)?;
                register(args.py(), &shared, &name, &function)?;
                Ok(function.unbind())
            },
        )
    }

    /// The ARN of the activity `name` (created if needed).
    fn create_activity(&self, py: Python<'_>, name: &str) -> PyResult<String> {
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().create_activity(name)).py()
    }

    /// Runs `handler(input, context)` (as for `register`; context is `{"Task": {"Token": ...}}`)
    /// for every task of the activity `activity` (a name or an activity ARN) in the background,
    /// until the returned Worker is stopped (`stop()`, the end of a `with` block) or garbage
    /// collected.
    fn worker(
        &self,
        py: Python<'_>,
        activity: &str,
        handler: &Bound<'_, PyAny>,
    ) -> PyResult<Worker> {
        check_callable("workflows.worker", activity, handler)?;
        let handler = task_handler(handler.clone().unbind());
        let client = self.shared.client(py)?;
        let worker = block_on(py, client.workflows().worker(activity, handler)).py()?;
        Ok(Worker {
            inner: Mutex::new(Some(worker)),
        })
    }

    /// Completes the waiting task `token` (an activity task or a `.waitForTaskToken` callback)
    /// with `output` (JSON-compatible).
    fn send_task_success(
        &self,
        py: Python<'_>,
        token: &str,
        output: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        // Errors name the token by its fingerprint only (a task token is a credential).
        let label = agent_mesh::unstable::redact::token_label(token);
        let output = json_text_or_value(
            "workflows.send_task_success",
            &label,
            "output",
            from_py("workflows.send_task_success", &label, output)?,
        )
        .py()?;
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().send_task_success(token, output)).py()
    }

    /// Fails the waiting task `token` with `error` (matched by Retry/Catch) and `cause`.
    #[pyo3(signature = (token, error, cause=""))]
    fn send_task_failure(
        &self,
        py: Python<'_>,
        token: &str,
        error: &str,
        cause: &str,
    ) -> PyResult<()> {
        let client = self.shared.client(py)?;
        block_on(
            py,
            client.workflows().send_task_failure(token, error, cause),
        )
        .py()
    }

    /// Reports that the task `token` is still being worked on (resets `HeartbeatSeconds`).
    fn send_task_heartbeat(&self, py: Python<'_>, token: &str) -> PyResult<()> {
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().send_task_heartbeat(token)).py()
    }
}

/// What `start` returns: `.arn`, `.name`, `.start_date`, and `wait`, `describe`, `history` and
/// `stop` for this execution.
#[pyclass(frozen, module = "agent_mesh")]
pub struct ExecutionRef {
    inner: agent_mesh::ExecutionRef,
    shared: Arc<Shared>,
}

#[pymethods]
impl ExecutionRef {
    /// The execution ARN.
    #[getter]
    fn arn(&self) -> &str {
        &self.inner.arn
    }
    /// The execution name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// When it started (UTC).
    #[getter]
    fn start_date(&self) -> agent_mesh::Timestamp {
        self.inner.start_date
    }

    /// Waits until the execution is no longer running (at most `timeout` seconds) and returns it.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        wait_for(py, &client, &self.inner.arn, timeout)
    }

    /// The execution as it is now.
    fn describe(&self, py: Python<'_>) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        block_on(py, client.workflows().describe(&self.inner.arn))
            .py()
            .map(Into::into)
    }

    /// Every history event of the execution, oldest first.
    fn history(&self, py: Python<'_>) -> PyResult<Vec<HistoryEvent>> {
        let client = self.shared.client(py)?;
        history(py, &client, &self.inner.arn)
    }

    /// Stops the execution (`ABORTED`, with optional error and cause); returns it.
    #[pyo3(signature = (error=None, cause=None))]
    fn stop(
        &self,
        py: Python<'_>,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> PyResult<Execution> {
        let client = self.shared.client(py)?;
        stop(py, &client, &self.inner.arn, error, cause)
    }

    fn __repr__(&self) -> String {
        format!(
            "ExecutionRef(name={:?}, arn={:?})",
            self.inner.name, self.inner.arn
        )
    }
}

/// A running activity worker (from `mesh.workflows.worker`): `stop()` it, or use it in a `with`
/// block. It also stops when garbage collected, so keep a reference while it should run.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Worker {
    inner: Mutex<Option<agent_mesh::Worker>>,
}

#[pymethods]
impl Worker {
    /// Stops the worker and returns once it has stopped: it takes no new task once its poll in
    /// progress has ended (at most a second locally, Step Functions' long poll on AWS), and a
    /// task being handled is still completed. Called on a thread running an asyncio event loop
    /// (which async handlers may need), it only asks the worker to stop. Idempotent.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let worker = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(worker) = worker {
            worker.stop();
            let on_event_loop = !py
                .import("asyncio")?
                .getattr("_get_running_loop")?
                .call0()?
                .is_none();
            if !on_event_loop {
                block_on(py, async {
                    worker.stopped().await;
                    Ok(())
                })
                .py()?;
            }
        }
        Ok(())
    }

    /// Whether the worker is still polling (`stop()` has not been called).
    #[getter]
    fn running(&self) -> bool {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
        py: Python<'_>,
    ) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Worker(running={})", self.running())
    }
}
