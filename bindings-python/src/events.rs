//! `mesh.events`, `Subscription`, `ReceivedEvent` and `test_event_pattern`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agent_mesh::{Event, SubscribeOptions, Timestamp};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::client::Shared;
use crate::convert::{from_py, to_py};
use crate::errors::{IntoPy, to_py_err};
use crate::runtime::{self, Mode, block_on};

/// A JSON argument given as a dict/list or as JSON text.
fn json_arg(operation: &str, what: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(text) = obj.cast::<PyString>() {
        return serde_json::from_str(&text.to_cow()?).map_err(|e| {
            to_py_err(agent_mesh::Error::invalid_input(
                operation,
                what,
                format!("not valid JSON text: {e}"),
            ))
        });
    }
    from_py(operation, what, obj)
}

/// Like EventBridge's TestEventPattern: True when `event` matches `pattern` (both dicts or JSON
/// text). Raises InvalidInput, saying what is wrong, for a pattern EventBridge would reject.
#[pyfunction]
pub fn test_event_pattern(pattern: &Bound<'_, PyAny>, event: &Bound<'_, PyAny>) -> PyResult<bool> {
    let pattern = json_arg("test_event_pattern", "pattern", pattern)?;
    let event = json_arg("test_event_pattern", "event", event)?;
    agent_mesh::test_event_pattern(&pattern, &event).py()
}

/// An event as subscribers receive it (the fields of an EventBridge envelope).
#[pyclass(frozen, module = "agent_mesh")]
pub struct ReceivedEvent {
    inner: agent_mesh::ReceivedEvent,
}

#[pymethods]
impl ReceivedEvent {
    /// The event id.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }
    /// `detail-type`.
    #[getter]
    fn detail_type(&self) -> &str {
        &self.inner.detail_type
    }
    /// `source`.
    #[getter]
    fn source(&self) -> &str {
        &self.inner.source
    }
    /// `account` ("000000000000" locally).
    #[getter]
    fn account(&self) -> &str {
        &self.inner.account
    }
    /// `region` ("local" locally).
    #[getter]
    fn region(&self) -> &str {
        &self.inner.region
    }
    /// `time` (UTC, to the second).
    #[getter]
    fn time(&self) -> Timestamp {
        self.inner.time
    }
    /// `resources`.
    #[getter]
    fn resources(&self) -> Vec<String> {
        self.inner.resources.clone()
    }
    /// `detail` as Python objects.
    #[getter]
    fn detail<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.detail)
    }
    /// The EventBridge envelope as a dict (`detail-type` etc.), what patterns match against.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.to_json())
    }
    fn __repr__(&self) -> String {
        format!(
            "ReceivedEvent(id={:?}, source={:?}, detail_type={:?})",
            self.inner.id, self.inner.source, self.inner.detail_type
        )
    }
}

/// The outcome of one event of `send_batch`: `.event_id` when sent, else `.error` (a MeshError).
#[pyclass(frozen, get_all, module = "agent_mesh")]
pub struct SendResult {
    /// The event id, or None when the event was not sent.
    pub event_id: Option<String>,
    /// Why the event was not sent (a MeshError subclass instance), or None.
    pub error: Option<Py<PyAny>>,
}

#[pymethods]
impl SendResult {
    fn __repr__(&self) -> String {
        match (&self.event_id, &self.error) {
            (Some(id), _) => format!("SendResult(event_id={id:?})"),
            (None, Some(e)) => format!("SendResult(error={e})"),
            (None, None) => "SendResult()".into(),
        }
    }
}

/// Builds a core event from the send arguments.
#[allow(clippy::too_many_arguments)]
fn event(
    operation: &str,
    detail_type: String,
    detail: &Bound<'_, PyAny>,
    source: Option<String>,
    resources: Option<Vec<String>>,
    time: Option<Timestamp>,
    stream: Option<String>,
) -> PyResult<Event> {
    let detail = json_arg(operation, &detail_type, detail)?;
    let mut event = Event::new(detail_type, detail).with_resources(resources.unwrap_or_default());
    event.source = source;
    event.time = time;
    event.stream = stream;
    Ok(event)
}

/// `mesh.events`: send events and subscribe to them with EventBridge patterns.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Events {
    pub(crate) shared: Arc<Shared>,
    pub(crate) mode: Mode,
}

