//! Turning core futures into JavaScript Promises without a thread hop when none is needed.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::{AbortSignal, PromiseRaw, ToNapiValue};
use napi::{Env, Result};

/// The Promise of `future`. The future is polled once on the calling (JavaScript) thread, inside
/// napi's tokio runtime: if it is already done — a local read, an uncontended local write, any
/// memory-backend call — the Promise is returned settled, saving the round trip through a tokio
/// task and back to the event loop (about 100 µs). Otherwise the future, which has not blocked,
/// continues on the runtime.
///
/// A panic inside the core rejects the Promise with an `Internal` MeshError; it never aborts the
/// Node process.
pub fn promise<T, F>(env: &Env, future: F) -> Result<PromiseRaw<'_, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    use futures::FutureExt;
    let mut future = Box::pin(
        std::panic::AssertUnwindSafe(future)
            .catch_unwind()
            .map(|result| {
                result.unwrap_or_else(|panic| {
                    Err(crate::errors::to_js(agent_mesh::Error::from_panic(
                        "agent-mesh",
                        panic.as_ref(),
                    )))
                })
            }),
    );
    let mut cx = Context::from_waker(Waker::noop());
    match napi::bindgen_prelude::within_runtime_if_available(|| future.as_mut().poll(&mut cx)) {
        Poll::Ready(Ok(value)) => PromiseRaw::resolve(env, value),
        Poll::Ready(Err(error)) => PromiseRaw::reject(env, error),
        Poll::Pending => env.spawn_future(future),
    }
}

/// Message of the rejection of a call whose `AbortSignal` fired; `index.js` turns it into the
/// signal's `reason` (an `AbortError`), as `fetch` does.
pub const ABORTED: &str = "agent-mesh-aborted";

/// [`promise`], cancelled by `signal`: when it fires, the core's future is dropped at its next
/// step, which cancels its work (a subscription's wait, a workflow wait, a file transfer, whose
/// multipart upload is aborted), and the Promise rejects. A result the core had already
/// produced is delivered instead, so an event is never received and lost.
pub fn abortable<T, F>(
    env: &Env,
    future: F,
    signal: Option<AbortSignal>,
) -> Result<PromiseRaw<'_, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let Some(signal) = signal else {
        return promise(env, future);
    };
    let (handle, registration) = futures::future::AbortHandle::new_pair();
    signal.on_abort(move || handle.abort());
    promise(env, async move {
        futures::future::Abortable::new(future, registration)
            .await
            .unwrap_or_else(|_aborted| Err(napi::Error::new(napi::Status::Cancelled, ABORTED)))
    })
}
