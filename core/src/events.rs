//! Events: send EventBridge-style events, subscribe to them with event patterns. Every sent
//! event is also appended to the timeline.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use serde_json::Value;

use crate::backend::{EventBackend, EventEntry, EventStream, TimelineRecord};
use crate::clock::{from_ms, now_ms};
use crate::error::{Error, Result};
use crate::pattern::EventPattern;
use crate::timeline::{Timeline, check_stream};
use crate::validate;

pub use crate::types::events::*;

/// Event operations of one mesh; obtained from [`crate::MeshClient::events`].
#[derive(Clone)]
pub struct Events {
    publisher: Publisher,
}

/// Sends events: checks them, sends them in `PutEvents` batches and appends each sent event to
/// the timeline. Shared by [`Events`] and the embedded engine's `events:putEvents` integration.
#[derive(Clone)]
pub(crate) struct Publisher {
    backend: Arc<dyn EventBackend>,
    timeline: Timeline,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    pub(crate) fn new(publisher: Publisher) -> Self {
        Events { publisher }
    }

    /// Sends one event; returns its id. The event is also appended to the timeline.
    pub async fn send(&self, event: Event) -> Result<String> {
        let mut results = self
            .publisher
            .send_checked("events.send", vec![event])
            .await?;
        results.remove(0)
    }

    /// Sends events in `PutEvents` batches of at most 10 entries and 256 KB, retrying failed
    /// entries where the backend can; returns one result per event, in order: its id, or the
    /// error that kept it from being sent. Invalid events fail the whole call before anything
    /// is sent.
    pub async fn send_batch(&self, events: Vec<Event>) -> Result<Vec<Result<String>>> {
        self.publisher
            .send_checked("events.send_batch", events)
            .await
    }

    /// Subscribes to the events `pattern` (EventBridge syntax) matches, from now on.
    pub async fn subscribe(&self, pattern: &Value) -> Result<Subscription> {
        self.subscribe_with(pattern, SubscribeOptions::default())
            .await
    }

    /// Subscribes with options, e.g. a durable name.
    pub async fn subscribe_with(
        &self,
        pattern: &Value,
        options: SubscribeOptions,
    ) -> Result<Subscription> {
        let pattern = EventPattern::compile(pattern)?;
        if let Some(name) = &options.name {
            check_subscription_name("events.subscribe", name)?;
        }
        let stream = self.publisher.backend.subscribe(pattern, &options).await?;
        Ok(Subscription { stream })
    }

    /// Deletes the durable subscription `name`: its position (locally, so the event log is no
    /// longer kept for it) or, on AWS, its EventBridge rule, the rule's target and its SQS
    /// queue. Returns whether it existed. Subscribing with the name again starts at the end of
    /// the log; a stream still open on it fails with `NotFound` on its next call (closing it
    /// succeeds).
    pub async fn delete_subscription(&self, name: &str) -> Result<bool> {
        const OP: &str = "events.delete_subscription";
        check_subscription_name(OP, name)?;
        self.publisher.backend.delete_subscription(name).await
    }
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher").finish_non_exhaustive()
    }
}

impl Publisher {
    /// The publisher sending through `backend` and appending to `timeline`.
    pub(crate) fn new(backend: Arc<dyn EventBackend>, timeline: Timeline) -> Self {
        Publisher { backend, timeline }
    }

    /// Checks every event, then sends them (`send`/`send_batch` semantics; see [`Events`]).
    pub(crate) async fn send_checked(
        &self,
        operation: &str,
        events: Vec<Event>,
    ) -> Result<Vec<Result<String>>> {
        let checked = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| check_event(operation, i, event))
            .collect::<Result<Vec<_>>>()?;
        let mut results = Vec::with_capacity(checked.len());
        let mut sent = Vec::new();
        for chunk in chunks(&checked) {
            let entries: Vec<EventEntry> = chunk.iter().map(|(entry, _)| entry.clone()).collect();
            let outcome = self.backend.put_events(&entries).await?;
            for ((entry, stream), result) in chunk.iter().zip(outcome) {
                if let Ok(id) = &result {
                    sent.push(self.timeline_record(operation, entry, stream, id)?);
                }
                results.push(result);
            }
        }
        self.timeline.append_records(sent).await?;
        Ok(results)
    }

    fn timeline_record(
        &self,
        operation: &str,
        entry: &EventEntry,
        stream: &str,
        id: &str,
    ) -> Result<TimelineRecord> {
        let envelope = ReceivedEvent {
            id: id.to_owned(),
            detail_type: entry.detail_type.clone(),
            source: entry.source.clone(),
            account: String::new(),
            region: String::new(),
            time: entry.time,
            resources: entry.resources.clone(),
            detail: entry.detail.clone(),
        };
        let mut data = envelope.to_json();
        if let Some(object) = data.as_object_mut() {
            object.remove("account");
            object.remove("region");
        }
        self.timeline.record(operation, stream, data)
    }
}

