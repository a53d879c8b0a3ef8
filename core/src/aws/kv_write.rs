//! KV writes on DynamoDB: each call is applied at most once, and reports success only when its
//! own write is the one stored.
//!
//! A write is planned from what is known of the stored item (`kv_layout::plan`) and sent as one
//! conditional put, with the SDK's automatic retries turned off, because a write resent after a
//! lost answer needs an answer to "was my first attempt applied?". Every outcome is handled here:
//! - **stored**: done;
//! - **condition failed**: DynamoDB returns the stored item; if its write ids hold this call's
//!   id, an earlier attempt of this call is the one stored (done); otherwise the write is planned
//!   again from that item, or, for `if_version`/`if_absent`, fails with `Conflict`;
//! - **throttled**: nothing was applied; sent again after a backoff pause;
//! - **no answer** (a 5xx, a timeout, a lost connection): the item is read back (strongly
//!   consistent). Its write ids say whether this call's write was applied — also when other
//!   writers wrote the key since, as long as it keeps the ids of the versions in question (the
//!   last eight). If it does not, the outcome cannot be known and the call fails with
//!   `Unavailable` saying so, rather than guessing.
//!
//! A call is recognised by its random write id, never by content: two writers that write the
//! same value over the same version produce items that differ only in that id.

use std::time::Duration;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::errors::{Target, WriteFailure, map_sdk_error, write_failure};
use super::kv::DynamoKv;
use super::kv_layout::{
    Plan, State, WriteId, plan, records_writer_of, string_value, version_written_by,
};
use super::kv_upstream::{decode, stored_body, version};
use super::tables::Item;
use crate::backend::{KvWrite, WriteCondition, Written, resolve_write};
use crate::clock::now_ms;
use crate::error::{Error, ErrorKind, Result};

/// Conditional writes refused because the item changed in between, before a call gives up.
const REFUSED_ATTEMPTS: u32 = 16;
/// Reads of an item back after an unanswered write that failed without an answer either.
const READ_BACK_ATTEMPTS: u32 = 8;
/// The longest pause between refused attempts of an unconditional write under contention.
const MAX_CONTENTION_PAUSE: Duration = Duration::from_millis(64);

/// What one write request found out.
enum Attempt {
    /// This attempt's write is stored; a single put also returns the item it replaced.
    Stored(Option<Item>),
    /// The condition failed: the items stored instead, for each write of the request (`None`
    /// where that write's condition held; `Some(None)` where the key has no item).
    Refused(Vec<Option<Option<Item>>>),
    /// Refused for its rate before it was applied: send again after a pause.
    Throttled(Error),
    /// No answer: the write may or may not be stored.
    Unanswered(Error),
}

/// What the stored item tells of this call's unanswered attempts.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// This call wrote the given version.
    Ours(u64),
    /// None of this call's attempts is stored.
    NotOurs,
    /// The item no longer records who wrote a version this call may have written.
    Unknown,
}

/// What `item` (the stored item, read after the attempts `unanswered` got no answer) tells of
/// the call `id`. An attempt is known not stored when the item is older than the version it
/// would have written, records another writer for that version, or is another incarnation of
/// the key (another `created_at`, which every write but the first keeps).
fn verdict(item: Option<&Item>, id: WriteId, unanswered: &[Plan]) -> Verdict {
    let Some(item) = item else {
        return Verdict::NotOurs;
    };
    if let Some(version) = version_written_by(item, id) {
        return Verdict::Ours(version);
    }
    let settled = |attempt: &Plan| {
        version(item) < attempt.version
            || records_writer_of(item, attempt.version)
            || item.get("created_at") != attempt.item.get("created_at")
    };
    if unanswered.iter().all(settled) {
        Verdict::NotOurs
    } else {
        Verdict::Unknown
    }
}

/// The error of a call whose outcome cannot be known: its answer was lost, and the item could
/// not be read back (`why`), or no longer records who wrote the version in question.
fn unknown_outcome(operation: &str, key: &str, why: &str) -> Error {
    Error::keyed(
        ErrorKind::Unavailable,
        operation,
        key,
        format!(
            "the answer to the write was lost, and whether it was applied cannot be known ({why}); \
             read the key before writing again"
        ),
    )
    .with_retryable(false)
    .with_context("outcome", "unknown")
}

/// Why the outcome is unknown when the item no longer records the writer.
const OVERWRITTEN: &str = "the key has been written more than 32 times since (the item records the writers of its last 32 versions)";

