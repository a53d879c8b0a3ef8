//! The stream of an AWS subscription: its SQS queue, long-polled, acknowledged on the next
//! call; and the deletion of an ephemeral subscription's rule and queue.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::errors::{Target, map_sdk_error};
use crate::backend::EventStream;
use crate::error::{Error, ErrorKind, Result};
use crate::pattern::EventPattern;
use crate::types::events::ReceivedEvent;

/// The id of a subscription rule's one target (its queue).
pub(super) const TARGET_ID: &str = "agent-mesh-queue";
/// SQS's longest long poll.
const MAX_WAIT_SECONDS: u64 = 20;
/// Event ids a stream remembers to drop SQS's occasional duplicate deliveries.
const RECENT_IDS: usize = 4096;

/// The agent-mesh error of a failed subscription call on `resource`.
pub(super) fn sdk_error<E>(
    operation: &str,
    key: &str,
    resource: &str,
    error: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    map_sdk_error(
        &Target {
            operation,
            key,
            resource,
        },
        error,
    )
}

/// `Ok` when the call succeeded or failed only because what it acted on is already gone;
/// else its agent-mesh error.
fn done_or_gone<T, E>(
    result: std::result::Result<T, SdkError<E, HttpResponse>>,
    operation: &str,
    key: &str,
    resource: &str,
) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.code(),
                Some(
                    "ResourceNotFoundException"
                        | "QueueDoesNotExist"
                        | "AWS.SimpleQueueService.NonExistentQueue"
                )
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(sdk_error(operation, key, resource, e)),
    }
}

/// A subscription's AWS resources and the clients that act on them.
#[derive(Debug, Clone)]
pub(super) struct Resources {
    /// The EventBridge client.
    pub(super) events: aws_sdk_eventbridge::Client,
    /// The SQS client.
    pub(super) sqs: aws_sdk_sqs::Client,
    /// The event bus of the rule.
    pub(super) bus: String,
    /// The rule's name.
    pub(super) rule: String,
    /// The queue's URL, once it is known.
    pub(super) queue_url: Option<String>,
    /// The queue as error messages name it.
    pub(super) queue_resource: String,
    /// The bus as error messages name it.
    pub(super) bus_resource: String,
}

impl Resources {
    /// `RemoveTargets`, `DeleteRule`, `DeleteQueue`; what is already gone is skipped.
    pub(super) async fn run(&self, operation: &str) -> Result<()> {
        let (rule, bus) = (self.rule.as_str(), self.bus_resource.as_str());
        let removed = self
            .events
            .remove_targets()
            .rule(rule)
            .event_bus_name(&self.bus)
            .ids(TARGET_ID)
            .send()
            .await;
        done_or_gone(removed, operation, rule, bus)?;
        let deleted = self
            .events
            .delete_rule()
            .name(rule)
            .event_bus_name(&self.bus)
            .send()
            .await;
        done_or_gone(deleted, operation, rule, bus)?;
        if let Some(url) = &self.queue_url {
            let deleted = self.sqs.delete_queue().queue_url(url).send().await;
            done_or_gone(deleted, operation, rule, &self.queue_resource)?;
        }
        Ok(())
    }
}

/// The ids of the events a stream took last, to drop duplicate deliveries.
#[derive(Debug, Default)]
struct RecentIds {
    order: VecDeque<String>,
    set: HashSet<String>,
}

