//! Events on EventBridge, subscriptions through SQS.
//!
//! Sending is one `PutEvents` per call on the configured bus; entries EventBridge reports
//! failed with a retryable code are sent again (only those, with backoff and jitter) before
//! they are reported.
//!
//! A subscription is an SQS queue and an EventBridge rule of the same name
//! (`<prefix>agent-mesh-<env>-sub-<name>`, or a random id for an ephemeral one) whose pattern
//! is the subscription's and whose target is the queue; the queue policy lets that rule (and
//! only it) send to the queue. The stream long-polls the queue, re-checks every event against
//! the pattern, and deletes a message when the next event is asked for or on close
//! (ack-on-next). Closing an ephemeral subscription deletes its rule and queue; a named one
//! keeps both, so events sent while it is closed wait in the queue, until
//! `delete_subscription` removes the rule's target, the rule and the queue.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, RuleState, Target as RuleTarget};
use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::json;

use super::errors::{Target, map_sdk_error};
use super::subscription::{Resources, SqsSubscription, TARGET_ID, sdk_error};
use crate::backend::{EventBackend, EventEntry, EventStream};
use crate::error::{Error, ErrorKind, Result};
use crate::pattern::EventPattern;
use crate::types::events::SubscribeOptions;

/// The bus every account has; it is never created.
const DEFAULT_BUS: &str = "default";
/// `PutEvents` attempts per entry (the first send and up to 3 retries).
const PUT_ATTEMPTS: u32 = 4;
/// Longest SQS queue name.
const MAX_QUEUE_NAME: usize = 80;
/// Longest EventBridge rule name.
const MAX_RULE_NAME: usize = 64;
/// How long a subscription queue keeps an event nobody received (SQS's maximum, 14 days).
const RETENTION_SECONDS: &str = "1209600";

/// Entry error codes EventBridge documents as permanent: sending again will not help.
fn permanent(code: &str) -> bool {
    matches!(
        code,
        "AccessDeniedException"
            | "InvalidAccountIdException"
            | "InvalidArgument"
            | "MalformedDetail"
            | "RedactionFailure"
            | "NotAuthorizedForSourceException"
            | "NotAuthorizedForDetailTypeException"
            | "ValidationException"
            | "ResourceNotFoundException"
    )
}

/// How long to wait before retry `attempt` (1-based): exponential, with equal jitter.
fn backoff(attempt: u32) -> Duration {
    use std::hash::BuildHasher;
    let cap = 100u64 << attempt.min(6);
    let random = std::collections::hash_map::RandomState::new().hash_one(attempt);
    Duration::from_millis(cap / 2 + random % (cap / 2 + 1))
}

/// A stable 32-bit FNV-1a hash (names derived from it must not change between releases).
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `name` within `max` characters: kept when it fits, else cut and suffixed with its hash so
/// that different long names stay different.
fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        name.to_owned()
    } else {
        format!("{}-{:08x}", &name[..max - 9], fnv1a(name))
    }
}

/// The AWS backend's events.
#[derive(Debug)]
pub(crate) struct EventBridgeEvents {
    events: aws_sdk_eventbridge::Client,
    sqs: aws_sdk_sqs::Client,
    bus: String,
    bus_resource: String,
    subscription_prefix: String,
}

impl EventBridgeEvents {
    /// Events on `bus`, subscription resources named from `subscription_prefix` (no request is
    /// made).
    pub(crate) fn new(
        events: aws_sdk_eventbridge::Client,
        sqs: aws_sdk_sqs::Client,
        bus: String,
        subscription_prefix: String,
    ) -> Self {
        let bus_resource = format!("EventBridge event bus {bus:?}");
        // SQS queue names hold letters, digits, '-' and '_' only.
        let subscription_prefix = subscription_prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        EventBridgeEvents {
            events,
            sqs,
            bus,
            bus_resource,
            subscription_prefix,
        }
    }