/// The next request of a single-item write.
enum Step {
    Put(Plan),
    Read,
    Fail(Error),
}

/// What to do next for `write`, knowing `state` of its key (`authoritative` when just read
/// or returned by DynamoDB, rather than remembered).
fn step(write: &KvWrite, state: Option<State>, authoritative: bool, id: WriteId) -> Step {
    let now = now_ms();
    let state = state.map(|s| s.at(now));
    match (write.condition, state) {
        (WriteCondition::Always, state) => {
            Step::Put(plan(write, &state.unwrap_or(State::Absent), id, now))
        }
        (_, Some(state)) if authoritative => match resolve_write(write, state.live(now), now) {
            Ok(_) => Step::Put(plan(write, &state, id, now)),
            Err(conflict) => Step::Fail(conflict),
        },
        (WriteCondition::IfAbsent, _) => Step::Put(plan(write, &State::Absent, id, now)),
        (WriteCondition::IfVersion(expected), Some(State::Live(seen)))
            if seen.version == expected =>
        {
            Step::Put(plan(write, &State::Live(seen), id, now))
        }
        (WriteCondition::IfVersion(_), _) => Step::Read,
    }
}

/// Pauses and budgets of one call's attempts.
struct Retries {
    initial: Duration,
    max: Duration,
    attempts: u32,
    throttled: u32,
    unanswered: u32,
    refused: u32,
}

impl Retries {
    fn new(kv: &DynamoKv) -> Retries {
        let (initial, max, attempts) = kv.backoff();
        Retries {
            initial,
            max,
            attempts,
            throttled: 0,
            unanswered: 0,
            refused: 0,
        }
    }

    /// A pause of up to `initial * 2^n`, capped, with full jitter.
    async fn pause(base: Duration, n: u32, cap: Duration) {
        let ceiling = base.saturating_mul(1 << n.min(16)).min(cap);
        tokio::time::sleep(ceiling.mul_f64(rand::random::<f64>())).await;
    }

    /// After a throttled attempt: pause, or give up with `error` when the budget is spent.
    async fn throttled(&mut self, error: Error) -> Result<()> {
        self.throttled += 1;
        if self.throttled >= self.attempts {
            return Err(error);
        }
        Self::pause(self.initial, self.throttled - 1, self.max).await;
        Ok(())
    }

    /// After an unanswered attempt found not applied: give up with `error` when the budget is
    /// spent (the next attempt is sent at once: nothing asked it to slow down).
    fn unanswered(&mut self, error: Error) -> Result<()> {
        self.unanswered += 1;
        if self.unanswered >= self.attempts {
            return Err(error);
        }
        Ok(())
    }

    /// After a refused attempt of a write that may try again: pause briefly once several
    /// attempts lost the race (returns whether it paused), or give up when the budget is spent.
    async fn refused(&mut self, operation: &str, key: &str) -> Result<bool> {
        self.refused += 1;
        if self.refused >= REFUSED_ATTEMPTS {
            return Err(Error::keyed(
                ErrorKind::Unavailable,
                operation,
                key,
                format!(
                    "other writers changed the item before each of {REFUSED_ATTEMPTS} attempts; retry later"
                ),
            ));
        }
        if self.refused < 2 {
            return Ok(false);
        }
        Self::pause(Duration::from_millis(1), self.refused, MAX_CONTENTION_PAUSE).await;
        Ok(true)
    }
}

/// The attempt a write request that failed with `error` (other than its condition) makes.
fn failed_attempt<E>(target: &Target<'_>, error: SdkError<E, HttpResponse>) -> Result<Attempt>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let failure = write_failure(&error);
    let error = map_sdk_error(target, error);
    match failure {
        WriteFailure::NotApplied => Ok(Attempt::Throttled(error)),
        WriteFailure::MaybeApplied => Ok(Attempt::Unanswered(error)),
        WriteFailure::Refused => Err(error),
    }
}

/// The request options of a write: the SDK must not resend it by itself (see the module doc).
fn sent_once() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::default()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
}

