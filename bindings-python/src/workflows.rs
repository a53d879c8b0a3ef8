//! `mesh.workflows`, `ExecutionRef` and `Worker`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agent_mesh::unstable::validate::json_text_or_value;
use agent_mesh::{
    Error, ExecutionStatus, ListExecutionsOptions, MeshClient as CoreClient, StartOptions,
};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use serde_json::Value;

use crate::client::Shared;
use crate::convert::{Count, from_py};
use crate::errors::{IntoPy, to_py_err};
use crate::handlers::task_handler;
use crate::runtime::{Mode, block_on};
use crate::types::Page;
use crate::workflow_types::{Execution, HistoryEvent, StateMachineInfo};

/// How long one wait inside `wait` lasts before Python signals (Ctrl-C) are checked.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

/// `seconds` as a Duration, or InvalidInput for NaN, infinities, negative and huge values.
fn seconds(operation: &str, key: &str, seconds: f64) -> PyResult<Duration> {
    agent_mesh::unstable::validate::timeout(operation, key, seconds).map_err(to_py_err)
}

/// The execution `arn` once it is no longer running, or when `timeout` seconds have passed.
/// Blocking, it waits in slices and checks Python signals (Ctrl-C) between them; as an
/// awaitable it is one wait, which cancelling the awaitable gives up.
fn wait_for<'py>(
    py: Python<'py>,
    mode: Mode,
    client: CoreClient,
    arn: String,
    timeout: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let timeout = timeout
        .map(|t| seconds("workflows.wait", &arn, t))
        .transpose()?;
    if mode == Mode::Asyncio {
        return mode.run(
            py,
            async move { client.workflows().wait(&arn, timeout).await },
            |_, execution| Ok(Execution::from(execution)),
        );
    }
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice = deadline.map_or(SIGNAL_CHECK, |d| {
            d.saturating_duration_since(Instant::now())
                .min(SIGNAL_CHECK)
        });
        let execution = block_on(py, client.workflows().wait(&arn, Some(slice))).py()?;
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if execution.status != ExecutionStatus::Running || expired {
            return Execution::from(execution).into_bound_py_any(py);
        }
        py.check_signals()?;
    }
}

fn history<'py>(
    py: Python<'py>,
    mode: Mode,
    client: CoreClient,
    arn: String,
) -> PyResult<Bound<'py, PyAny>> {
    mode.run(
        py,
        async move { client.workflows().history(&arn).await },
        |_, events| {
            Ok(events
                .into_iter()
                .map(HistoryEvent::from)
                .collect::<Vec<_>>())
        },
    )
}

fn stop<'py>(
    py: Python<'py>,
    mode: Mode,
    client: CoreClient,
    arn: String,
    error: Option<String>,
    cause: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    mode.run(
        py,
        async move {
            let workflows = client.workflows();
            workflows
                .stop(&arn, error.as_deref(), cause.as_deref())
                .await
        },
        |_, execution| Ok(Execution::from(execution)),
    )
}

fn describe<'py>(
    py: Python<'py>,
    mode: Mode,
    client: CoreClient,
    arn: String,
) -> PyResult<Bound<'py, PyAny>> {
    mode.run(
        py,
        async move { client.workflows().describe(&arn).await },
        |_, execution| Ok(Execution::from(execution)),
    )
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
    pub(crate) mode: Mode,
}