    /// Creates the event bus unless it exists (or is the account's `default` bus).
    pub(crate) async fn provision(&self) -> Result<()> {
        if self.bus == DEFAULT_BUS {
            return Ok(());
        }
        match self.events.create_event_bus().name(&self.bus).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(map_sdk_error(
                &Target {
                    operation: "provision",
                    key: &self.bus,
                    resource: &self.bus_resource,
                },
                e,
            )),
        }
    }

    /// The `PutEvents` entry for `entry`.
    fn request_entry(&self, entry: &EventEntry) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&entry.source)
            .detail_type(&entry.detail_type)
            .detail(&entry.detail_json)
            .set_resources(Some(entry.resources.clone()))
            .time(aws_smithy_types::DateTime::from_millis(
                entry.time.timestamp_millis(),
            ))
            .build()
    }

    /// The error reporting that EventBridge did not accept `entry`.
    fn entry_error(&self, entry: &EventEntry, code: &str, message: &str, attempts: u32) -> Error {
        let (kind, fix) = match code {
            "ThrottlingException" => (ErrorKind::Throttled, "retry later, with backoff".into()),
            "InvalidArgument" | "MalformedDetail" | "ValidationException" => (
                ErrorKind::InvalidInput,
                "check the event against EventBridge's entry format and limits".into(),
            ),
            "AccessDeniedException"
            | "InvalidAccountIdException"
            | "NotAuthorizedForSourceException"
            | "NotAuthorizedForDetailTypeException" => (
                ErrorKind::PermissionDenied,
                format!(
                    "check that the IAM policy allows events:PutEvents on {} for this source and detail type",
                    self.bus_resource
                ),
            ),
            "ResourceNotFoundException" => (
                ErrorKind::Config,
                format!(
                    "{} does not exist: create it with provision() (MeshClient.provision / mesh.provision()) or the Terraform in infra/",
                    self.bus_resource
                ),
            ),
            "RedactionFailure" => (
                ErrorKind::Internal,
                "EventBridge could not process the entry; report it if it persists".into(),
            ),
            _ => (ErrorKind::Unavailable, "retry later".into()),
        };
        let tries = if attempts == 1 {
            "1 attempt".to_owned()
        } else {
            format!("{attempts} attempts")
        };
        Error::keyed(
            kind,
            "events.send",
            &entry.detail_type,
            format!(
                "{} did not accept the event after {tries}: {code}: {message}; {fix}",
                self.bus_resource
            ),
        )
        .with_context("resource", self.bus_resource.as_str())
        .with_context("error_code", code)
    }

    /// Creates (or updates) the rule, then the queue with its policy, then the rule's target;
    /// returns the queue URL.
    async fn create_subscription(
        &self,
        names: &SubscriptionNames,
        pattern: &EventPattern,
        ephemeral: bool,
    ) -> Result<String> {
        const OP: &str = "events.subscribe";
        let rule = self
            .events
            .put_rule()
            .name(&names.rule)
            .event_bus_name(&self.bus)
            .event_pattern(pattern.as_json().to_string())
            .state(RuleState::Enabled)
            .description(if ephemeral {
                "agent-mesh ephemeral subscription (deleted on close)"
            } else {
                "agent-mesh durable subscription"
            })
            .send()
            .await
            .map_err(|e| sdk_error(OP, &names.rule, &self.bus_resource, e))?;
        let rule_arn = rule.rule_arn.unwrap_or_default();
        let queue_resource = names.queue_resource();
        let queue_error = |e| sdk_error(OP, &names.queue, &queue_resource, e);
        let queue_url = self
            .sqs
            .create_queue()
            .queue_name(&names.queue)
            .attributes(
                QueueAttributeName::MessageRetentionPeriod,
                RETENTION_SECONDS,
            )
            .send()
            .await
            .map_err(queue_error)?
            .queue_url
            .unwrap_or_default();
        let queue_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| sdk_error(OP, &names.queue, &queue_resource, e))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .unwrap_or_default();
        let policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "agent-mesh-subscription",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }],
        });
        self.sqs
            .set_queue_attributes()
            .queue_url(&queue_url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .map_err(|e| sdk_error(OP, &names.queue, &queue_resource, e))?;
        let target = RuleTarget::builder()
            .id(TARGET_ID)
            .arn(&queue_arn)
            .build()
            .map_err(|e| Error::internal(OP, e))?;
        let out = self
            .events
            .put_targets()
            .rule(&names.rule)
            .event_bus_name(&self.bus)
            .targets(target)
            .send()
            .await
            .map_err(|e| sdk_error(OP, &names.rule, &self.bus_resource, e))?;
        if let Some(failed) = out.failed_entries().first() {
            let code = failed.error_code().unwrap_or("unknown");
            let kind = if permanent(code) {
                ErrorKind::Internal
            } else {
                ErrorKind::Unavailable
            };
            return Err(Error::keyed(
                kind,
                OP,
                &names.rule,
                format!(
                    "{} refused the rule's target {}: {code}: {}; retry the subscription",
                    self.bus_resource,
                    names.queue_resource(),
                    failed.error_message().unwrap_or("no message")
                ),
            ));
        }
        Ok(queue_url)
    }
}