impl DynamoKv {
    /// Writes one item (see the module doc).
    pub(super) async fn write_one(&self, write: &KvWrite) -> Result<Written> {
        const OP: &str = "kv.set";
        let id = WriteId::new();
        let mut state = self.known.get(&write.key, now_ms());
        let mut authoritative = false;
        let mut unanswered: Vec<Plan> = Vec::new();
        let mut retries = Retries::new(self);
        loop {
            let plan = match step(write, state.clone(), authoritative, id) {
                Step::Put(plan) => plan,
                Step::Fail(error) => return Err(error),
                Step::Read => {
                    state = Some(self.refresh(OP, &write.key).await?);
                    authoritative = true;
                    continue;
                }
            };
            let (stored, error) = match self.put(&write.key, &plan).await? {
                Attempt::Stored(replaced) => {
                    self.known
                        .learn(&write.key, State::of(Some(&plan.item), now_ms()));
                    // The item replaced, live or expired, tells which body this write released.
                    let released = replaced
                        .as_ref()
                        .and_then(stored_body)
                        .or(plan.replaces_body);
                    return Ok(Written {
                        item: decode(OP, &write.key, &plan.item)?,
                        released: released.into_iter().collect(),
                    });
                }
                Attempt::Throttled(error) => {
                    retries.throttled(error).await?;
                    state = Some(self.refresh(OP, &write.key).await?);
                    authoritative = true;
                    continue;
                }
                Attempt::Refused(mut old) => (old.pop().flatten().flatten(), None),
                Attempt::Unanswered(error) => {
                    unanswered.push(plan);
                    let stored = self.read_back(OP, &write.key).await?;
                    (stored, Some(error))
                }
            };
            match verdict(stored.as_ref(), id, &unanswered) {
                Verdict::Ours(v) => {
                    let Some(stored) = stored else {
                        return Err(Error::internal(OP, "a write id without an item"));
                    };
                    self.observe(&write.key, Some(&stored));
                    let sent = unanswered.iter().find(|p| p.version == v);
                    let written = match sent {
                        Some(sent) if version(&stored) != v => &sent.item,
                        _ => &stored,
                    };
                    return Ok(Written {
                        item: decode(OP, &write.key, written)?,
                        released: sent
                            .and_then(|p| p.replaces_body.clone())
                            .into_iter()
                            .collect(),
                    });
                }
                Verdict::Unknown => {
                    self.known.forget(&write.key);
                    return Err(unknown_outcome(OP, &write.key, OVERWRITTEN));
                }
                // Every unanswered attempt so far is now known not to be stored.
                Verdict::NotOurs => unanswered.clear(),
            }
            state = Some(self.observe(&write.key, stored.as_ref()));
            authoritative = true;
            // Planned again from the item now known: a conditional write then either still
            // holds (the item only expired, say) or fails as a conflict.
            let paused = match error {
                Some(error) => retries.unanswered(error).map(|_| false)?,
                None => retries.refused(OP, &write.key).await?,
            };
            if paused {
                state = Some(self.refresh(OP, &write.key).await?);
            }
        }
    }