#[pymethods]
impl Workflows {
    /// Creates the state machine `name` from an ASL definition (a dict, or JSON text), or
    /// replaces its definition. Raises InvalidInput naming the state and field of every problem.
    fn create<'py>(
        &self,
        py: Python<'py>,
        name: String,
        definition: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let definition = from_py("workflows.create", &name, definition)?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().create(&name, definition).await },
            |_, info| Ok(StateMachineInfo::from(info)),
        )
    }

    /// Starts an execution of the state machine `name` with `input` (JSON-compatible, a str is
    /// JSON text; `{}` when
    /// None), named `execution_name` (a UUID when None). Returns an ExecutionRef.
    #[pyo3(signature = (name, input=None, *, execution_name=None))]
    fn start<'py>(
        &self,
        py: Python<'py>,
        name: String,
        input: Option<&Bound<'_, PyAny>>,
        execution_name: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let input = match input {
            Some(input) => json_text_or_value(
                "workflows.start",
                &name,
                "input",
                from_py("workflows.start", &name, input)?,
            )
            .py()?,
            None => Value::Object(Default::default()),
        };
        let client = self.shared.client(py)?;
        let options = StartOptions::default().with_name(execution_name);
        let (shared, mode) = (self.shared.clone(), self.mode);
        self.mode.run(
            py,
            async move { client.workflows().start(&name, input, options).await },
            move |_, inner| {
                Ok(ExecutionRef {
                    inner,
                    shared,
                    mode,
                })
            },
        )
    }

    /// The execution `arn` as it is now.
    fn describe<'py>(&self, py: Python<'py>, arn: String) -> PyResult<Bound<'py, PyAny>> {
        describe(py, self.mode, self.shared.client(py)?, arn)
    }

    /// Waits until the execution `arn` is no longer running and returns it; with `timeout`
    /// (seconds), returns it still `RUNNING` if it has not finished by then.
    #[pyo3(signature = (arn, timeout=None))]
    fn wait<'py>(
        &self,
        py: Python<'py>,
        arn: String,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        wait_for(py, self.mode, self.shared.client(py)?, arn, timeout)
    }

    /// Every history event of the execution `arn`, oldest first.
    fn history<'py>(&self, py: Python<'py>, arn: String) -> PyResult<Bound<'py, PyAny>> {
        history(py, self.mode, self.shared.client(py)?, arn)
    }

    /// Stops the running execution `arn` (`ABORTED`, with optional error and cause); returns it.
    #[pyo3(signature = (arn, error=None, cause=None))]
    fn stop<'py>(
        &self,
        py: Python<'py>,
        arn: String,
        error: Option<String>,
        cause: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        stop(py, self.mode, self.shared.client(py)?, arn, error, cause)
    }

    /// One page of the executions of the state machine `name`, newest first, optionally only
    /// those with `status` ("RUNNING", "SUCCEEDED", ...). Items are Execution.
    #[pyo3(signature = (name, status=None, limit=None, cursor=None))]
    fn list_executions<'py>(
        &self,
        py: Python<'py>,
        name: String,
        status: Option<&str>,
        limit: Option<Count>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let status = status
            .map(|s| ExecutionStatus::parse("workflows.list_executions", s))
            .transpose()
            .py()?;
        let options = ListExecutionsOptions::default()
            .with_status(status)
            .with_page(crate::client::list_options(limit.map(Count::size), cursor));
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().list_executions(&name, options).await },
            |py, page| Page::new(py, page, Execution::from),
        )
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
    fn create_activity<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().create_activity(&name).await },
            |_, arn| Ok(arn),
        )
    }

    /// Runs `handler(input, context)` (as for `register`; context is `{"Task": {"Token": ...}}`)
    /// for every task of the activity `activity` (a name or an activity ARN) in the background,
    /// until the returned Worker is stopped (`stop()`, the end of a `with` block) or garbage
    /// collected.
    fn worker<'py>(
        &self,
        py: Python<'py>,
        activity: String,
        handler: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        check_callable("workflows.worker", &activity, handler)?;
        let handler = task_handler(handler.clone().unbind());
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().worker(&activity, handler).await },
            |_, worker| {
                Ok(Worker {
                    inner: Mutex::new(Some(worker)),
                })
            },
        )
    }

    /// Completes the waiting task `token` (an activity task or a `.waitForTaskToken` callback)
    /// with `output` (JSON-compatible).
    fn send_task_success<'py>(
        &self,
        py: Python<'py>,
        token: String,
        output: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        // Errors name the token by its fingerprint only (a task token is a credential).
        let label = agent_mesh::unstable::redact::token_label(&token);
        let output = json_text_or_value(
            "workflows.send_task_success",
            &label,
            "output",
            from_py("workflows.send_task_success", &label, output)?,
        )
        .py()?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().send_task_success(&token, output).await },
            |_, ()| Ok(()),
        )
    }

    /// Fails the waiting task `token` with `error` (matched by Retry/Catch) and `cause`.
    #[pyo3(signature = (token, error, cause=""))]
    fn send_task_failure<'py>(
        &self,
        py: Python<'py>,
        token: String,
        error: String,
        cause: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cause = cause.to_owned();
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move {
                let workflows = client.workflows();
                workflows.send_task_failure(&token, &error, &cause).await
            },
            |_, ()| Ok(()),
        )
    }

    /// Reports that the task `token` is still being worked on (resets `HeartbeatSeconds`).
    fn send_task_heartbeat<'py>(
        &self,
        py: Python<'py>,
        token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.workflows().send_task_heartbeat(&token).await },
            |_, ()| Ok(()),
        )
    }
}

/// What `start` returns: `.arn`, `.name`, `.start_date`, and `wait`, `describe`, `history` and
/// `stop` for this execution.
#[pyclass(frozen, module = "agent_mesh")]
pub struct ExecutionRef {
    inner: agent_mesh::ExecutionRef,
    shared: Arc<Shared>,
    mode: Mode,
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
    fn wait<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let arn = self.inner.arn.clone();
        wait_for(py, self.mode, self.shared.client(py)?, arn, timeout)
    }

    /// The execution as it is now.
    fn describe<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let arn = self.inner.arn.clone();
        describe(py, self.mode, self.shared.client(py)?, arn)
    }

    /// Every history event of the execution, oldest first.
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let arn = self.inner.arn.clone();
        history(py, self.mode, self.shared.client(py)?, arn)
    }

    /// Stops the execution (`ABORTED`, with optional error and cause); returns it.
    #[pyo3(signature = (error=None, cause=None))]
    fn stop<'py>(
        &self,
        py: Python<'py>,
        error: Option<String>,
        cause: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let arn = self.inner.arn.clone();
        stop(py, self.mode, self.shared.client(py)?, arn, error, cause)
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
