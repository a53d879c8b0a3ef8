//! Turning core futures into JavaScript Promises without a thread hop when none is needed.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::{AbortHandle, AbortRegistration};
use napi::bindgen_prelude::{PromiseRaw, ToNapiValue};
use napi::{Env, Result};
use napi_derive::napi;

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

/// What `index.js` passes for a call's `AbortSignal`: it listens to the signal itself (an
/// `abort` event listener, removed when the call settles) and calls `cancel()`. The signal
/// never reaches Rust, so nothing is attached to it that outlives the call.
#[napi]
#[derive(Default)]
pub struct Canceller {
    handle: Mutex<Option<AbortHandle>>,
    cancelled: AtomicBool,
}

#[napi]
impl Canceller {
    /// A canceller not yet used by a call.
    #[napi(constructor)]
    pub fn new() -> Self {
        Canceller::default()
    }

    /// Cancels the call it was given to (now, or as soon as the call starts).
    #[napi]
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take() {
            handle.abort();
        }
    }

    fn registration(&self) -> AbortRegistration {
        let (handle, registration) = AbortHandle::new_pair();
        if self.cancelled.load(Ordering::SeqCst) {
            handle.abort();
        } else {
            *self.handle.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        }
        registration
    }
}

/// [`promise`], cancelled by `canceller`: when it is cancelled, the core's future is dropped
/// at its next step, which cancels its work (a subscription's wait, a workflow wait, a file
/// transfer, whose multipart upload is aborted), and the Promise rejects. A result the core had
/// already produced is delivered instead, so an event is never received and lost.
pub fn abortable<'env, T, F>(
    env: &'env Env,
    future: F,
    canceller: Option<&Canceller>,
) -> Result<PromiseRaw<'env, T>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let Some(canceller) = canceller else {
        return promise(env, future);
    };
    let registration = canceller.registration();
    promise(env, async move {
        futures::future::Abortable::new(future, registration)
            .await
            .unwrap_or_else(|_aborted| Err(napi::Error::new(napi::Status::Cancelled, ABORTED)))
    })
}
