//! The `agent-mesh` command line inside the extension: `pip install ./bindings-python` puts a
//! console script on the PATH (`agent_mesh._cli:main`) that calls [`cli_main`], so the Python
//! package ships the Rust CLI without a second build.

use pyo3::prelude::*;

/// Runs the `agent-mesh` command line with `argv` (the program name first) in this process
/// and returns its exit code. The GIL is released while it runs; it blocks until the command
/// ends (`mcp`: until its client leaves).
#[pyfunction]
pub fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| {
        std::panic::catch_unwind(|| agent_mesh::unstable::cli::main(argv)).unwrap_or_else(|_| {
            agent_mesh::unstable::cli::exit::code(agent_mesh::ErrorKind::Internal)
        })
    })
}
