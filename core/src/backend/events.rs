//! The event backend trait, and the subscription shared by the backends that keep events in an
//! ordered log of their own (memory, local).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use crate::pattern::EventPattern;
use crate::types::events::{ReceivedEvent, SubscribeOptions};

/// One validated event, as the public API hands it to a backend.
#[derive(Debug, Clone)]
pub struct EventEntry {
    /// `Source` (validated, never starting with `aws.`).
    pub source: String,
    /// `DetailType`.
    pub detail_type: String,
    /// `Detail`, a JSON object.
    pub detail: serde_json::Value,
    /// `detail` as JSON text.
    pub detail_json: String,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `Time`, set by the public API when the caller gave none.
    pub time: Timestamp,
}

/// Publishing events and subscribing to them.
///
/// Guarantees every implementation gives (checked by the behaviour suite):
/// - **Per-entry outcome**: `put_events` answers one result per entry, in order; an entry
///   reported `Ok` is delivered to every open subscription whose pattern matches it, an entry
///   reported `Err` is delivered to none.
/// - **Pattern semantics**: a subscription receives exactly the events its EventBridge pattern
///   matches (the envelope of [`ReceivedEvent::to_json`]).
/// - **Local order** (memory, local): subscriptions receive events in the order their
///   `put_events` calls were accepted, across processes sharing a mesh, and lose none while
///   open; a named subscription resumes after the last event it handed out. On AWS, delivery
///   goes through SQS standard queues: at least once, not ordered.
#[async_trait]
pub trait EventBackend: Send + Sync + std::fmt::Debug {
    /// Publishes at most 10 entries (each within the 256 KB limit); one result per entry: the
    /// event id, or why that entry was not accepted.
    async fn put_events(&self, entries: &[EventEntry]) -> Result<Vec<Result<String>>>;
    /// Opens a subscription delivering the events `pattern` matches.
    async fn subscribe(
        &self,
        pattern: EventPattern,
        options: &SubscribeOptions,
    ) -> Result<Box<dyn EventStream>>;
    /// Deletes the durable subscription `name` (a valid subscription name) with its position
    /// and, on AWS, its rule, target and queue; returns whether it existed. Subscribing with
    /// the name again starts afresh at the end of the log. A stream still open on it fails
    /// with `NotFound` on its next call that reads or acknowledges; closing it succeeds.
    async fn delete_subscription(&self, name: &str) -> Result<bool>;
}

/// The receiving end of one subscription.
#[async_trait]
pub trait EventStream: Send + std::fmt::Debug {
    /// The next matching event, waiting at most `timeout` (`None`: until one arrives);
    /// `Ok(None)` when the time ran out. Handing out an event acknowledges the one before it.
    async fn next(&mut self, timeout: Option<Duration>) -> Result<Option<ReceivedEvent>>;
    /// Acknowledges what was handed out and releases the subscription (an unnamed one is
    /// deleted). Idempotent.
    async fn close(&mut self) -> Result<()>;
    /// Takes back `event`, the event handed out last, which its caller could not take (a
    /// cancelled await): the next call hands it out again, and it is not acknowledged before.
    /// Any other event is ignored: it was acknowledged already.
    fn put_back(&mut self, event: ReceivedEvent);
}

/// An ordered, durable log of events that [`LogSubscription`] reads: the memory and local
/// backends implement it.
#[async_trait]
pub(crate) trait EventLog: Send + Sync + std::fmt::Debug {
    /// The sequence number of the newest event (0 when the log is empty).
    async fn last_seq(&self) -> Result<u64>;
    /// Up to `limit` events after `seq`, in order, with their sequence numbers, as EventBridge
    /// envelopes ([`ReceivedEvent::to_json`]): what patterns match, so events a subscription
    /// does not want are never decoded. `None` for an envelope that cannot be decoded (stored
    /// by an older version or another tool): subscriptions pass over it.
    async fn read_after(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Option<serde_json::Value>)>>;
    /// Where the named subscription stopped, registering it at the log's end (with `pattern`)
    /// if it is new.
    async fn open_named(&self, name: &str, pattern: &str) -> Result<u64>;
    /// Records that the named subscription handed out everything up to `seq`; false (and
    /// nothing recorded) when the subscription was deleted.
    async fn save_position(&self, name: &str, seq: u64) -> Result<bool>;
    /// Whether the named subscription exists (it was not deleted).
    async fn named_exists(&self, name: &str) -> Result<bool>;
    /// Deletes the named subscription's position; returns whether it existed.
    async fn delete_named(&self, name: &str) -> Result<bool>;
    /// The counter that [`AppendSignal::raise`] raises on every append the log learns of, for
    /// a new subscription to wait on.
    fn appends(&self) -> watch::Receiver<u64>;
    /// How long a subscription waits for a signal before it looks at the log anyway: appends
    /// by other processes can arrive unsignalled when no wake-up path exists.
    fn poll_interval(&self) -> Duration;
}

/// Tells a log's subscriptions that events were appended, without losing a signal that lands
/// between a subscription's read and its wait: a counter every append raises, which a
/// subscription marks seen before it reads the log and then waits to change.
#[derive(Debug)]
pub(crate) struct AppendSignal(watch::Sender<u64>);

