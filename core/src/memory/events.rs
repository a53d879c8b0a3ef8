//! Events for the memory backend: an in-process log and a wake-up signal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::backend::{
    AppendSignal, EventBackend, EventEntry, EventLog, EventStream, LogSubscription, local_envelope,
};
use crate::error::Result;
use crate::pattern::EventPattern;
use crate::types::events::{ReceivedEvent, SubscribeOptions};

/// The log and the durable subscriptions' positions.
#[derive(Debug, Default)]
struct State {
    /// Event envelopes in send order; the sequence number of `events[i]` is `i + 1`.
    events: Vec<serde_json::Value>,
    positions: HashMap<String, u64>,
}

/// The memory backend's event log.
#[derive(Debug, Default)]
pub(super) struct MemoryEventLog {
    state: Mutex<State>,
    appends: AppendSignal,
}

impl MemoryEventLog {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl EventLog for MemoryEventLog {
    async fn last_seq(&self) -> Result<u64> {
        Ok(self.state().events.len() as u64)
    }

    async fn read_after(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Option<serde_json::Value>)>> {
        let state = self.state();
        Ok((seq as usize..state.events.len())
            .take(limit)
            .map(|i| (i as u64 + 1, Some(state.events[i].clone())))
            .collect())
    }

    async fn open_named(&self, name: &str, _pattern: &str) -> Result<u64> {
        let mut state = self.state();
        let end = state.events.len() as u64;
        Ok(*state.positions.entry(name.to_owned()).or_insert(end))
    }

    async fn save_position(&self, name: &str, seq: u64) -> Result<bool> {
        Ok(match self.state().positions.get_mut(name) {
            Some(position) => {
                *position = (*position).max(seq);
                true
            }
            None => false,
        })
    }

    async fn named_exists(&self, name: &str) -> Result<bool> {
        Ok(self.state().positions.contains_key(name))
    }

    async fn delete_named(&self, name: &str) -> Result<bool> {
        Ok(self.state().positions.remove(name).is_some())
    }

    fn appends(&self) -> watch::Receiver<u64> {
        self.appends.subscribe()
    }

    /// Every append is this process's own, and signalled: the poll is only a safety net.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(100)
    }
}

/// The memory backend's events: the log plus publishing into it.
#[derive(Debug, Default)]
pub(super) struct MemoryEvents {
    log: Arc<MemoryEventLog>,
}

#[async_trait]
impl EventBackend for MemoryEvents {
    async fn put_events(&self, entries: &[EventEntry]) -> Result<Vec<Result<String>>> {
        let envelopes: Vec<ReceivedEvent> = entries.iter().map(local_envelope).collect();
        let ids = envelopes.iter().map(|e| Ok(e.id.clone())).collect();
        self.log
            .state()
            .events
            .extend(envelopes.iter().map(ReceivedEvent::to_json));
        self.log.appends.raise();
        Ok(ids)
    }

    async fn subscribe(
        &self,
        pattern: EventPattern,
        options: &SubscribeOptions,
    ) -> Result<Box<dyn EventStream>> {
        let log: Arc<dyn EventLog> = self.log.clone();
        Ok(Box::new(
            LogSubscription::open(log, pattern, options).await?,
        ))
    }

    async fn delete_subscription(&self, name: &str) -> Result<bool> {
        self.log.delete_named(name).await
    }
}