#[async_trait]
impl EventBackend for EventBridgeEvents {
    async fn put_events(&self, entries: &[EventEntry]) -> Result<Vec<Result<String>>> {
        let mut results: Vec<Option<Result<String>>> = vec![None; entries.len()];
        let mut pending: Vec<usize> = (0..entries.len()).collect();
        let first_key = entries.first().map_or("", |e| e.detail_type.as_str());
        for attempt in 1..=PUT_ATTEMPTS {
            let request: Vec<PutEventsRequestEntry> = pending
                .iter()
                .map(|&i| self.request_entry(&entries[i]))
                .collect();
            let sent = self
                .events
                .put_events()
                .set_entries(Some(request))
                .send()
                .await;
            let out = match sent {
                Ok(out) => out,
                Err(e) => {
                    let error = map_sdk_error(
                        &Target {
                            operation: "events.send",
                            key: first_key,
                            resource: &self.bus_resource,
                        },
                        e,
                    );
                    // Nothing was sent yet: the call failed. On a retry, earlier entries were
                    // accepted, so the failure belongs to the entries still pending.
                    if attempt == 1 {
                        return Err(error);
                    }
                    for &i in &pending {
                        results[i] = Some(Err(error.clone()));
                    }
                    break;
                }
            };
            let answers = out.entries();
            if attempt == 1
                && !answers.is_empty()
                && answers
                    .iter()
                    .all(|a| a.error_code() == Some("ResourceNotFoundException"))
            {
                // AWS reports a missing bus per entry: it is the configuration's error.
                let answer = &answers[0];
                return Err(self.entry_error(
                    &entries[pending[0]],
                    "ResourceNotFoundException",
                    answer
                        .error_message()
                        .unwrap_or("the event bus does not exist"),
                    1,
                ));
            }
            let mut retry = Vec::new();
            for (k, &i) in pending.iter().enumerate() {
                let answer = answers.get(k);
                if let Some(id) = answer
                    .filter(|a| a.error_code().is_none())
                    .and_then(|a| a.event_id())
                {
                    results[i] = Some(Ok(id.to_owned()));
                    continue;
                }
                let code = answer
                    .and_then(|a| a.error_code())
                    .unwrap_or("InternalFailure");
                if !permanent(code) && attempt < PUT_ATTEMPTS {
                    retry.push(i);
                    continue;
                }
                let message = answer
                    .and_then(|a| a.error_message())
                    .unwrap_or("EventBridge returned no result for the entry");
                results[i] = Some(Err(self.entry_error(&entries[i], code, message, attempt)));
            }
            if retry.is_empty() {
                break;
            }
            pending = retry;
            tokio::time::sleep(backoff(attempt)).await;
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(Error::internal("events.send", "an entry got no result")))
            })
            .collect())
    }

    async fn subscribe(
        &self,
        pattern: EventPattern,
        options: &SubscribeOptions,
    ) -> Result<Box<dyn EventStream>> {
        let ephemeral = options.name.is_none();
        let suffix = match &options.name {
            Some(name) => name.clone(),
            None => format!(
                "{}{}",
                options.ephemeral_prefix,
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            ),
        };
        let names = self.subscription_names(&suffix);
        let resources = self.resources(&names, None);
        let queue_url = match self.create_subscription(&names, &pattern, ephemeral).await {
            Ok(url) => url,
            Err(e) => {
                if ephemeral {
                    // Best effort: the rule may exist, the queue is found by name.
                    let mut resources = resources;
                    resources.queue_url = self
                        .sqs
                        .get_queue_url()
                        .queue_name(&names.queue)
                        .send()
                        .await
                        .ok()
                        .and_then(|o| o.queue_url);
                    let _ = resources.run("events.subscribe").await;
                }
                return Err(e);
            }
        };
        Ok(Box::new(SqsSubscription::new(
            resources,
            queue_url,
            names.queue,
            pattern,
            ephemeral,
        )))
    }

    async fn delete_subscription(&self, name: &str) -> Result<bool> {
        self.delete_named(name).await
    }
}

