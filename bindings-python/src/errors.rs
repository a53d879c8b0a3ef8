//! Python exceptions: `MeshError` and one subclass per error kind, carrying `kind`, `message`,
//! `retryable` and `context`.

use agent_mesh::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    agent_mesh,
    MeshError,
    PyException,
    "Base class of every agent-mesh error."
);
create_exception!(
    agent_mesh,
    NotFound,
    MeshError,
    "The key, artifact or resource does not exist."
);
create_exception!(
    agent_mesh,
    Conflict,
    MeshError,
    "A conditional write failed (if_version / if_absent)."
);
create_exception!(
    agent_mesh,
    InvalidInput,
    MeshError,
    "A bad key, value, option or definition."
);
create_exception!(
    agent_mesh,
    TooLarge,
    MeshError,
    "A value, event or payload exceeds a limit."
);
create_exception!(
    agent_mesh,
    PermissionDenied,
    MeshError,
    "The backend refused access."
);
create_exception!(
    agent_mesh,
    Throttled,
    MeshError,
    "The backend asked to slow down; retry later."
);
create_exception!(
    agent_mesh,
    Unavailable,
    MeshError,
    "The backend cannot be reached right now; retry later."
);
create_exception!(
    agent_mesh,
    Unsupported,
    MeshError,
    "Not supported by this backend or build."
);
create_exception!(
    agent_mesh,
    Config,
    MeshError,
    "The configuration (URL, environment, resources) is wrong."
);
create_exception!(
    agent_mesh,
    Internal,
    MeshError,
    "A bug or unexpected state inside agent-mesh."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("MeshError", py.get_type::<MeshError>())?;
    for kind in ErrorKind::ALL {
        m.add(kind.name(), exception_type(py, kind))?;
    }
    // The core's list of kinds, which tests compare the classes and the stubs with.
    let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    m.add("_ERROR_KINDS", names)?;
    Ok(())
}

fn exception_type(py: Python<'_>, kind: ErrorKind) -> Bound<'_, pyo3::types::PyType> {
    match kind {
        ErrorKind::NotFound => py.get_type::<NotFound>(),
        ErrorKind::Conflict => py.get_type::<Conflict>(),
        ErrorKind::InvalidInput => py.get_type::<InvalidInput>(),
        ErrorKind::TooLarge => py.get_type::<TooLarge>(),
        ErrorKind::PermissionDenied => py.get_type::<PermissionDenied>(),
        ErrorKind::Throttled => py.get_type::<Throttled>(),
        ErrorKind::Unavailable => py.get_type::<Unavailable>(),
        ErrorKind::Unsupported => py.get_type::<Unsupported>(),
        ErrorKind::Config => py.get_type::<Config>(),
        ErrorKind::Internal => py.get_type::<Internal>(),
        // A kind added to the core after this binding was built: the base class still catches it.
        _ => py.get_type::<MeshError>(),
    }
}

/// The Python exception for a core error.
pub fn to_py_err(error: Error) -> PyErr {
    Python::attach(|py| {
        let ty = exception_type(py, error.kind);
        let err = PyErr::from_type(ty, error.message.clone());
        let value = err.value(py);
        let context = PyDict::new(py);
        let filled = error
            .context
            .iter()
            .try_for_each(|(k, v)| context.set_item(k, v))
            .and_then(|()| value.setattr("kind", error.kind.name()))
            .and_then(|()| value.setattr("message", &error.message))
            .and_then(|()| value.setattr("retryable", error.retryable))
            .and_then(|()| value.setattr("context", context));
        filled.err().unwrap_or(err)
    })
}

/// Shorthand: converts a core `Result` into a `PyResult`.
pub trait IntoPy<T> {
    /// Maps the error to its Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for agent_mesh::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}