impl Default for AppendSignal {
    fn default() -> Self {
        AppendSignal(watch::channel(0).0)
    }
}

impl AppendSignal {
    /// Signals an append (from this process, or one another process reported).
    pub(crate) fn raise(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every later raise.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Events read from the log per query.
const READ_BATCH: usize = 256;

/// A subscription reading an [`EventLog`] from a position, filtering by pattern.
#[derive(Debug)]
pub(crate) struct LogSubscription {
    log: Arc<dyn EventLog>,
    /// Raised by the log on every append it learns of.
    appends: watch::Receiver<u64>,
    pattern: EventPattern,
    name: Option<String>,
    /// Sequence number of the last event read from the log.
    read_to: u64,
    /// Sequence number and id of the last event handed out (acknowledged by the next call).
    handed_out: Option<(u64, String)>,
    buffer: VecDeque<(u64, ReceivedEvent)>,
}

impl LogSubscription {
    /// Opens a subscription: a named one where it stopped, else at the end of the log.
    pub(crate) async fn open(
        log: Arc<dyn EventLog>,
        pattern: EventPattern,
        options: &SubscribeOptions,
    ) -> Result<Self> {
        let read_to = match &options.name {
            Some(name) => log.open_named(name, &pattern.as_json().to_string()).await?,
            None => log.last_seq().await?,
        };
        Ok(LogSubscription {
            appends: log.appends(),
            log,
            pattern,
            name: options.name.clone(),
            read_to,
            handed_out: None,
            buffer: VecDeque::new(),
        })
    }

    /// Saves the position of the event handed out last, for a named subscription. Fails with
    /// `NotFound` when the subscription was deleted meanwhile (`Events::delete_subscription`),
    /// as its queue's absence makes the stream fail on AWS; with nothing to save, a named
    /// subscription checks that it still exists.
    async fn acknowledge(&mut self) -> Result<()> {
        let Some(name) = &self.name else {
            return Ok(());
        };
        let exists = match self.handed_out.take() {
            Some((seq, _)) => self.log.save_position(name, seq).await?,
            None => self.log.named_exists(name).await?,
        };
        if exists { Ok(()) } else { Err(deleted(name)) }
    }

    /// Reads the next batch of the log into the buffer, keeping the matching events.
    async fn fill(&mut self) -> Result<()> {
        let events = self.log.read_after(self.read_to, READ_BATCH).await?;
        if let Some((last, _)) = events.last() {
            self.read_to = *last;
        }
        // An unreadable envelope fails alone: it is passed over, never wedging the subscription.
        for (seq, envelope) in events {
            let Some(envelope) = envelope else { continue };
            if self.pattern.matches(&envelope)
                && let Ok(event) = ReceivedEvent::from_json("events.next", &envelope)
            {
                self.buffer.push_back((seq, event));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventStream for LogSubscription {
    async fn next(&mut self, timeout: Option<Duration>) -> Result<Option<ReceivedEvent>> {
        self.acknowledge().await?;
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            if let Some((seq, event)) = self.buffer.pop_front() {
                self.handed_out = Some((seq, event.id.clone()));
                return Ok(Some(event));
            }
            // Marked seen before the read: an append after it changes the counter again.
            self.appends.borrow_and_update();
            let before = self.read_to;
            self.fill().await?;
            if !self.buffer.is_empty() || self.read_to != before {
                continue;
            }
            let wait = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    left.min(self.log.poll_interval())
                }
                None => self.log.poll_interval(),
            };
            // The signal's sender lives in the log, which this subscription holds: `changed`
            // cannot fail.
            let _ = tokio::time::timeout(wait, self.appends.changed()).await;
        }
    }

    async fn close(&mut self) -> Result<()> {
        match self.acknowledge().await {
            // Deleted meanwhile: there is nothing left to release.
            Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn put_back(&mut self, event: ReceivedEvent) {
        if let Some((seq, _)) = self.handed_out.take_if(|(_, id)| *id == event.id) {
            self.buffer.push_front((seq, event));
        }
    }
}

/// The error of a stream whose named subscription was deleted while it was open.
fn deleted(name: &str) -> Error {
    Error::keyed(
        ErrorKind::NotFound,
        "events.next",
        name,
        "the subscription was deleted (events.delete_subscription) while open; subscribe again",
    )
}

/// `account` of events on the memory and local backends.
pub(crate) const LOCAL_ACCOUNT: &str = "000000000000";
/// `region` of events on the memory and local backends.
pub(crate) const LOCAL_REGION: &str = "local";

/// The envelope the memory and local backends deliver for `entry`: a new UUID id and the
/// time to the second, as EventBridge delivers it.
pub(crate) fn local_envelope(entry: &EventEntry) -> ReceivedEvent {
    use chrono::Timelike;
    ReceivedEvent {
        id: uuid::Uuid::new_v4().to_string(),
        detail_type: entry.detail_type.clone(),
        source: entry.source.clone(),
        account: LOCAL_ACCOUNT.to_owned(),
        region: LOCAL_REGION.to_owned(),
        time: entry.time.with_nanosecond(0).unwrap_or(entry.time),
        resources: entry.resources.clone(),
        detail: entry.detail.clone(),
    }
}
