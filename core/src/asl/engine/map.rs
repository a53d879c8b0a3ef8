//! Map states: items from `ItemsPath`/`Items`, each item's input from `ItemSelector`, one frame
//! per iteration run with `MaxConcurrency`, and the tolerated failure thresholds.

use std::sync::Arc;

/// Iterations an inline Map runs at once when `MaxConcurrency` is 0 or absent (Step Functions'
/// inline Map runs up to 40).
const DEFAULT_MAP_CONCURRENCY: usize = 40;
/// Most bytes of iteration inputs a Map state prepares at once.
const MAX_MAP_INPUT_BYTES: usize = 64 * 1024 * 1024;

use futures::{Stream, StreamExt};
use serde_json::{Map, Value, json};

use super::{Frame, Halt, Run, Step};
use crate::asl::dataflow::{self, Env};
use crate::asl::definition::{Block, MapState, QueryLanguage, State};
use crate::asl::{Failure, errors, jsonata};

impl Run {
    /// One Map attempt: every item's iteration in a child frame of its own, at most
    /// `MaxConcurrency` at once, their outputs in item order.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn map(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        map: &MapState,
        raw: &Value,
        effective: Value,
        ctx: &Value,
        frame: &Frame,
        attempt: u32,
    ) -> Result<Step, Halt> {
        let vars = &frame.vars;
        let MapPlan {
            inputs,
            concurrency,
            tolerance,
        } = match plan_map(state, map, raw, &effective, ctx, vars) {
            Ok(p) => p,
            Err(f) => return Ok(Err(f)),
        };
        let total = inputs.len();
        self.record(frame_id, "MapStateStarted", json!({"length": total}));
        self.flush(vec![(frame_id.to_owned(), frame.clone())], None)
            .await?;
        // MaxConcurrency 0 (or absent) means "as many as possible": an inline Map runs up to
        // 40 iterations at once on Step Functions, and so here.
        let limit = if concurrency == 0 {
            total.clamp(1, DEFAULT_MAP_CONCURRENCY)
        } else {
            concurrency.min(total.max(1))
        };
        let runs = inputs.into_iter().enumerate().map(|(index, input)| {
            let child = format!("{frame_id}/{}@{attempt}#{index}", state.name);
            let start = self.child_frame(&child, &map.processor, input, vars);
            self.clone()
                .run_map_iteration(child, &map.processor, start, state.name.clone(), index)
        });
        let iterations = futures::stream::iter(runs).buffer_unordered(limit);
        self.collect_map_outputs(frame_id, state, map, tolerance, total, iterations)
            .await
    }

    /// Runs one Map iteration from its start frame, recording its start and how it ended;
    /// returns its index with its outcome.
    async fn run_map_iteration(
        self: Arc<Self>,
        child: String,
        processor: &Block,
        start: Frame,
        name: String,
        index: usize,
    ) -> (usize, Result<Step, Halt>) {
        self.record(
            &child,
            "MapIterationStarted",
            json!({"name": name, "index": index}),
        );
        let r = self.run_block(child.clone(), processor, start).await;
        if let Ok(outcome) = &r {
            let kind = if outcome.is_ok() {
                "MapIterationSucceeded"
            } else {
                "MapIterationFailed"
            };
            self.record(&child, kind, json!({"name": name, "index": index}));
        }
        (index, r)
    }

    /// Collects the iterations' outputs in item order as they finish; fails the state as soon
    /// as the outputs exceed the payload quota or the failures exceed what it tolerates.
    async fn collect_map_outputs(
        &self,
        frame_id: &str,
        state: &State,
        map: &MapState,
        tolerance: Tolerance,
        total: usize,
        mut iterations: impl Stream<Item = (usize, Result<Step, Halt>)> + Unpin,
    ) -> Result<Step, Halt> {
        let mut outputs = vec![Value::Null; total];
        let mut output_bytes = 0usize;
        let mut failures = 0usize;
        while let Some((index, r)) = iterations.next().await {
            match r? {
                Ok(v) => {
                    // The outputs become one array, itself a payload of at most 256 KB: stop as
                    // soon as they cannot fit, instead of holding them all first.
                    output_bytes = output_bytes
                        .saturating_add(serde_json::to_string(&v).map_or(usize::MAX, |s| s.len()));
                    if output_bytes > crate::asl::MAX_PAYLOAD_BYTES {
                        let f = Failure::new(
                            errors::DATA_LIMIT_EXCEEDED,
                            format!(
                                "The Map state '{}' returned a result with a size exceeding the maximum number of bytes service limit ({} bytes)",
                                state.name,
                                crate::asl::MAX_PAYLOAD_BYTES
                            ),
                        );
                        return Ok(self.map_failed(frame_id, f));
                    }
                    outputs[index] = v;
                }
                Err(f) => {
                    failures += 1;
                    if !tolerance.allows(failures, total) {
                        let f = if map.distributed || tolerance.is_set() {
                            Failure::new(
                                errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                format!(
                                    "The Map state '{}' failed because {failures} of {total} iterations failed, more than its tolerated failure threshold",
                                    state.name
                                ),
                            )
                        } else {
                            f
                        };
                        return Ok(self.map_failed(frame_id, f));
                    }
                    outputs[index] = json!({"Error": f.error, "Cause": f.cause});
                }
            }
        }
        self.record(frame_id, "MapStateSucceeded", json!({}));
        Ok(Ok(Value::Array(outputs)))
    }

    /// Records `MapStateFailed` for the failure that ends a Map attempt, and returns it.
    fn map_failed(&self, frame_id: &str, f: Failure) -> Step {
        self.record(
            frame_id,
            "MapStateFailed",
            json!({"error": f.error, "cause": f.cause}),
        );
        Err(f)
    }
}