#[pymethods]
impl Events {
    /// Sends one event; returns its id. `detail` is a dict; the event is also appended to the
    /// timeline (`stream`, else `events/<source>/<detail_type>`).
    #[pyo3(signature = (detail_type, detail, *, source=None, resources=None, time=None, stream=None))]
    #[allow(clippy::too_many_arguments)]
    fn send<'py>(
        &self,
        py: Python<'py>,
        detail_type: String,
        detail: &Bound<'_, PyAny>,
        source: Option<String>,
        resources: Option<Vec<String>>,
        time: Option<Timestamp>,
        stream: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let event = event(
            "events.send",
            detail_type,
            detail,
            source,
            resources,
            time,
            stream,
        )?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.events().send(event).await },
            |_, id| Ok(id),
        )
    }

    /// Sends many events (dicts with the keys of `send`'s arguments) in batches of at most 10
    /// and 256 KB; returns one SendResult per event, in order. Invalid events raise before
    /// anything is sent.
    fn send_batch<'py>(
        &self,
        py: Python<'py>,
        events: Vec<Bound<'_, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let events = events
            .iter()
            .map(|d| {
                let get = |k: &str| d.get_item(k);
                let detail_type: String = get("detail_type")?
                    .ok_or_else(|| {
                        to_py_err(agent_mesh::Error::invalid_input(
                            "events.send_batch",
                            "detail_type",
                            "every event needs a \"detail_type\" key",
                        ))
                    })?
                    .extract()?;
                let detail = get("detail")?.unwrap_or_else(|| PyDict::new(py).into_any());
                let opt = |k: &str| -> PyResult<Option<Bound<'_, PyAny>>> {
                    Ok(get(k)?.filter(|v| !v.is_none()))
                };
                event(
                    "events.send_batch",
                    detail_type,
                    &detail,
                    opt("source")?.map(|v| v.extract()).transpose()?,
                    opt("resources")?.map(|v| v.extract()).transpose()?,
                    opt("time")?.map(|v| v.extract()).transpose()?,
                    opt("stream")?.map(|v| v.extract()).transpose()?,
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.events().send_batch(events).await },
            |py, results| {
                Ok(results
                    .into_iter()
                    .map(|r| match r {
                        Ok(id) => SendResult {
                            event_id: Some(id),
                            error: None,
                        },
                        Err(e) => SendResult {
                            event_id: None,
                            error: Some(to_py_err(e).into_value(py).into_any()),
                        },
                    })
                    .collect::<Vec<_>>())
            },
        )
    }

    /// Subscribes to the events `pattern` (EventBridge syntax, dict or JSON text) matches, from
    /// now on; `name` makes it durable (it resumes where it stopped).
    #[pyo3(signature = (pattern, *, name=None))]
    fn subscribe<'py>(
        &self,
        py: Python<'py>,
        pattern: &Bound<'_, PyAny>,
        name: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pattern = json_arg("events.subscribe", "pattern", pattern)?;
        let client = self.shared.client(py)?;
        let mode = self.mode;
        self.mode.run(
            py,
            async move {
                let options = SubscribeOptions::default().with_name(name);
                client.events().subscribe_with(&pattern, options).await
            },
            move |_, sub| Ok(Subscription::new(sub, mode)),
        )
    }

    /// Deletes the durable subscription `name` (locally its position, on AWS its rule, target
    /// and queue); returns whether it existed. Subscribing with the name again starts afresh;
    /// a subscription still open on it raises NotFound on its next call.
    fn delete_subscription<'py>(
        &self,
        py: Python<'py>,
        name: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.shared.client(py)?;
        self.mode.run(
            py,
            async move { client.events().delete_subscription(&name).await },
            |_, existed| Ok(existed),
        )
    }
}

/// How long one wait inside `__next__` lasts before Python signals (Ctrl-C) are checked.
const SIGNAL_CHECK: Duration = Duration::from_millis(200);

/// A subscription: iterate it (`for event in sub`), or call `next(timeout)`; `close()` (or a
/// `with` block) releases it. Asking for the next event acknowledges the previous one.
#[pyclass(frozen, module = "agent_mesh")]
pub struct Subscription {
    inner: Locked,
    /// Set by `close()`.
    closed: Arc<AtomicBool>,
    mode: Mode,
}

/// The core subscription (None once closed), locked by one call at a time.
type Locked = Arc<Mutex<Option<agent_mesh::Subscription>>>;

/// An event received with the subscription still locked: nothing else can ask for the next
/// event (which would acknowledge this one) until it is handed over or put back.
struct Received {
    event: agent_mesh::ReceivedEvent,
    lock: OwnedMutexGuard<Option<agent_mesh::Subscription>>,
}

