//! Events in a scope: sent events carry the scope in their source (`tenants/t/` + source);
//! subscriptions receive only the scope's events, whatever their pattern, with the source as
//! it was sent.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{Scope, Unscoped};
use crate::backend::{EventBackend, EventEntry, EventStream};
use crate::error::Result;
use crate::events::entry_size;
use crate::pattern::EventPattern;
use crate::types::events::{ReceivedEvent, SubscribeOptions};
use crate::validate;

/// An [`EventBackend`] confined to one scope.
#[derive(Debug)]
pub(crate) struct ScopedEvents {
    inner: Arc<dyn EventBackend>,
    scope: Scope,
}

impl ScopedEvents {
    /// `inner` seen through `scope`.
    pub(crate) fn new(inner: Arc<dyn EventBackend>, scope: Scope) -> Self {
        ScopedEvents { inner, scope }
    }

    /// `entry` as stored: its source in the scope, its size checked again.
    fn stored(&self, entry: &EventEntry) -> Result<EventEntry> {
        const OP: &str = "events.send";
        let mut entry = entry.clone();
        entry.source = format!("{}{}", self.scope.key_prefix(), entry.source);
        let size = entry_size(
            &entry.source,
            &entry.detail_type,
            &entry.detail_json,
            &entry.resources,
        );
        validate::check_size(
            OP,
            &entry.detail_type,
            "event entry (time + source with the scope + detail type + detail + resources)",
            size,
            validate::MAX_EVENT_BYTES,
        )?;
        Ok(entry)
    }

    /// What the backend's names of the scope's subscriptions start with: `t_a__` (the ids, then
    /// `__`, which no id contains, so a parent's names never meet a nested scope's).
    fn names_prefix(&self) -> String {
        format!("{}_", self.scope.subscription_prefix())
    }

    /// The durable subscription name `name` has in the backend.
    fn subscription_name(&self, name: &str) -> String {
        format!("{}{name}", self.names_prefix())
    }
}

/// What the backend's subscription for `pattern` in `scope` matches: the scope's sources, and
/// every top-level field of `pattern` except `source` and `$or` (which may test the source as
/// the client sent it). It matches a superset of the scope's events that `pattern` matches;
/// [`ScopedStream`] applies `pattern` itself to what arrives.
fn backend_pattern(scope: &Scope, pattern: &EventPattern) -> Result<EventPattern> {
    let mut narrowed = match pattern.as_json() {
        Value::Object(fields) => fields
            .iter()
            .filter(|(name, _)| *name != "source" && *name != "$or")
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect(),
        _ => serde_json::Map::new(),
    };
    narrowed.insert(
        "source".to_owned(),
        json!([{ "prefix": scope.key_prefix() }]),
    );
    EventPattern::compile(&Value::Object(narrowed))
}

#[async_trait]
impl EventBackend for ScopedEvents {
    async fn put_events(&self, entries: &[EventEntry]) -> Result<Vec<Result<String>>> {
        let stored = entries
            .iter()
            .map(|e| self.stored(e))
            .collect::<Result<Vec<_>>>()?;
        self.inner.put_events(&stored).await.unscoped(&self.scope)
    }

    async fn subscribe(
        &self,
        pattern: EventPattern,
        options: &SubscribeOptions,
    ) -> Result<Box<dyn EventStream>> {
        let mut stored = options.clone();
        stored.name = options.name.as_deref().map(|n| self.subscription_name(n));
        stored.ephemeral_prefix = self.names_prefix();
        let inner = self
            .inner
            .subscribe(backend_pattern(&self.scope, &pattern)?, &stored)
            .await?;
        Ok(Box::new(ScopedStream {
            inner,
            pattern,
            prefix: self.scope.key_prefix().to_owned(),
        }))
    }

    async fn delete_subscription(&self, name: &str) -> Result<bool> {
        self.inner
            .delete_subscription(&self.subscription_name(name))
            .await
    }
}

/// A subscription in a scope: hands out the scope's events that its pattern matches, with the
/// source the client sent.
#[derive(Debug)]
struct ScopedStream {
    inner: Box<dyn EventStream>,
    pattern: EventPattern,
    /// The scope's source prefix.
    prefix: String,
}

#[async_trait]
impl EventStream for ScopedStream {
    async fn next(&mut self, timeout: Option<Duration>) -> Result<Option<ReceivedEvent>> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            let Some(mut event) = self.inner.next(left).await? else {
                return Ok(None);
            };
            // The backend's pattern admits only the scope's sources; this is the second check.
            let Some(source) = event.source.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            event.source = source.to_owned();
            if self.pattern.matches(&event.to_json()) {
                return Ok(Some(event));
            }
        }
    }

    async fn close(&mut self) -> Result<()> {
        self.inner.close().await
    }

    fn put_back(&mut self, mut event: ReceivedEvent) {
        event.source = format!("{}{}", self.prefix, event.source);
        self.inner.put_back(event);
    }
}