    /// Writes every item in one transaction, all or none (see the module doc).
    pub(super) async fn write_batch(&self, writes: &[KvWrite]) -> Result<Vec<String>> {
        const OP: &str = "kv.batch_set";
        let first = writes.first().map(|w| w.key.as_str()).unwrap_or("");
        let id = WriteId::new();
        let now = now_ms();
        let mut states: Vec<State> = writes
            .iter()
            .map(|w| self.known.get(&w.key, now).unwrap_or(State::Absent))
            .collect();
        let mut unanswered: Vec<Vec<Plan>> = vec![Vec::new(); writes.len()];
        let mut retries = Retries::new(self);
        loop {
            let now = now_ms();
            let plans: Vec<Plan> = writes
                .iter()
                .zip(&states)
                .map(|(write, state)| plan(write, &state.clone().at(now), id, now))
                .collect();
            let (stored, error): (Vec<Option<Option<Item>>>, Option<Error>) =
                match self.transact(first, &plans).await? {
                    Attempt::Stored(_) => {
                        for (write, plan) in writes.iter().zip(&plans) {
                            self.known
                                .learn(&write.key, State::of(Some(&plan.item), now_ms()));
                        }
                        return Ok(plans.into_iter().filter_map(|p| p.replaces_body).collect());
                    }
                    Attempt::Throttled(error) => {
                        retries.throttled(error).await?;
                        states = self.refresh_all(writes).await?;
                        continue;
                    }
                    Attempt::Refused(old) => (old, None),
                    Attempt::Unanswered(error) => {
                        for (attempts, plan) in unanswered.iter_mut().zip(&plans) {
                            attempts.push(plan.clone());
                        }
                        let reads = writes.iter().map(|w| self.read_back(OP, &w.key));
                        let read = futures::future::try_join_all(reads).await?;
                        (read.into_iter().map(Some).collect(), Some(error))
                    }
                };
            // The transaction is atomic: one item that records this call means all were written.
            let verdicts: Vec<Verdict> = stored
                .iter()
                .zip(&unanswered)
                .map(|(item, attempts)| match item {
                    Some(item) => verdict(item.as_ref(), id, attempts),
                    None => Verdict::NotOurs,
                })
                .collect();
            if verdicts.iter().any(|v| matches!(v, Verdict::Ours(_))) {
                for write in writes {
                    self.known.forget(&write.key);
                }
                // Each item's stored attempt is the one with the version its verdict names.
                let released = verdicts
                    .iter()
                    .zip(&unanswered)
                    .filter_map(|(verdict, attempts)| match verdict {
                        Verdict::Ours(v) => attempts.iter().find(|p| p.version == *v),
                        _ => None,
                    })
                    .filter_map(|p| p.replaces_body.clone())
                    .collect();
                return Ok(released);
            }
            if let Some(unknown) = writes
                .iter()
                .zip(&verdicts)
                .find(|(_, v)| **v == Verdict::Unknown)
            {
                for write in writes {
                    self.known.forget(&write.key);
                }
                return Err(unknown_outcome(OP, &unknown.0.key, OVERWRITTEN));
            }
            // Every unanswered attempt so far is now known not to be stored.
            unanswered.iter_mut().for_each(Vec::clear);
            for ((write, state), item) in writes.iter().zip(states.iter_mut()).zip(stored) {
                if let Some(item) = item {
                    *state = self.observe(&write.key, item.as_ref());
                }
            }
            let paused = match error {
                Some(error) => retries.unanswered(error).map(|_| false)?,
                None => retries.refused(OP, first).await?,
            };
            if paused {
                states = self.refresh_all(writes).await?;
            }
        }
    }

    /// What is stored under `key` now. After a pause, what was known is stale: the next
    /// attempt is planned afresh, so that an answer lost then is told apart by the item's
    /// recent write ids (fewer than eight writes can follow in one round trip).
    async fn refresh(&self, operation: &str, key: &str) -> Result<State> {
        let item = self.read_now(operation, key).await?;
        Ok(self.observe(key, item.as_ref()))
    }

    /// What is stored under each key of `writes` now (see `refresh`).
    async fn refresh_all(&self, writes: &[KvWrite]) -> Result<Vec<State>> {
        let reads = writes.iter().map(|w| self.refresh("kv.batch_set", &w.key));
        futures::future::try_join_all(reads).await
    }

    /// The item under `key` read back after an unanswered write: `read_now`, with its failure
    /// reported as an `Unavailable` "outcome unknown" error.
    async fn read_back(&self, operation: &str, key: &str) -> Result<Option<Item>> {
        self.read_now(operation, key)
            .await
            .map_err(|e| unknown_outcome(operation, key, &e.message))
    }

    /// The item under `key` (strongly consistent), read at once. Within a write, what a read
    /// returns must be recent: the write ids an item holds tell a lost answer's outcome only
    /// while fewer than 32 writes followed. So a failed read is retried after pauses of a
    /// few milliseconds (doubling up to 64 ms), not after the SDK's backoff of a second or more.
    async fn read_now(&self, operation: &str, key: &str) -> Result<Option<Item>> {
        let mut pauses = 0;
        loop {
            let result = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("key", string_value(key))
                .consistent_read(true)
                .customize()
                .config_override(sent_once())
                .send()
                .await;
            let error = match result {
                Ok(out) => return Ok(out.item),
                Err(error) => error,
            };
            let failure = write_failure(&error);
            let error = map_sdk_error(&self.target(operation, key), error);
            if failure == WriteFailure::Refused || pauses >= READ_BACK_ATTEMPTS {
                return Err(error);
            }
            pauses += 1;
            Retries::pause(Duration::from_millis(2), pauses, MAX_CONTENTION_PAUSE).await;
        }
    }

    /// Remembers what `item` (or its absence) tells of `key`, and returns it.
    fn observe(&self, key: &str, item: Option<&Item>) -> State {
        let state = State::of(item, now_ms());
        self.known.learn(key, state.clone());
        state
    }