impl Received {
    /// Gives the event back to the subscription: the next call hands it out again.
    fn put_back(mut self) {
        if let Some(sub) = self.lock.as_mut() {
            sub.put_back(self.event);
        }
    }
}

/// The next event of the subscription in `inner`, waiting at most `timeout` (None: until one
/// arrives). It holds the subscription for one slice of the wait at a time, so `close()` from
/// elsewhere gets in; dropping the future gives up the wait and loses no event.
async fn receive(inner: Locked, timeout: Option<Duration>) -> agent_mesh::Result<Option<Received>> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    loop {
        let slice = deadline.map_or(SIGNAL_CHECK, |d| {
            d.saturating_duration_since(tokio::time::Instant::now())
                .min(SIGNAL_CHECK)
        });
        let mut lock = inner.clone().lock_owned().await;
        let got = match lock.as_mut() {
            Some(sub) => sub.next_timeout(slice).await?,
            None => {
                return Err(agent_mesh::Error::invalid_input(
                    "events.next",
                    "subscription",
                    "the subscription is closed; subscribe again",
                ));
            }
        };
        if let Some(event) = got {
            return Ok(Some(Received { event, lock }));
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return Ok(None);
        }
    }
}

impl Subscription {
    fn new(sub: agent_mesh::Subscription, mode: Mode) -> Self {
        Subscription {
            inner: Arc::new(Mutex::new(Some(sub))),
            closed: Arc::default(),
            mode,
        }
    }

    /// Blocks for the next event, at most `timeout`.
    fn wait(&self, py: Python<'_>, timeout: Duration) -> PyResult<Option<ReceivedEvent>> {
        let got = block_on(py, receive(self.inner.clone(), Some(timeout))).py()?;
        Ok(got.map(|r| ReceivedEvent { inner: r.event }))
    }
}

#[pymethods]
impl Subscription {
    /// The next matching event, waiting at most `timeout` seconds (None: until one arrives);
    /// None when the time ran out.
    #[pyo3(signature = (timeout=None))]
    fn next<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let timeout = timeout
            .map(|t| agent_mesh::unstable::validate::timeout("subscription.next", "timeout", t))
            .transpose()
            .map_err(crate::errors::to_py_err)?;
        if self.mode == Mode::Asyncio || timeout.is_some() {
            // The subscription stays locked until the event is handed over (the lock drops
            // with `Received` after the conversion) or, if the await was cancelled, put back.
            return self.mode.run_or_give_back(
                py,
                receive(self.inner.clone(), timeout),
                |_, got| Ok(got.map(|r| ReceivedEvent { inner: r.event })),
                |got| got.into_iter().for_each(Received::put_back),
            );
        }
        // Blocking without a timeout: wait in slices, so Ctrl-C is seen.
        loop {
            if let Some(event) = self.wait(py, SIGNAL_CHECK)? {
                return event.into_bound_py_any(py);
            }
            py.check_signals()?;
        }
    }

    /// Gives back `event`, the event `next` handed out last, which its caller could not take
    /// (an await cancelled after the event had arrived): the next call hands it out again.
    /// Any other event is ignored. Used by `AsyncSubscription`.
    fn _put_back(&self, event: &ReceivedEvent) {
        let event = event.inner.clone();
        let inner = self.inner.clone();
        runtime::spawn(async move {
            if let Some(sub) = inner.lock().await.as_mut() {
                sub.put_back(event);
            }
        });
    }

    /// Whether `close()` has run.
    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Acknowledges what was received and releases the subscription. Idempotent.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (inner, closed) = (self.inner.clone(), self.closed.clone());
        self.mode.run(
            py,
            async move {
                let sub = inner.lock().await.take();
                closed.store(true, Ordering::SeqCst);
                match sub {
                    Some(sub) => sub.close().await,
                    None => Ok(()),
                }
            },
            |_, ()| Ok(()),
        )
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// The next event; iteration ends when the subscription is closed (also from another
    /// thread while waiting).
    fn __next__(&self, py: Python<'_>) -> PyResult<ReceivedEvent> {
        loop {
            match self.wait(py, SIGNAL_CHECK) {
                Ok(Some(event)) => return Ok(event),
                Ok(None) => py.check_signals()?,
                Err(_) if self.closed() => {
                    return Err(pyo3::exceptions::PyStopIteration::new_err(()));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }
}
