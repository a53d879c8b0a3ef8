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

/// Runs `future` to completion with the GIL released.
pub fn block_on<F>(py: Python<'_>, future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime();
    py.detach(|| rt.block_on(future))
}