impl RecentIds {
    /// Records `id`; false when it was already recorded.
    fn insert(&mut self, id: &str) -> bool {
        if !self.set.insert(id.to_owned()) {
            return false;
        }
        self.order.push_back(id.to_owned());
        if self.order.len() > RECENT_IDS
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// One subscription's stream: its queue, long-polled.
#[derive(Debug)]
pub(super) struct SqsSubscription {
    resources: Resources,
    queue_url: String,
    /// The queue's name (the key in error messages).
    name: String,
    pattern: EventPattern,
    ephemeral: bool,
    /// Received matching events not handed out yet, with their receipt handles.
    buffer: VecDeque<(String, ReceivedEvent)>,
    /// The receipt handle and id of the event handed out last (deleted by the next call).
    handed_out: Option<(String, String)>,
    recent: RecentIds,
    closed: bool,
}

impl SqsSubscription {
    /// The stream of the subscription whose queue is at `queue_url`.
    pub(super) fn new(
        mut resources: Resources,
        queue_url: String,
        name: String,
        pattern: EventPattern,
        ephemeral: bool,
    ) -> Self {
        resources.queue_url = Some(queue_url.clone());
        SqsSubscription {
            resources,
            queue_url,
            name,
            pattern,
            ephemeral,
            buffer: VecDeque::new(),
            handed_out: None,
            recent: RecentIds::default(),
            closed: false,
        }
    }

    /// The agent-mesh error of a failed call on the queue.
    fn sdk_error<E>(&self, operation: &str, error: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        sdk_error(operation, &self.name, &self.resources.queue_resource, error)
    }

    /// Deletes the message of the event handed out last.
    async fn acknowledge(&mut self, operation: &str) -> Result<()> {
        if let Some((receipt, _)) = self.handed_out.take() {
            self.resources
                .sqs
                .delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt)
                .send()
                .await
                .map_err(|e| self.sdk_error(operation, e))?;
        }
        Ok(())
    }

    /// Deletes messages that carry nothing to hand out (at most 10, as one receive gives).
    async fn discard(&self, receipts: Vec<String>) -> Result<()> {
        if receipts.is_empty() {
            return Ok(());
        }
        let entries = receipts
            .into_iter()
            .enumerate()
            .map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(receipt)
                    .build()
                    .map_err(|e| Error::internal("events.next", e))
            })
            .collect::<Result<Vec<_>>>()?;
        // A message whose deletion fails comes back and is discarded again.
        self.resources
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| self.sdk_error("events.next", e))?;
        Ok(())
    }

    /// One long poll of at most `wait_seconds`: buffers the new matching events, deletes the
    /// rest. A message that is not an EventBridge envelope is deleted and reported.
    async fn receive(&mut self, wait_seconds: u64) -> Result<()> {
        let out = self
            .resources
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds as i32)
            .send()
            .await
            .map_err(|e| self.sdk_error("events.next", e))?;
        let mut discard = Vec::new();
        let mut malformed = None;
        for message in out.messages.unwrap_or_default() {
            let Some(receipt) = message.receipt_handle else {
                continue;
            };
            let parsed = serde_json::from_str(message.body.as_deref().unwrap_or_default())
                .map_err(|e| Error::internal("events.next", format!("the body is not JSON ({e})")))
                .and_then(|body| ReceivedEvent::from_json("events.next", &body));
            match parsed {
                Ok(event)
                    if self.pattern.matches(&event.to_json()) && self.recent.insert(&event.id) =>
                {
                    self.buffer.push_back((receipt, event));
                }
                Ok(_) => discard.push(receipt),
                Err(e) => {
                    discard.push(receipt);
                    malformed.get_or_insert(e);
                }
            }
        }
        self.discard(discard).await?;
        match malformed {
            Some(e) => Err(Error::new(
                ErrorKind::Internal,
                format!(
                    "events.next {:?}: {} held a message that is not an EventBridge event; it was deleted ({})",
                    self.name, self.resources.queue_resource, e.message
                ),
            )
            .with_context("resource", self.resources.queue_resource.as_str())),
            None => Ok(()),
        }
    }

    /// Makes the buffered messages visible again at once, for the next reader of the queue.
    async fn release_buffer(&mut self) -> Result<()> {
        let receipts: Vec<String> = self.buffer.drain(..).map(|(r, _)| r).collect();
        for chunk in receipts.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, receipt)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(receipt)
                        .visibility_timeout(0)
                        .build()
                        .map_err(|e| Error::internal("events.close", e))
                })
                .collect::<Result<Vec<_>>>()?;
            self.resources
                .sqs
                .change_message_visibility_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.sdk_error("events.close", e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl EventStream for SqsSubscription {
    async fn next(&mut self, timeout: Option<Duration>) -> Result<Option<ReceivedEvent>> {
        if self.closed {
            return Err(Error::keyed(
                ErrorKind::InvalidInput,
                "events.next",
                &self.name,
                "the subscription is closed; subscribe again",
            ));
        }
        self.acknowledge("events.next").await?;
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut polled = false;
        loop {
            if let Some((receipt, event)) = self.buffer.pop_front() {
                self.handed_out = Some((receipt, event.id.clone()));
                return Ok(Some(event));
            }
            let wait = match deadline {
                None => MAX_WAIT_SECONDS,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    match (left.is_zero(), polled) {
                        (true, true) => return Ok(None),
                        (true, false) => 0,
                        (false, _) => left.as_secs().clamp(1, MAX_WAIT_SECONDS),
                    }
                }
            };
            polled = true;
            self.receive(wait).await?;
        }
    }

    async fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        if self.ephemeral {
            self.resources.run("events.close").await?;
        } else {
            let mut released = self.acknowledge("events.close").await;
            if released.is_ok() {
                released = self.release_buffer().await;
            }
            match released {
                // The subscription was deleted (its queue is gone): nothing left to release.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                other => other?,
            }
        }
        self.closed = true;
        Ok(())
    }

    fn put_back(&mut self, event: ReceivedEvent) {
        if let Some((receipt, _)) = self.handed_out.take_if(|(_, id)| *id == event.id) {
            self.buffer.push_front((receipt, event));
        }
    }
}

impl Drop for SqsSubscription {
    /// An ephemeral subscription dropped without `close` is deleted in the background, on the
    /// current tokio runtime if there is one (best effort).
    fn drop(&mut self) {
        if self.closed || !self.ephemeral {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let resources = self.resources.clone();
            runtime.spawn(async move {
                let _ = resources.run("events.close").await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut recent = RecentIds::default();
        assert!(recent.insert("a") && !recent.insert("a"));
        for i in 0..RECENT_IDS {
            recent.insert(&i.to_string());
        }
        assert!(recent.insert("a"), "the oldest id was forgotten");
    }
}