impl EventBridgeEvents {
    /// The rule and queue names of the subscription `suffix` (its name, or a random id).
    fn subscription_names(&self, suffix: &str) -> SubscriptionNames {
        let full = format!("{}{suffix}", self.subscription_prefix);
        SubscriptionNames {
            queue: fit(&full, MAX_QUEUE_NAME),
            rule: fit(&full, MAX_RULE_NAME),
        }
    }

    /// The resources of the subscription named `names` (queue URL if known).
    fn resources(&self, names: &SubscriptionNames, queue_url: Option<String>) -> Resources {
        Resources {
            events: self.events.clone(),
            sqs: self.sqs.clone(),
            bus: self.bus.clone(),
            rule: names.rule.clone(),
            queue_url,
            queue_resource: names.queue_resource(),
            bus_resource: self.bus_resource.clone(),
        }
    }

    /// Deletes the durable subscription `name`: its rule's target, the rule and the queue
    /// (what is already gone is skipped); returns whether the rule or the queue existed.
    async fn delete_named(&self, name: &str) -> Result<bool> {
        const OP: &str = "events.delete_subscription";
        let names = self.subscription_names(name);
        let rule = self
            .events
            .describe_rule()
            .name(&names.rule)
            .event_bus_name(&self.bus)
            .send()
            .await;
        let rule_existed = match rule {
            Ok(_) => true,
            Err(e) if e.code() == Some("ResourceNotFoundException") => false,
            Err(e) => return Err(sdk_error(OP, name, &self.bus_resource, e)),
        };
        let queue = self
            .sqs
            .get_queue_url()
            .queue_name(&names.queue)
            .send()
            .await;
        let queue_url = match queue {
            Ok(out) => out.queue_url,
            Err(e)
                if matches!(
                    e.code(),
                    Some("QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue")
                ) =>
            {
                None
            }
            Err(e) => return Err(sdk_error(OP, name, &names.queue_resource(), e)),
        };
        let existed = rule_existed || queue_url.is_some();
        self.resources(&names, queue_url).run(OP).await?;
        Ok(existed)
    }
}

/// The queue and rule names of one subscription.
struct SubscriptionNames {
    queue: String,
    rule: String,
}

impl SubscriptionNames {
    /// The queue as error messages name it.
    fn queue_resource(&self) -> String {
        format!("SQS queue {:?}", self.queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_cut_and_stay_distinct() {
        assert_eq!(fit("short", 64), "short");
        let a = fit(&format!("{}a", "x".repeat(80)), 64);
        let b = fit(&format!("{}b", "x".repeat(80)), 64);
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(a, fit(&format!("{}a", "x".repeat(80)), 64), "stable");
    }

    #[test]
    fn retry_codes_and_backoff() {
        assert!(!permanent("InternalFailure") && !permanent("ThrottlingException"));
        assert!(!permanent("SomethingNew"));
        assert!(permanent("MalformedDetail") && permanent("AccessDeniedException"));
        for attempt in 1..4 {
            let d = backoff(attempt);
            let cap = Duration::from_millis(100 << attempt);
            assert!(d >= cap / 2 && d <= cap, "{d:?}");
        }
    }
}
