//! Events: what is sent, what is received, and subscription options. Shared by the public API and the backends, so neither imports the
//! other for them.

use crate::clock::Timestamp;
use crate::error::{Error, ErrorKind, Result};
use chrono::SecondsFormat;
use serde_json::{Value, json};

/// The `source` of events sent without one.
pub const DEFAULT_SOURCE: &str = "agent-mesh";

/// An event to send.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// EventBridge `DetailType`, e.g. `"OrderCreated"`.
    pub detail_type: String,
    /// EventBridge `Detail`: a JSON object.
    pub detail: Value,
    /// EventBridge `Source`; [`DEFAULT_SOURCE`] when `None`.
    pub source: Option<String>,
    /// EventBridge `Resources` (ARNs or other identifiers).
    pub resources: Vec<String>,
    /// The event's time; the time of sending when `None`.
    pub time: Option<Timestamp>,
    /// The timeline stream the event is appended to; `events/<source>/<detail-type>` when `None`.
    pub stream: Option<String>,
}

impl Event {
    /// An event with `detail_type` and `detail`, from [`DEFAULT_SOURCE`].
    pub fn new(detail_type: impl Into<String>, detail: Value) -> Event {
        Event {
            detail_type: detail_type.into(),
            detail,
            source: None,
            resources: Vec::new(),
            time: None,
            stream: None,
        }
    }

    /// The same event from `source`.
    pub fn with_source(mut self, source: impl Into<String>) -> Event {
        self.source = Some(source.into());
        self
    }

    /// The same event naming `resources`.
    pub fn with_resources(mut self, resources: Vec<String>) -> Event {
        self.resources = resources;
        self
    }

    /// The same event at `time`.
    pub fn with_time(mut self, time: Timestamp) -> Event {
        self.time = Some(time);
        self
    }

    /// The same event appended to the timeline stream `stream`.
    pub fn with_stream(mut self, stream: impl Into<String>) -> Event {
        self.stream = Some(stream.into());
        self
    }
}

/// An event as subscribers receive it: the fields of an EventBridge envelope.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReceivedEvent {
    /// The event id (a UUID, as EventBridge assigns).
    pub id: String,
    /// `detail-type`.
    pub detail_type: String,
    /// `source`.
    pub source: String,
    /// `account` (`000000000000` on the local backends).
    pub account: String,
    /// `region` (`local` on the local backends).
    pub region: String,
    /// `time`, to the second as EventBridge delivers it.
    pub time: Timestamp,
    /// `resources`.
    pub resources: Vec<String>,
    /// `detail`.
    pub detail: Value,
}

impl ReceivedEvent {
    /// The EventBridge envelope: `{version, id, detail-type, source, account, time, region,
    /// resources, detail}` — what event patterns are matched against.
    pub fn to_json(&self) -> Value {
        json!({
            "version": "0",
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": self.time.to_rfc3339_opts(SecondsFormat::Secs, true),
            "region": self.region,
            "resources": self.resources,
            "detail": self.detail,
        })
    }

    /// Reads an EventBridge envelope (as [`ReceivedEvent::to_json`] writes it and as
    /// EventBridge delivers it to SQS, where `account` may be missing).
    pub fn from_json(operation: &str, envelope: &Value) -> Result<ReceivedEvent> {
        let text = |field: &str| envelope.get(field).and_then(Value::as_str);
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Internal,
                format!("{operation}: a delivered event is not an EventBridge envelope: {why}"),
            )
        };
        let time = text("time")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .ok_or_else(|| bad("no RFC 3339 `time`"))?;
        Ok(ReceivedEvent {
            id: text("id").ok_or_else(|| bad("no `id`"))?.to_owned(),
            detail_type: text("detail-type")
                .ok_or_else(|| bad("no `detail-type`"))?
                .to_owned(),
            source: text("source").ok_or_else(|| bad("no `source`"))?.to_owned(),
            account: text("account").unwrap_or_default().to_owned(),
            region: text("region").unwrap_or_default().to_owned(),
            time: time.with_timezone(&chrono::Utc),
            resources: envelope
                .get("resources")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            detail: envelope.get("detail").cloned().unwrap_or_else(|| json!({})),
        })
    }
}

/// Options of [`Events::subscribe_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscribeOptions {
    /// A durable subscription's name: it keeps its position while closed and resumes after
    /// the last event it handed out. `None` makes an ephemeral subscription that starts now
    /// and is removed on close.
    pub name: Option<String>,
    /// What the backend's name for an ephemeral subscription starts with (a scope's
    /// subscription prefix, so IAM can confine a tenant's queues); set by the scope layer.
    pub(crate) ephemeral_prefix: String,
}

impl SubscribeOptions {
    /// A durable subscription called `name`.
    pub fn named(name: impl Into<String>) -> Self {
        SubscribeOptions {
            name: Some(name.into()),
            ephemeral_prefix: String::new(),
        }
    }

    /// A durable subscription called `name`, or an ephemeral one when `None`.
    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }
}