/// A Map state's item inputs, concurrency and tolerated failures.
struct MapPlan {
    /// Each iteration's input, in item order.
    inputs: Vec<Value>,
    /// `MaxConcurrency` (0 when absent: as many as possible).
    concurrency: usize,
    /// `ToleratedFailureCount` and `ToleratedFailurePercentage`.
    tolerance: Tolerance,
}

/// The failures a Map state tolerates before it fails.
#[derive(Clone, Copy)]
struct Tolerance {
    /// `ToleratedFailureCount`, if set.
    count: Option<u64>,
    /// `ToleratedFailurePercentage`, if set.
    percentage: Option<f64>,
}

impl Tolerance {
    /// Whether `failures` failed iterations of `total` are within a tolerated threshold.
    fn allows(self, failures: usize, total: usize) -> bool {
        self.count.is_some_and(|c| failures as u64 <= c)
            || self
                .percentage
                .is_some_and(|p| (failures as f64) * 100.0 / (total as f64) <= p)
    }

    /// Whether the state sets a tolerated threshold at all.
    fn is_set(self) -> bool {
        self.count.is_some() || self.percentage.is_some()
    }
}

/// Evaluates a Map state's items, their inputs, its concurrency and its tolerated failures.
fn plan_map(
    state: &State,
    map: &MapState,
    raw: &Value,
    effective: &Value,
    ctx: &Value,
    vars: &Map<String, Value>,
) -> Result<MapPlan, Failure> {
    let env = Env { context: ctx, vars };
    let items = map_items(state, map, raw, effective, env)?;
    let inputs = map_inputs(state, map, raw, effective, ctx, vars, items)?;
    let concurrency = match &map.max_concurrency {
        Some(d) => dataflow::dynamic_u64(state, "MaxConcurrency", d, raw, env)? as usize,
        None => 0,
    };
    let count = map
        .tolerated_count
        .as_ref()
        .map(|d| dataflow::dynamic_u64(state, "ToleratedFailureCount", d, raw, env))
        .transpose()?;
    let percentage = match &map.tolerated_percentage {
        Some(d) => Some(
            dataflow::dynamic(state, "ToleratedFailurePercentage", d, raw, env)?
                .as_f64()
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| {
                    Failure::runtime(format!(
                        "The state '{}' ToleratedFailurePercentage must be a number from 0 to 100",
                        state.name
                    ))
                })?,
        ),
        None => None,
    };
    Ok(MapPlan {
        inputs,
        concurrency,
        tolerance: Tolerance { count, percentage },
    })
}

/// Each item's iteration input, within a budget of [`MAX_MAP_INPUT_BYTES`] for all of them.
fn map_inputs(
    state: &State,
    map: &MapState,
    raw: &Value,
    effective: &Value,
    ctx: &Value,
    vars: &Map<String, Value>,
    items: Vec<Value>,
) -> Result<Vec<Value>, Failure> {
    // Each iteration's input is a payload of its own (at most 256 KB), and together they
    // stay within a budget: an ItemSelector that copies a large input into each of many
    // items must fail the state, not exhaust memory.
    let mut budget = MAX_MAP_INPUT_BYTES;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            let input = map_item_input(map, raw, effective, ctx, vars, index, item)?;
            let size = dataflow::check_size(&state.name, "an iteration input", &input)?;
            budget = budget.checked_sub(size).ok_or_else(|| {
                Failure::new(
                    errors::DATA_LIMIT_EXCEEDED,
                    format!(
                        "The Map state '{}' would hold more than {MAX_MAP_INPUT_BYTES} bytes of iteration inputs at once; select less of the input per item (ItemSelector) or split the items",
                        state.name
                    ),
                )
            })?;
            Ok(input)
        })
        .collect()
}

/// The items a Map state iterates over: `ItemsPath` or `Items`, else its effective input.
fn map_items(
    state: &State,
    map: &MapState,
    raw: &Value,
    effective: &Value,
    env: Env<'_>,
) -> Result<Vec<Value>, Failure> {
    let items = match state.language {
        QueryLanguage::JsonPath => match &map.items_path {
            Some(p) => p.select(&crate::asl::Scope {
                input: effective,
                context: env.context,
                vars: env.vars,
            })?,
            None => effective.clone(),
        },
        QueryLanguage::Jsonata => match &map.items {
            Some(items) => jsonata::evaluate_template(
                items,
                &json!({"input": raw, "context": env.context}),
                env.vars,
            )?,
            None => effective.clone(),
        },
    };
    match items {
        Value::Array(items) => Ok(items),
        other => Err(Failure::runtime(format!(
            "The Map state '{}' needs an array of items, but its items are {other}",
            state.name
        ))),
    }
}

/// One item's iteration input: its `ItemSelector` rendered with `$$.Map.Item`, or the item.
#[allow(clippy::too_many_arguments)]
fn map_item_input(
    map: &MapState,
    raw: &Value,
    effective: &Value,
    ctx: &Value,
    vars: &Map<String, Value>,
    index: usize,
    item: Value,
) -> Result<Value, Failure> {
    let mut item_ctx = ctx.clone();
    item_ctx["Map"] = json!({"Item": {"Index": index, "Value": item}});
    match (&map.item_selector, &map.item_selector_jsonata) {
        (Some(t), _) => t.render(&crate::asl::Scope {
            input: effective,
            context: &item_ctx,
            vars,
        }),
        (None, Some(t)) => {
            jsonata::evaluate_template(t, &json!({"input": raw, "context": item_ctx}), vars)
        }
        (None, None) => Ok(item),
    }
}
