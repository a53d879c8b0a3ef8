//! `mesh.events`, `Subscription` and `testEventPattern`.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use napi::Env;
use napi::bindgen_prelude::PromiseRaw;
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::errors::{IntoJs, Result, invalid};
use crate::json::Json;
use crate::promise::{Canceller, abortable, promise};

/// Like EventBridge's TestEventPattern: whether `event` matches `pattern` (objects or JSON
/// text). Throws a MeshError with code `InvalidInput`, saying what is wrong, for a pattern
/// EventBridge would reject.
#[napi(ts_args_type = "pattern: object | string, event: object | string")]
pub fn test_event_pattern(pattern: Value, event: Value) -> Result<bool> {
    let pattern = json_text_or_value("test_event_pattern", "pattern", pattern)?;
    let event = json_text_or_value("test_event_pattern", "event", event)?;
    agent_mesh::test_event_pattern(&pattern, &event).js()
}

/// A JSON argument given as an object or as JSON text.
pub(crate) fn json_text_or_value(operation: &str, what: &str, value: Value) -> Result<Value> {
    agent_mesh::unstable::validate::json_text_or_value(operation, what, what, value).js()
}

/// An event to send.
#[napi(object)]
pub struct EventInput {
    /// EventBridge `DetailType`, e.g. `'OrderCreated'`.
    pub detail_type: String,
    /// EventBridge `Detail`: an object.
    pub detail: Value,
    /// EventBridge `Source` (default `'agent-mesh'`).
    pub source: Option<String>,
    /// EventBridge `Resources`.
    pub resources: Option<Vec<String>>,
    /// The event's time (default: now).
    pub time: Option<DateTime<Utc>>,
    /// Timeline stream to append to (default `events/<source>/<detailType>`).
    pub stream: Option<String>,
}

impl From<EventInput> for agent_mesh::Event {
    fn from(e: EventInput) -> Self {
        let mut event = agent_mesh::Event::new(e.detail_type, e.detail)
            .with_resources(e.resources.unwrap_or_default());
        event.source = e.source;
        event.time = e.time;
        event.stream = e.stream;
        event
    }
}

/// An event as subscribers receive it (the fields of an EventBridge envelope).
#[napi(object)]
pub struct ReceivedEvent {
    /// The event id.
    pub id: String,
    /// `detail-type`.
    pub detail_type: String,
    /// `source`.
    pub source: String,
    /// `account` (`'000000000000'` locally).
    pub account: String,
    /// `region` (`'local'` locally).
    pub region: String,
    /// `time` (to the second).
    pub time: DateTime<Utc>,
    /// `resources`.
    pub resources: Vec<String>,
    /// `detail`.
    #[napi(ts_type = "any")]
    pub detail: Json,
}

impl From<agent_mesh::ReceivedEvent> for ReceivedEvent {
    fn from(e: agent_mesh::ReceivedEvent) -> Self {
        ReceivedEvent {
            id: e.id,
            detail_type: e.detail_type,
            source: e.source,
            account: e.account,
            region: e.region,
            time: e.time,
            resources: e.resources,
            detail: Json(e.detail),
        }
    }
}

/// Why one event of `sendBatch` was not sent.
#[napi(object)]
pub struct SendError {
    /// The error kind (`'Throttled'`, `'Unavailable'`, ...), as a MeshError's `code`.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Whether sending it again may succeed.
    pub retryable: bool,
}

/// The outcome of one event of `sendBatch`: `eventId` when sent, else `error`.
#[napi(object)]
pub struct SendResult {
    /// The event id, or null when not sent.
    pub event_id: Option<String>,
    /// Why it was not sent, or null.
    pub error: Option<SendError>,
}

/// Options of `events.subscribe`.
#[napi(object)]
#[derive(Default)]
pub struct SubscribeOptions {
    /// A durable subscription's name: it resumes where it stopped.
    pub name: Option<String>,
}

/// The events namespace of a `MeshClient`.
#[napi]
pub struct Events {
    mesh: agent_mesh::MeshClient,
}

impl Events {
    pub(crate) fn new(mesh: agent_mesh::MeshClient) -> Self {
        Events { mesh }
    }
}

