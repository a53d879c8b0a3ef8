//! The tokio runtime the bindings run the core on, rebuilt in a forked child.

use std::future::Future;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process. A child made by `os.fork()` inherits the parent's runtime
/// object but not its threads, so a process whose pid differs from the creator's builds its own
/// (the inherited one is leaked: dropping it would wait for threads that do not exist).
fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    match &*slot {
        Some((owner, rt)) if *owner == pid => rt.clone(),
        _ => {
            let rt = Arc::new(
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("agent-mesh")
                    .enable_all()
                    .build()
                    .expect("agent-mesh: cannot start the tokio runtime"),
            );
            if let Some(inherited) = slot.replace((pid, rt.clone())) {
                std::mem::forget(inherited);
            }
            rt
        }
    }
}

/// Runs `future` to completion with the GIL released. A panic inside the core becomes an
/// `Internal` error (raised as `agent_mesh.Internal`), never a `PanicException`.
pub fn block_on<T, F>(py: Python<'_>, future: F) -> agent_mesh::Result<T>
where
    F: Future<Output = agent_mesh::Result<T>> + Send,
    T: Send,
{
    let rt = runtime();
    py.detach(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(future)))
            .unwrap_or_else(|panic| {
                Err(agent_mesh::Error::from_panic("agent-mesh", panic.as_ref()))
            })
    })
}

/// Run by `os.fork` before forking (registered in `agent_mesh/__init__.py`): waits until no
/// thread is inside SQLite, so the child does not inherit one of its locks held.
#[pyfunction]
pub fn before_fork(py: Python<'_>) {
    py.detach(agent_mesh::unstable::fork::close);
}

/// Run by `os.fork` after forking, in the parent (`in_child=False`) and in the child.
#[pyfunction]
pub fn after_fork(in_child: bool) {
    agent_mesh::unstable::fork::open(in_child);
}
