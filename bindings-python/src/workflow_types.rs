//! Workflow result classes: `StateMachineInfo`, `Execution`, `HistoryEvent`.

use agent_mesh::Timestamp;
use pyo3::prelude::*;

use crate::convert::to_py;

/// A state machine as `create` stored it: `.arn`, `.name`.
#[pyclass(frozen, get_all, module = "agent_mesh")]
pub struct StateMachineInfo {
    /// The state machine ARN.
    pub arn: String,
    /// Its name.
    pub name: String,
}

impl From<agent_mesh::StateMachineInfo> for StateMachineInfo {
    fn from(info: agent_mesh::StateMachineInfo) -> Self {
        StateMachineInfo {
            arn: info.arn,
            name: info.name,
        }
    }
}

#[pymethods]
impl StateMachineInfo {
    fn __repr__(&self) -> String {
        format!("StateMachineInfo(name={:?}, arn={:?})", self.name, self.arn)
    }
}

/// One execution of a state machine, as `describe`, `wait`, `stop` and `list_executions` return
/// it.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Execution {
    inner: agent_mesh::Execution,
}

impl From<agent_mesh::Execution> for Execution {
    fn from(inner: agent_mesh::Execution) -> Self {
        Execution { inner }
    }
}

#[pymethods]
impl Execution {
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
    /// The state machine's name.
    #[getter]
    fn state_machine(&self) -> &str {
        &self.inner.state_machine
    }
    /// `"RUNNING"`, `"SUCCEEDED"`, `"FAILED"`, `"TIMED_OUT"` or `"ABORTED"`.
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }
    /// The input as Python objects.
    #[getter]
    fn input<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.input)
    }
    /// The output as Python objects once `SUCCEEDED`, else None.
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.output.as_ref().map(|o| to_py(py, o)).transpose()
    }
    /// The error name once `FAILED`, `TIMED_OUT` or `ABORTED` (if given), else None.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }
    /// The cause text that goes with `error`, or None.
    #[getter]
    fn cause(&self) -> Option<&str> {
        self.inner.cause.as_deref()
    }
    /// When the execution started (UTC).
    #[getter]
    fn start_date(&self) -> Timestamp {
        self.inner.start_date
    }
    /// When it ended (UTC), or None while running.
    #[getter]
    fn stop_date(&self) -> Option<Timestamp> {
        self.inner.stop_date
    }
    fn __repr__(&self) -> String {
        format!(
            "Execution(name={:?}, state_machine={:?}, status={:?})",
            self.inner.name,
            self.inner.state_machine,
            self.inner.status.as_str()
        )
    }
}

/// One history event: `.id`, `.previous_event_id`, `.timestamp`, `.type` (`"ExecutionStarted"`,
/// `"TaskSucceeded"`, ...) and `.details` (Step Functions' `...EventDetails` object).
#[pyclass(frozen, module = "agent_mesh")]
pub struct HistoryEvent {
    inner: agent_mesh::HistoryEvent,
}

impl From<agent_mesh::HistoryEvent> for HistoryEvent {
    fn from(inner: agent_mesh::HistoryEvent) -> Self {
        HistoryEvent { inner }
    }
}

#[pymethods]
impl HistoryEvent {
    /// 1, 2, 3, ... in order.
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id
    }
    /// The id of the event this one follows (0 for the first).
    #[getter]
    fn previous_event_id(&self) -> u64 {
        self.inner.previous_event_id
    }
    /// When it happened (UTC).
    #[getter]
    fn timestamp(&self) -> Timestamp {
        self.inner.timestamp
    }
    /// The event type, as Step Functions names it.
    #[getter(r#type)]
    fn event_type(&self) -> &str {
        &self.inner.event_type
    }
    /// The event's details as Python objects.
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.details)
    }
    fn __repr__(&self) -> String {
        format!(
            "HistoryEvent(id={}, type={:?})",
            self.inner.id, self.inner.event_type
        )
    }
}