#[napi]
impl Events {
    /// Sends one event; resolves to its id. The event is also appended to the timeline.
    #[napi]
    pub fn send<'env>(
        &self,
        env: &'env Env,
        event: EventInput,
    ) -> Result<PromiseRaw<'env, String>> {
        let mesh = self.mesh.clone();
        promise(
            env,
            async move { mesh.events().send(event.into()).await.js() },
        )
    }

    /// Sends many events in batches of at most 10 and 256 KB; resolves to one result per event,
    /// in order. Invalid events reject the call before anything is sent.
    #[napi]
    pub fn send_batch<'env>(
        &self,
        env: &'env Env,
        events: Vec<EventInput>,
    ) -> Result<PromiseRaw<'env, Vec<SendResult>>> {
        let mesh = self.mesh.clone();
        let events = events.into_iter().map(Into::into).collect();
        promise(env, async move {
            let results = mesh.events().send_batch(events).await.js()?;
            Ok(results
                .into_iter()
                .map(|r| match r {
                    Ok(id) => SendResult {
                        event_id: Some(id),
                        error: None,
                    },
                    Err(e) => SendResult {
                        event_id: None,
                        error: Some(SendError {
                            code: e.kind.name().to_owned(),
                            message: e.message,
                            retryable: e.retryable,
                        }),
                    },
                })
                .collect())
        })
    }

    /// Subscribes to the events `pattern` (EventBridge syntax, object or JSON text) matches,
    /// from now on; `{ name }` makes it durable.
    #[napi(ts_args_type = "pattern: object | string, options?: SubscribeOptions")]
    pub fn subscribe<'env>(
        &self,
        env: &'env Env,
        pattern: Value,
        options: Option<SubscribeOptions>,
    ) -> Result<PromiseRaw<'env, Subscription>> {
        let pattern = json_text_or_value("events.subscribe", "pattern", pattern)?;
        let name = options.unwrap_or_default().name;
        let mesh = self.mesh.clone();
        promise(env, async move {
            let sub = mesh
                .events()
                .subscribe_with(
                    &pattern,
                    agent_mesh::SubscribeOptions::default().with_name(name),
                )
                .await
                .js()?;
            Ok(Subscription {
                inner: Arc::new(Mutex::new(Some(sub))),
            })
        })
    }

    /// Deletes the durable subscription `name` (locally its position, on AWS its rule, target
    /// and queue); resolves to whether it existed. Subscribing with the name again starts
    /// afresh; a subscription still open on it rejects its next call with `NotFound`.
    #[napi]
    pub fn delete_subscription<'env>(
        &self,
        env: &'env Env,
        name: String,
    ) -> Result<PromiseRaw<'env, bool>> {
        let mesh = self.mesh.clone();
        promise(env, async move {
            mesh.events().delete_subscription(&name).await.js()
        })
    }
}

/// How long one wait of `next()` holds the subscription before letting `close()` in.
const WAIT_SLICE: Duration = Duration::from_millis(200);

/// One subscription: `await sub.next(timeoutMs?)`, `for await (const event of sub)`,
/// `await sub.close()`. Asking for the next event acknowledges the previous one.
#[napi]
pub struct Subscription {
    inner: Arc<Mutex<Option<agent_mesh::Subscription>>>,
}

#[napi]
impl Subscription {
    /// The next matching event, waiting at most `timeoutMs` (no limit when omitted); null when
    /// the time ran out. Aborting `signal` gives up the wait in the core (no event is lost).
    #[napi(
        ts_args_type = "timeoutMs?: number | undefined | null, signal?: AbortSignal | undefined | null",
        ts_return_type = "Promise<ReceivedEvent | null>"
    )]
    pub fn next<'env>(
        &self,
        env: &'env Env,
        timeout_ms: Option<f64>,
        signal: Option<&Canceller>,
    ) -> Result<PromiseRaw<'env, Option<ReceivedEvent>>> {
        let inner = self.inner.clone();
        let deadline = match timeout_ms {
            Some(ms) => Some(
                tokio::time::Instant::now()
                    + crate::errors::timeout_ms("subscription.next", "timeoutMs", ms)?,
            ),
            None => None,
        };
        abortable(
            env,
            async move {
                // Waits in slices, releasing the subscription between them, so `close()` from
                // elsewhere is never stuck behind a `next()` that waits for ever.
                loop {
                    let mut guard = inner.lock().await;
                    let Some(sub) = guard.as_mut() else {
                        return Err(invalid(
                            "events.next",
                            "subscription",
                            "the subscription is closed; subscribe again",
                        ));
                    };
                    let slice = match deadline {
                        Some(d) => d
                            .saturating_duration_since(tokio::time::Instant::now())
                            .min(WAIT_SLICE),
                        None => WAIT_SLICE,
                    };
                    if let Some(event) = sub.next_timeout(slice).await.js()? {
                        return Ok(Some(event.into()));
                    }
                    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                        return Ok(None);
                    }
                }
            },
            signal,
        )
    }

    /// Acknowledges what was received and releases the subscription. Idempotent.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let inner = self.inner.clone();
        promise(env, async move {
            let sub = inner.lock().await.take();
            match sub {
                Some(sub) => sub.close().await.js(),
                None => Ok(()),
            }
        })
    }
}