    /// Sends `plan` as one conditional `PutItem`.
    async fn put(&self, key: &str, plan: &Plan) -> Result<Attempt> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(plan.item.clone()))
            .condition_expression(&plan.condition.expression)
            .set_expression_attribute_names(Some(plan.condition.names.clone()))
            .set_expression_attribute_values(Some(plan.condition.values.clone()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            // Only a write planned over no live item needs the old one back: it may replace an
            // expired large value, whose body it then releases. Over a live item, the plan
            // knows the body already, and the old item (up to 400 KB) stays at DynamoDB.
            .set_return_values((plan.version == 1).then_some(ReturnValue::AllOld))
            .customize()
            .config_override(sent_once())
            .send()
            .await;
        let error = match result {
            Ok(out) => return Ok(Attempt::Stored(out.attributes)),
            Err(error) => error,
        };
        if let Some(PutItemError::ConditionalCheckFailedException(refused)) =
            error.as_service_error()
        {
            return Ok(Attempt::Refused(vec![Some(refused.item.clone())]));
        }
        failed_attempt(&self.target("kv.set", key), error)
    }

    /// Sends `plans` as one `TransactWriteItems` of conditional puts.
    async fn transact(&self, first: &str, plans: &[Plan]) -> Result<Attempt> {
        const OP: &str = "kv.batch_set";
        let actions = plans
            .iter()
            .map(|plan| {
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(plan.item.clone()))
                    .condition_expression(&plan.condition.expression)
                    .set_expression_attribute_names(Some(plan.condition.names.clone()))
                    .set_expression_attribute_values(Some(plan.condition.values.clone()))
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
                    .map_err(|e| Error::internal(OP, e))
            })
            .collect::<Result<Vec<_>>>()?;
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .customize()
            .config_override(sent_once())
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Attempt::Stored(None)),
            Err(error) => error,
        };
        let reasons = match error.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
                c.cancellation_reasons.clone()
            }
            _ => None,
        };
        let target = self.target(OP, first);
        let Some(reasons) = reasons else {
            return failed_attempt(&target, error);
        };
        let code =
            |r: &aws_sdk_dynamodb::types::CancellationReason| r.code().unwrap_or("None").to_owned();
        if let Some(other) = reasons.iter().map(code).find(|c| {
            !matches!(
                c.as_str(),
                "None"
                    | "ConditionalCheckFailed"
                    | "TransactionConflict"
                    | "ThrottlingError"
                    | "ProvisionedThroughputExceeded"
                    | "RequestLimitExceeded"
            )
        }) {
            let message = format!(
                "DynamoDB cancelled the transaction ({other}); check the values against DynamoDB's limits"
            );
            return Err(Error::keyed(ErrorKind::InvalidInput, OP, first, message)
                .with_context("resource", target.resource));
        }
        if reasons
            .iter()
            .all(|r| matches!(code(r).as_str(), "None" | "ConditionalCheckFailed"))
        {
            return Ok(Attempt::Refused(
                reasons
                    .iter()
                    .map(|r| (code(r) == "ConditionalCheckFailed").then(|| r.item().cloned()))
                    .collect(),
            ));
        }
        Ok(Attempt::Throttled(map_sdk_error(&target, error)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_ms;

    fn write(condition: WriteCondition) -> KvWrite {
        KvWrite {
            key: "k".into(),
            value: serde_json::json!(1),
            encoded: "1".into(),
            expires_at: None::<i64>.map(from_ms),
            condition,
            body: None,
        }
    }

    /// The items after `writers` wrote versions 1, 2, ... in turn (the last is stored).
    fn written_by(writers: &[WriteId]) -> Vec<Plan> {
        let mut plans: Vec<Plan> = Vec::new();
        for id in writers {
            let state = State::of(plans.last().map(|p| &p.item), now_ms());
            plans.push(plan(&write(WriteCondition::Always), &state, *id, now_ms()));
        }
        plans
    }

    /// The plan `id` would have sent for `version`, had it written after `plans[..version-1]`.
    fn attempt(plans: &[Plan], version: usize, id: WriteId) -> Plan {
        let state = State::of(
            plans.get(version.wrapping_sub(2)).map(|p| &p.item),
            now_ms(),
        );
        plan(&write(WriteCondition::Always), &state, id, now_ms())
    }

    #[test]
    fn a_write_is_recognised_by_its_id_not_its_content() {
        let (mine, other) = (WriteId::new(), WriteId::new());
        let plans = written_by(&[other, other]);
        let stored = &plans[1].item;
        let lost = attempt(&plans, 2, mine);
        assert_eq!(
            lost.item["value"], stored["value"],
            "same value, same version"
        );
        assert_eq!(verdict(Some(stored), mine, &[lost]), Verdict::NotOurs);
        let plans = written_by(&[other, mine]);
        let lost = plans[1].clone();
        assert_eq!(
            verdict(Some(&plans[1].item), mine, &[lost]),
            Verdict::Ours(2)
        );
    }

    #[test]
    fn a_write_superseded_since_is_still_recognised_while_its_id_is_kept() {
        let (mine, other) = (WriteId::new(), WriteId::new());
        let mut writers = vec![other, mine];
        writers.extend(std::iter::repeat_n(other, 31));
        let plans = written_by(&writers);
        let lost = plans[1].clone();
        let last = |plans: &[Plan]| plans.last().unwrap().item.clone();
        assert_eq!(
            verdict(Some(&last(&plans)), mine, std::slice::from_ref(&lost)),
            Verdict::Ours(2)
        );
        writers.push(other);
        let plans = written_by(&writers);
        let stored = last(&plans);
        let unrecorded = attempt(&plans, 2, mine);
        assert_eq!(
            verdict(Some(&stored), mine, &[unrecorded]),
            Verdict::Unknown,
            "version 2's writer is no longer recorded"
        );
        assert_eq!(
            verdict(Some(&stored), mine, &[]),
            Verdict::NotOurs,
            "nothing unanswered: a refusal is simply a refusal"
        );
        assert_eq!(verdict(None, mine, &[lost]), Verdict::NotOurs);
    }

    #[test]
    fn another_incarnation_of_the_key_settles_an_unanswered_attempt() {
        let (mine, other) = (WriteId::new(), WriteId::new());
        let mut fresh = attempt(&[], 1, mine);
        fresh
            .item
            .insert("created_at".into(), crate::aws::kv_layout::number_value(1));
        let plans = written_by(&[other; 40]);
        assert_eq!(
            verdict(Some(&plans[39].item), mine, &[fresh]),
            Verdict::NotOurs,
            "created at another time: not the item a fresh write of this call made"
        );
    }

    #[test]
    fn items_without_write_ids_are_unknown_only_past_the_unanswered_version() {
        let upstream: Item = [("key".to_owned(), string_value("k"))].into();
        let mine = WriteId::new();
        let mut second = attempt(&[], 1, mine);
        second.version = 2;
        assert_eq!(verdict(Some(&upstream), mine, &[second]), Verdict::NotOurs);
        let mut first = attempt(&[], 1, mine);
        first.item.remove("created_at");
        assert_eq!(verdict(Some(&upstream), mine, &[first]), Verdict::Unknown);
    }

    #[test]
    fn conditional_writes_read_when_what_is_remembered_does_not_decide() {
        let id = WriteId::new();
        let plans = written_by(&[id]);
        let live = State::of(Some(&plans[0].item), now_ms());
        let matches = |s: Step| match s {
            Step::Put(p) => format!("put {}", p.version),
            Step::Read => "read".into(),
            Step::Fail(e) => format!("{:?}", e.kind),
        };
        let cases = [
            (
                WriteCondition::IfVersion(1),
                Some(live.clone()),
                false,
                "put 2",
            ),
            (
                WriteCondition::IfVersion(7),
                Some(live.clone()),
                false,
                "read",
            ),
            (WriteCondition::IfVersion(7), None, false, "read"),
            (
                WriteCondition::IfVersion(7),
                Some(live.clone()),
                true,
                "Conflict",
            ),
            (
                WriteCondition::IfVersion(1),
                Some(State::Absent),
                true,
                "Conflict",
            ),
            (WriteCondition::IfAbsent, Some(live.clone()), false, "put 1"),
            (
                WriteCondition::IfAbsent,
                Some(live.clone()),
                true,
                "Conflict",
            ),
            (WriteCondition::Always, None, false, "put 1"),
            (WriteCondition::Always, Some(live), false, "put 2"),
        ];
        for (condition, state, authoritative, expected) in cases {
            let got = matches(step(&write(condition), state, authoritative, id));
            assert_eq!(got, expected, "{condition:?} authoritative={authoritative}");
        }
    }
}
