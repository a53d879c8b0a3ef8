//! The tokio runtime the bindings run the core on (rebuilt in a forked child), and how a call
//! answers: blocking, for `MeshClient`, or with an asyncio awaitable, for `AsyncMeshClient`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures::FutureExt;
use pyo3::IntoPyObjectExt;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyCFunction;
use tokio::runtime::Runtime;

use crate::errors::IntoPy;

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

/// How the methods of a native object answer. `MeshClient` and the objects it hands out block
/// the calling thread (with the GIL released); the same objects behind `AsyncMeshClient`
/// return an asyncio awaitable instead. Every method is written once and answers through
/// [`Mode::run`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The call blocks until the core answers and returns the value.
    Blocking,
    /// The call returns an awaitable of the value, without blocking the event loop.
    Asyncio,
}

impl Mode {
    /// Runs the core's `future` and turns its value into Python with `convert`: blocking, or as
    /// an awaitable. In asyncio mode the future is polled once on the calling thread; when it
    /// is already done (a local read, an uncontended local write, any memory-backend call) the
    /// awaitable is a finished asyncio future, with no thread hop. Otherwise the future carries
    /// on in the runtime, and cancelling the awaitable drops it, which cancels the work in the
    /// core (a subscription's `next`, a `wait`, an upload, whose multipart upload is aborted).
    pub fn run<'py, T, F, C, R>(
        self,
        py: Python<'py>,
        future: F,
        convert: C,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = agent_mesh::Result<T>> + Send + 'static,
        T: Send + 'static,
        C: for<'a> FnOnce(Python<'a>, T) -> PyResult<R> + Send + 'static,
        R: for<'a> IntoPyObject<'a>,
    {
        self.run_or_give_back(py, future, convert, drop)
    }

    /// [`Mode::run`], with `give_back` receiving the value when the awaitable was cancelled
    /// after the core had produced it (an event a cancelled `next` received), so it is not lost.
    pub fn run_or_give_back<'py, T, F, C, R, G>(
        self,
        py: Python<'py>,
        future: F,
        convert: C,
        give_back: G,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: Future<Output = agent_mesh::Result<T>> + Send + 'static,
        T: Send + 'static,
        C: for<'a> FnOnce(Python<'a>, T) -> PyResult<R> + Send + 'static,
        R: for<'a> IntoPyObject<'a>,
        G: FnOnce(T) + Send + 'static,
    {
        match self {
            Mode::Blocking => {
                let value = block_on(py, future).py()?;
                convert(py, value)?.into_bound_py_any(py)
            }
            Mode::Asyncio => awaitable(
                py,
                future,
                move |py, value| convert(py, value)?.into_py_any(py),
                give_back,
            ),
        }
    }
}

/// The asyncio awaitable of `future` (see [`Mode::run_or_give_back`]).
fn awaitable<'py, T, F, C, G>(
    py: Python<'py>,
    future: F,
    convert: C,
    give_back: G,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = agent_mesh::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    G: FnOnce(T) + Send + 'static,
{
    let event_loop = py
        .import(intern!(py, "asyncio"))?
        .call_method0(intern!(py, "get_running_loop"))?;
    let settled = event_loop.call_method0(intern!(py, "create_future"))?;
    let mut future = Box::pin(
        std::panic::AssertUnwindSafe(future)
            .catch_unwind()
            .map(|result| {
                result.unwrap_or_else(|panic| {
                    Err(agent_mesh::Error::from_panic("agent-mesh", panic.as_ref()))
                })
            }),
    );
    let rt = runtime();
    let first = py.detach(|| {
        let _entered = rt.enter();
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    });
    if let Poll::Ready(result) = first {
        settle(py, &settled, result, convert)?;
        return Ok(settled);
    }
    let (target, on_loop) = (settled.clone().unbind(), event_loop.unbind());
    let task = rt.spawn(async move {
        let undelivered = Undelivered(Some((future.await, convert, give_back)));
        // Not on the runtime's worker: waiting for the GIL there would stall every other task.
        // When the interpreter is gone, the value is given back as `undelivered` drops.
        tokio::task::spawn_blocking(move || {
            Python::try_attach(|py| deliver(py, target, on_loop, undelivered))
        });
    });
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(py, None, None, move |args, _kwargs| {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            abort.abort();
        }
        PyResult::Ok(())
    })?;
    settled.call_method1(intern!(py, "add_done_callback"), (on_done,))?;
    Ok(settled)
}

/// A result on its way to an asyncio future, with its conversion and its give-back. Dropped
/// undelivered (its event loop closed first, or the interpreter is finalizing), a value goes
/// to the give-back, so an event received for nobody is not lost.
struct Undelivered<T, C, G: FnOnce(T)>(Option<(agent_mesh::Result<T>, C, G)>);

impl<T, C, G: FnOnce(T)> Drop for Undelivered<T, C, G> {
    fn drop(&mut self) {
        if let Some((Ok(value), _, give_back)) = self.0.take() {
            give_back(value);
        }
    }
}

/// Hands the result to the asyncio future `target` on its event loop (asyncio futures are not
/// thread-safe); if the future was cancelled meanwhile, or the loop is gone, a value goes to
/// the give-back instead.
fn deliver<T, C, G>(
    py: Python<'_>,
    target: Py<PyAny>,
    on_loop: Py<PyAny>,
    undelivered: Undelivered<T, C, G>,
) where
    T: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>> + Send + 'static,
    G: FnOnce(T) + Send + 'static,
{
    let pending = Mutex::new(undelivered);
    let callback = PyCFunction::new_closure(py, None, None, move |args, _kwargs| {
        let py = args.py();
        let taken = pending.lock().unwrap_or_else(|e| e.into_inner()).0.take();
        let Some((result, convert, give_back)) = taken else {
            return PyResult::Ok(());
        };
        let target = target.bind(py);
        if target.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
            if let Ok(value) = result {
                give_back(value);
            }
            return Ok(());
        }
        settle(py, target, result, convert)
    });
    // If the loop is closed, the callback is dropped here, and with it the value (given back).
    let _ = callback.and_then(|callback| {
        on_loop
            .bind(py)
            .call_method1(intern!(py, "call_soon_threadsafe"), (callback,))
    });
}

/// Spawns `future` on the binding's runtime (fire and forget).
pub fn spawn(future: impl Future<Output = ()> + Send + 'static) {
    runtime().spawn(future);
}

/// Sets the result (or the exception) of the asyncio future `target`.
fn settle<T, C>(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    result: agent_mesh::Result<T>,
    convert: C,
) -> PyResult<()>
where
    C: for<'a> FnOnce(Python<'a>, T) -> PyResult<Py<PyAny>>,
{
    match result.py().and_then(|value| convert(py, value)) {
        Ok(value) => target.call_method1(intern!(py, "set_result"), (value,))?,
        Err(error) => target.call_method1(intern!(py, "set_exception"), (error.into_value(py),))?,
    };
    Ok(())
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
