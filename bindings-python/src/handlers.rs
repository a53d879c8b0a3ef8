//! Python callables as workflow Task handlers: `handler(input, context)`, a plain function or an
//! `async def`, called with the GIL from a tokio blocking thread.

use std::sync::Arc;

use agent_mesh::workflows::handler;
use agent_mesh::{TaskError, TaskHandler, TaskRequest};
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{from_py, to_py};

/// The core handler that runs `callable(input, context)` for each task.
///
/// The call runs on tokio's blocking pool, never on a runtime worker: the runtime has one worker
/// thread, a Python handler may run for long, and it may call the (blocking) mesh API itself.
/// A coroutine result (an `async def` handler) is run to completion with `asyncio.run` in that
/// thread. The return value becomes the task result; an exception fails the task with
/// [`task_error`].
pub(crate) fn task_handler(callable: Py<PyAny>) -> TaskHandler {
    let callable = Arc::new(callable);
    handler(move |request: TaskRequest| {
        let callable = callable.clone();
        async move {
            match tokio::task::spawn_blocking(move || call(&callable, &request)).await {
                Ok(outcome) => outcome,
                Err(e) => Err(TaskError::new(
                    "Internal",
                    format!("the Python task handler did not complete: {e}"),
                )),
            }
        }
    })
}

/// Calls the handler with the GIL held and maps its outcome.
fn call(callable: &Py<PyAny>, request: &TaskRequest) -> Result<Value, TaskError> {
    Python::attach(|py| run(py, callable, request).map_err(|e| task_error(py, &e)))
}

fn run(py: Python<'_>, callable: &Py<PyAny>, request: &TaskRequest) -> PyResult<Value> {
    let input = to_py(py, &request.input)?;
    let context = to_py(py, &request.context)?;
    let mut result = callable.bind(py).call1((input, context))?;
    let is_coroutine = py
        .import("inspect")?
        .call_method1("iscoroutine", (&result,))?
        .is_truthy()?;
    if is_coroutine {
        result = py.import("asyncio")?.call_method1("run", (result,))?;
    }
    from_py("workflows.handler", &request.resource, &result)
}

/// How a Python exception fails the task: the error name is the exception's `error` attribute
/// when it is a str (so handlers can raise Step Functions names such as `"Flaky.Error"`), else
/// the exception's class name; the cause is `str(exception)`.
pub(crate) fn task_error(py: Python<'_>, e: &PyErr) -> TaskError {
    let value = e.value(py);
    let error = value
        .getattr("error")
        .ok()
        .and_then(|v| v.extract::<String>().ok())
        .unwrap_or_else(|| {
            value
                .get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "Exception".to_owned())
        });
    let cause = value.str().map(|s| s.to_string()).unwrap_or_default();
    TaskError::new(error, cause)
}