/// One subscription: call [`Subscription::next`] (or turn it into a [`Stream`]) to receive
/// matching events; [`Subscription::close`] releases it.
pub struct Subscription {
    stream: Box<dyn EventStream>,
}

/// Shows no backend details: an AWS backend's SDK configuration may hold an endpoint with
/// credentials.
impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Subscription {
    /// Waits for the next matching event. Asking for the next event acknowledges the
    /// previous one: a durable subscription resumes after it.
    pub async fn next(&mut self) -> Result<ReceivedEvent> {
        loop {
            if let Some(event) = self.stream.next(None).await? {
                return Ok(event);
            }
        }
    }

    /// Waits at most `timeout` for the next matching event; `Ok(None)` if none came.
    pub async fn next_timeout(&mut self, timeout: Duration) -> Result<Option<ReceivedEvent>> {
        self.stream.next(Some(timeout)).await
    }

    /// Takes back `event`, the event [`Subscription::next`] handed out last, which its caller
    /// could not take (a cancelled await in a binding): the next call hands it out again, and
    /// it is not acknowledged before. Any other event is ignored (it was acknowledged).
    pub fn put_back(&mut self, event: ReceivedEvent) {
        self.stream.put_back(event);
    }

    /// Acknowledges what was received and releases the subscription (an ephemeral one is
    /// deleted: on AWS its rule and queue).
    pub async fn close(mut self) -> Result<()> {
        self.stream.close().await
    }

    /// The subscription as a [`Stream`] of events (it ends only with an error).
    pub fn into_stream(self) -> impl Stream<Item = Result<ReceivedEvent>> + Send {
        futures::stream::unfold(Some(self), |state| async move {
            let mut sub = state?;
            match sub.next().await {
                Ok(event) => Some((Ok(event), Some(sub))),
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

/// Validates one event of a send; returns the backend entry and its timeline stream.
fn check_event(operation: &str, index: usize, mut event: Event) -> Result<(EventEntry, String)> {
    event.detail = validate::checked_depth(
        operation,
        &format!("event {index} ({})", event.detail_type),
        "event detail",
        std::mem::take(&mut event.detail),
    )?;
    let at = |why: String| {
        Error::invalid_input(operation, &format!("event {index}"), why)
            .with_context("detail_type", event.detail_type.clone())
    };
    let source = event
        .source
        .clone()
        .unwrap_or_else(|| DEFAULT_SOURCE.to_owned());
    if event.detail_type.trim().is_empty() {
        return Err(at(
            "detail_type is empty; name the event, e.g. \"OrderCreated\"".into(),
        ));
    }
    if source.trim().is_empty() {
        return Err(at(format!(
            "source is empty; leave it out to use {DEFAULT_SOURCE:?}"
        )));
    }
    if source.starts_with("aws.") {
        return Err(at(format!(
            "source {source:?} starts with \"aws.\", which EventBridge reserves for AWS services; use your own, e.g. \"my-app.orders\""
        )));
    }
    if !event.detail.is_object() {
        return Err(at(
            "detail must be a JSON object (EventBridge's Detail), e.g. {\"order_id\": \"o-1\"}"
                .into(),
        ));
    }
    let detail_json = event.detail.to_string();
    let size = entry_size(&source, &event.detail_type, &detail_json, &event.resources);
    validate::check_size(
        operation,
        &format!("event {index} ({})", event.detail_type),
        "event entry (time + source + detail type + detail + resources)",
        size,
        validate::MAX_EVENT_BYTES,
    )?;
    let stream = match &event.stream {
        Some(stream) => stream.clone(),
        None => {
            // An event with a tenant's source (a tenant's workflow sent it through the engine)
            // goes on that tenant's timeline, not the root's.
            let (root, own) = match crate::scope::tenant_root(&source) {
                Some(root) if root != crate::scope::TENANTS => (root, &source[root.len()..]),
                _ => ("", source.as_str()),
            };
            format!(
                "{root}events/{}/{}",
                stream_segment(own),
                stream_segment(&event.detail_type)
            )
        }
    };
    check_stream(&format!("{operation} (event {index})"), &stream)?;
    let time = event.time.unwrap_or_else(|| from_ms(now_ms()));
    Ok((
        EventEntry {
            source,
            detail_type: event.detail_type,
            detail: event.detail,
            detail_json,
            resources: event.resources,
            time,
        },
        stream,
    ))
}

/// `text` as one stream path segment (slashes and dot-only names replaced).
fn stream_segment(text: &str) -> String {
    let segment = text.replace(['/', '\\'], "_");
    if segment.chars().all(|c| c == '.') {
        segment.replace('.', "_")
    } else {
        segment
    }
}

/// An entry's size as EventBridge counts it: `Time` (14 bytes) + `Source` + `DetailType` +
/// `Detail` + each resource, in UTF-8 bytes.
pub(crate) fn entry_size(
    source: &str,
    detail_type: &str,
    detail_json: &str,
    resources: &[String],
) -> usize {
    14 + source.len()
        + detail_type.len()
        + detail_json.len()
        + resources.iter().map(String::len).sum::<usize>()
}

/// Splits checked events into `PutEvents` requests: at most 10 entries and 256 KB each.
fn chunks(events: &[(EventEntry, String)]) -> Vec<&[(EventEntry, String)]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, (entry, _)) in events.iter().enumerate() {
        let size = entry_size(
            &entry.source,
            &entry.detail_type,
            &entry.detail_json,
            &entry.resources,
        );
        if i > start
            && (i - start == validate::MAX_PUT_EVENTS || bytes + size > validate::MAX_EVENT_BYTES)
        {
            out.push(&events[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        out.push(&events[start..]);
    }
    out
}

/// Checks a durable subscription name: it names a queue and a rule on AWS.
fn check_subscription_name(operation: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            operation,
            name,
            "a subscription name has 1 to 40 letters, digits, '-' or '_' (it names an SQS queue and an EventBridge rule on AWS)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checked event whose `Detail` JSON text is `detail_bytes` long.
    fn sized(detail_bytes: usize) -> (EventEntry, String) {
        let detail_json = format!("{{\"p\":\"{}\"}}", "x".repeat(detail_bytes - 8));
        let entry = EventEntry {
            source: "app".into(),
            detail_type: "T".into(),
            detail: serde_json::from_str(&detail_json).unwrap(),
            detail_json,
            resources: vec![],
            time: crate::clock::from_ms(0),
        };
        (entry, "events/app/T".into())
    }

    fn lengths(events: &[(EventEntry, String)]) -> Vec<usize> {
        chunks(events).iter().map(|c| c.len()).collect()
    }

    #[test]
    fn put_events_requests_hold_ten_entries_and_256_kb_at_most() {
        let small: Vec<_> = (0..25).map(|_| sized(100)).collect();
        assert_eq!(lengths(&small), vec![10, 10, 5]);
        // 14 + 3 + 1 bytes of Time, Source and DetailType per entry beside the detail.
        let quarter = validate::MAX_EVENT_BYTES / 4 - 18;
        let four: Vec<_> = (0..5).map(|_| sized(quarter)).collect();
        assert_eq!(lengths(&four), vec![4, 1], "four fill 256 KB exactly");
        let over: Vec<_> = (0..5).map(|_| sized(quarter + 1)).collect();
        assert_eq!(
            lengths(&over),
            vec![3, 2],
            "one byte more starts a new request"
        );
        let whole = vec![sized(validate::MAX_EVENT_BYTES - 18), sized(100)];
        assert_eq!(lengths(&whole), vec![1, 1]);
        assert!(chunks(&[]).is_empty());
    }
}
