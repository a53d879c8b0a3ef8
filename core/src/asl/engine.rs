//! The interpreter: runs an execution state by state, records Step Functions history events and
//! checkpoints through a [`Host`], and resumes from the last checkpoint after a crash.
//!
//! An execution is a tree of *frames*: the top-level states, each Parallel branch and each Map
//! iteration. A frame's checkpoint (current state, its input, the variables, retry counts, and
//! whether it is waiting) is committed together with the history events of every transition, so a
//! new process continues each frame where it stopped: a Task whose success was committed never
//! runs again, a Wait sleeps only what is left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::choice::ChoiceRule;
use super::dataflow::{self, Env, check_size};
use super::definition::{Block, ChoiceTest, Kind, State, StateMachine, Wait};
use super::{Failure, errors, jsonata, retry};
use crate::clock::now_ms;

mod attempt;
mod map;
mod task_events;

/// One Task invocation handed to the host.
#[derive(Debug, Clone)]
pub struct TaskCall {
    /// The `Resource` of the Task state.
    pub resource: String,
    /// The effective input (`Parameters`/`Arguments` applied).
    pub payload: Value,
    /// The context object, with `Task.Token`.
    pub context: Value,
    /// The task token (also in `context.Task.Token`).
    pub token: String,
    /// `HeartbeatSeconds`, if set.
    pub heartbeat: Option<Duration>,
    /// The Task state's name.
    pub state: String,
}

/// Why an execution stopped running in this process before it finished.
#[derive(Debug)]
pub enum Halt {
    /// It was stopped (`StopExecution`) by this or another process.
    Stopped,
    /// Its state could not be persisted; another process may resume it.
    Store(crate::Error),
}

/// A history event as Step Functions names it (`TaskStateEntered`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1, 2, 3, ... within the execution.
    pub id: u64,
    /// The event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// Epoch milliseconds.
    pub timestamp_ms: i64,
    /// `ExecutionStarted`, `PassStateEntered`, `TaskSucceeded`, ...
    #[serde(rename = "type")]
    pub event_type: String,
    /// The `...EventDetails` object.
    pub details: Value,
}

/// Where a frame is, as its checkpoint records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The current state.
    pub state: String,
    /// The current state's raw input.
    pub input: Value,
    /// The variables visible to the current state.
    pub vars: Map<String, Value>,
    /// Retries spent per `Retry` entry of the current state.
    pub retries: Vec<u32>,
    /// Whether `...StateEntered` of the current state is already recorded.
    pub entered: bool,
    /// Epoch ms a Wait (or a retry back-off) sleeps until.
    pub wait_until_ms: Option<i64>,
    /// `Some` once the frame has finished: `Ok(output)` or `Err((error, cause))`.
    pub done: Option<Result<Value, (String, String)>>,
    /// Transitions made in this frame so far (tells apart visits of a state in a loop).
    #[serde(default)]
    pub step: u64,
}

impl Frame {
    /// A frame about to enter `state` (not yet entered) with `input`, after `step` transitions.
    fn at(state: String, input: Value, vars: Map<String, Value>, step: u64) -> Frame {
        Frame {
            state,
            input,
            vars,
            retries: Vec::new(),
            entered: false,
            wait_until_ms: None,
            done: None,
            step,
        }
    }
}

/// One atomic write: history events, frame checkpoints and, at the end, the final status.
#[derive(Debug, Default)]
pub struct Commit {
    /// New history events, in id order.
    pub events: Vec<Event>,
    /// Frame checkpoints by frame id (`""` is the top level).
    pub frames: Vec<(String, Frame)>,
    /// The execution's end, if it ended.
    pub finish: Option<Finish>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// `SUCCEEDED` with the output.
    Succeeded(Value),
    /// `FAILED` with error and cause.
    Failed(Failure),
    /// `TIMED_OUT` (the state machine's `TimeoutSeconds`).
    TimedOut(Failure),
}

/// What the engine needs from the backend running it.
#[async_trait]
pub trait Host: Send + Sync {
    /// Runs a Task: a registered handler, an activity, a service integration. `TimeoutSeconds`
    /// is enforced by the engine around this call; `HeartbeatSeconds` by the host.
    async fn invoke(&self, call: TaskCall) -> Result<Value, Failure>;
    /// Persists a commit atomically; `Err(Halt::Stopped)` if the execution is no longer running.
    async fn commit(&self, commit: Commit) -> Result<(), Halt>;
    /// Resolves once the execution has been stopped by anyone.
    async fn stopped(&self);
}

/// Most history events of one execution (Step Functions' quota for Standard workflows: "if the
/// execution history reaches this quota, the execution fails"). A state machine that loops
/// forever ends `FAILED` here instead of filling the disk.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// The secret task tokens are derived under (per mesh; see [`Run::new`]).
pub type TokenKey = [u8; 32];

/// One execution being run (or resumed) in this process.
pub struct Run {
    machine: Arc<StateMachine>,
    host: Arc<dyn Host>,
    /// `Execution` and `StateMachine` of the context object.
    context: Value,
    recorder: Mutex<Recorder>,
    /// Checkpoints loaded when resuming, by frame id.
    resumed: HashMap<String, Frame>,
    /// The mesh's secret for task tokens.
    token_key: TokenKey,
}

struct Recorder {
    next_id: u64,
    last_by_frame: HashMap<String, u64>,
    pending: Vec<Event>,
}

/// The failure of an execution whose history reached [`MAX_HISTORY_EVENTS`].
fn history_quota_failure() -> Failure {
    Failure::runtime(format!(
        "The execution reached Step Functions' quota of {MAX_HISTORY_EVENTS} history events and was failed; \
         a state machine that loops must end, or continue as a new execution"
    ))
}

type Step = Result<Value, Failure>;

enum Transition {
    Next {
        state: String,
        output: Value,
        vars: Map<String, Value>,
    },
    End(Value),
}

impl Run {
    /// A run of `machine` whose history already holds `last_event_id` events and whose frames
    /// were checkpointed as `resumed` (empty for a new execution). `context` holds the
    /// `Execution` and `StateMachine` objects of the context object.
    /// Task tokens are an HMAC of the execution, frame, step and attempt under `token_key`: the
    /// same when a resumed execution runs the same attempt again, and impossible to compute
    /// without the mesh's secret.
    pub fn new(
        machine: Arc<StateMachine>,
        host: Arc<dyn Host>,
        context: Value,
        last_event_id: u64,
        resumed: HashMap<String, Frame>,
        token_key: TokenKey,
    ) -> Run {
        Run {
            machine,
            host,
            context,
            recorder: Mutex::new(Recorder {
                next_id: last_event_id + 1,
                last_by_frame: HashMap::new(),
                pending: Vec::new(),
            }),
            resumed,
            token_key,
        }
    }

    /// The quota failure, once the history holds [`MAX_HISTORY_EVENTS`] events.
    fn over_quota(&self) -> Option<Failure> {
        let recorder = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        (recorder.next_id > MAX_HISTORY_EVENTS).then(history_quota_failure)
    }

    fn record(&self, frame: &str, event_type: &str, details: Value) {
        let mut r = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        let id = r.next_id;
        r.next_id += 1;
        let previous = r.last_by_frame.get(frame).copied().unwrap_or_else(|| {
            // A new frame follows the last event of its parent frame.
            let parent = frame.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            r.last_by_frame.get(parent).copied().unwrap_or(id - 1)
        });
        r.last_by_frame.insert(frame.to_owned(), id);
        r.pending.push(Event {
            id,
            previous_event_id: previous,
            timestamp_ms: now_ms(),
            event_type: event_type.to_owned(),
            details,
        });
    }

    async fn flush(
        &self,
        frames: Vec<(String, Frame)>,
        finish: Option<Finish>,
    ) -> Result<(), Halt> {
        let events = std::mem::take(
            &mut self
                .recorder
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pending,
        );
        self.host
            .commit(Commit {
                events,
                frames,
                finish,
            })
            .await
    }

    /// Runs the execution to its end (or until it is stopped or cannot be persisted) and commits
    /// the final status. `input` is the execution input (used when nothing was checkpointed).
    pub async fn execute(
        self: Arc<Self>,
        input: Value,
        deadline_ms: Option<i64>,
    ) -> Result<Finish, Halt> {
        let machine = self.machine.clone();
        let top = self.child_frame("", &machine.block, input, &Map::new());
        // A panic anywhere in the run (a bug, or a handler that panics) fails the execution
        // with States.Runtime and commits it, so its lease is released and `wait()` returns.
        let body = std::panic::AssertUnwindSafe(self.run_block(String::new(), &machine.block, top))
            .catch_unwind()
            .map(|result| {
                result.unwrap_or_else(|panic| {
                    Ok(Err(Failure::runtime(format!(
                        "agent-mesh failed while running the execution ({}); please report it",
                        crate::error::panic_message(panic.as_ref())
                    ))))
                })
            });
        let outcome = match deadline_ms {
            None => body.await,
            Some(deadline) => {
                let left = Duration::from_millis((deadline - now_ms()).max(0) as u64);
                match tokio::time::timeout(left, body).await {
                    Ok(r) => r,
                    Err(_) => {
                        let f = Failure::new(
                            errors::TIMEOUT,
                            "The execution ran longer than the state machine's TimeoutSeconds",
                        );
                        self.record(
                            "",
                            "ExecutionTimedOut",
                            json!({"error": f.error, "cause": f.cause}),
                        );
                        let finish = Finish::TimedOut(f);
                        self.flush(Vec::new(), Some(finish.clone())).await?;
                        return Ok(finish);
                    }
                }
            }
        }?;
        // Past the history quota, whatever a Catch made of it, the execution fails.
        let outcome = match self.over_quota() {
            Some(quota) => Err(quota),
            None => outcome,
        };
        let finish = match outcome {
            Ok(output) => {
                self.record(
                    "",
                    "ExecutionSucceeded",
                    json!({"output": output.to_string()}),
                );
                Finish::Succeeded(output)
            }
            Err(f) => {
                self.record(
                    "",
                    "ExecutionFailed",
                    json!({"error": f.error, "cause": f.cause}),
                );
                Finish::Failed(f)
            }
        };
        self.flush(Vec::new(), Some(finish.clone())).await?;
        Ok(finish)
    }

    fn state_context(&self, state: &State, frame: &Frame) -> Value {
        let mut ctx = self.context.clone();
        ctx["State"] = json!({
            "Name": state.name,
            "EnteredTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "RetryCount": frame.retries.iter().sum::<u32>(),
        });
        ctx
    }

    /// Runs the states of one frame from its checkpoint to the end of the block.
    fn run_block<'a>(
        self: &'a Arc<Self>,
        frame_id: String,
        block: &'a Block,
        mut frame: Frame,
    ) -> BoxFuture<'a, Result<Step, Halt>> {
        async move {
            if let Some(done) = &frame.done {
                return Ok(done.clone().map_err(|(e, c)| Failure::new(e, c)));
            }
            loop {
                if let Some(quota) = self.over_quota() {
                    return Ok(Err(quota));
                }
                let Some(state) = block.state(&frame.state).cloned() else {
                    return Ok(Err(Failure::runtime(format!(
                        "the state '{}' does not exist",
                        frame.state
                    ))));
                };
                let step = self.run_state(&frame_id, &state, &mut frame).await?;
                match step {
                    Ok(Transition::Next {
                        state: next,
                        output,
                        vars,
                    }) => {
                        frame = Frame::at(next, output, vars, frame.step + 1);
                        self.flush(vec![(frame_id.clone(), frame.clone())], None)
                            .await?;
                    }
                    Ok(Transition::End(output)) => {
                        frame.done = Some(Ok(output.clone()));
                        if !frame_id.is_empty() {
                            self.flush(vec![(frame_id.clone(), frame)], None).await?;
                        }
                        return Ok(Ok(output));
                    }
                    Err(f) => {
                        frame.done = Some(Err((f.error.clone(), f.cause.clone())));
                        if !frame_id.is_empty() {
                            self.flush(vec![(frame_id.clone(), frame)], None).await?;
                        }
                        return Ok(Err(f));
                    }
                }
            }
        }
        .boxed()
    }

    async fn run_state(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        frame: &mut Frame,
    ) -> Result<Result<Transition, Failure>, Halt> {
        let kind = type_name(&state.kind);
        if !frame.entered {
            self.record(
                frame_id,
                &format!("{kind}StateEntered"),
                json!({"name": state.name, "input": frame.input.to_string()}),
            );
            frame.entered = true;
        }
        let ctx = self.state_context(state, frame);
        let env = Env {
            context: &ctx,
            vars: &frame.vars,
        };
        let raw = frame.input.clone();
        let transition = match &state.kind {
            Kind::Choice { choices, default } => {
                choose(state, choices, default.as_deref(), &raw, env)
            }
            Kind::Succeed => dataflow::finish_choice(state, &raw, None, None, env)
                .map(|(output, _)| Transition::End(output)),
            Kind::Fail { error, cause } => {
                let error = match error {
                    Some(e) => dataflow::dynamic_string(state, "Error", e, &raw, env),
                    None => Ok(String::new()),
                };
                let cause = match cause {
                    Some(c) => dataflow::dynamic_string(state, "Cause", c, &raw, env),
                    None => Ok(String::new()),
                };
                match (error, cause) {
                    (Ok(error), Ok(cause)) => Err(Failure::new(error, cause)),
                    (Err(f), _) | (_, Err(f)) => Err(f),
                }
            }
            Kind::Wait(wait) => return self.wait(frame_id, state, wait, frame, &ctx).await,
            _ => return self.run_with_retry(frame_id, state, frame).await,
        };
        Ok(self.exit(frame_id, state, transition))
    }

    fn exit(
        &self,
        frame_id: &str,
        state: &State,
        transition: Result<Transition, Failure>,
    ) -> Result<Transition, Failure> {
        let transition = transition.and_then(|t| {
            match &t {
                Transition::Next { output, .. } | Transition::End(output) => {
                    check_size(&state.name, "the state output", output)?;
                }
            }
            Ok(t)
        });
        if let Ok(Transition::Next { output, .. } | Transition::End(output)) = &transition
            && !matches!(state.kind, Kind::Fail { .. })
        {
            let kind = type_name(&state.kind);
            self.record(
                frame_id,
                &format!("{kind}StateExited"),
                json!({"name": state.name, "output": output.to_string()}),
            );
        }
        transition
    }

    async fn wait(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        wait: &Wait,
        frame: &mut Frame,
        ctx: &Value,
    ) -> Result<Result<Transition, Failure>, Halt> {
        let env = Env {
            context: ctx,
            vars: &frame.vars,
        };
        let raw = frame.input.clone();
        let until = match frame.wait_until_ms {
            Some(until) => until,
            None => {
                let until = match wait_until(state, wait, &raw, env) {
                    Ok(until) => until,
                    Err(f) => return Ok(Err(f)),
                };
                frame.wait_until_ms = Some(until);
                self.flush(vec![(frame_id.to_owned(), frame.clone())], None)
                    .await?;
                until
            }
        };
        self.sleep_until(until).await?;
        let transition = dataflow::finish_choice(state, &raw, None, None, env)
            .map(|(output, vars)| next_or_end(state, output, vars));
        Ok(self.exit(frame_id, state, transition))
    }

    async fn sleep_until(&self, until_ms: i64) -> Result<(), Halt> {
        let left = Duration::from_millis((until_ms - now_ms()).max(0) as u64);
        tokio::select! {
            _ = tokio::time::sleep(left) => Ok(()),
            _ = self.host.stopped() => Err(Halt::Stopped),
        }
    }

    /// Pass, Task, Parallel and Map: the work, with `Retry` and `Catch`.
    async fn run_with_retry(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        frame: &mut Frame,
    ) -> Result<Result<Transition, Failure>, Halt> {
        frame.retries.resize(state.retry.len(), 0);
        loop {
            if let Some(quota) = self.over_quota() {
                return Ok(Err(quota));
            }
            if let Some(until) = frame.wait_until_ms.take() {
                self.sleep_until(until).await?;
            }
            let attempt = frame.retries.iter().sum::<u32>();
            let mut ctx = self.state_context(state, frame);
            if matches!(state.kind, Kind::Task(_)) {
                // Parameters may read $$.Task.Token (the callback pattern).
                ctx["Task"] = json!({"Token": self.task_token(frame_id, frame.step, attempt)});
            }
            let env = Env {
                context: &ctx,
                vars: &frame.vars,
            };
            let raw = frame.input.clone();
            let result = match dataflow::effective_input(state, &raw, env) {
                Ok(effective) => {
                    self.run_attempt(frame_id, state, &raw, effective, &ctx, frame, attempt)
                        .await?
                }
                Err(f) => Err(f),
            };
            let transition = result.and_then(|r| {
                dataflow::finish(state, &raw, r, env)
                    .map(|(output, vars)| next_or_end(state, output, vars))
            });
            let failure = match transition {
                Ok(t) => return Ok(self.exit(frame_id, state, Ok(t))),
                Err(f) => f,
            };
            if let Some(i) = state
                .retry
                .iter()
                .position(|r| retry::matches(&r.error_equals, &failure.error))
            {
                let retrier = &state.retry[i];
                if frame.retries[i] < retrier.max_attempts {
                    frame.retries[i] += 1;
                    let delay = retrier.delay(frame.retries[i]);
                    let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                    frame.wait_until_ms = Some(now_ms().saturating_add(delay_ms));
                    self.flush(vec![(frame_id.to_owned(), frame.clone())], None)
                        .await?;
                    continue;
                }
            }
            if let Some(catcher) = state
                .catch
                .iter()
                .find(|c| retry::matches(&c.error_equals, &failure.error))
            {
                let transition = dataflow::catch_output(state, catcher, &raw, &failure, env).map(
                    |(output, vars)| Transition::Next {
                        state: catcher.next.clone(),
                        output,
                        vars,
                    },
                );
                return Ok(self.exit(frame_id, state, transition));
            }
            return Ok(Err(failure));
        }
    }

    /// The frame `id` as checkpointed before a restart, or a new one at the start of `block`.
    fn child_frame(
        &self,
        id: &str,
        block: &Block,
        input: Value,
        vars: &Map<String, Value>,
    ) -> Frame {
        self.resumed
            .get(id)
            .cloned()
            .unwrap_or_else(|| Frame::at(block.start_at.clone(), input, vars.clone(), 0))
    }
}

fn next_or_end(state: &State, output: Value, vars: Map<String, Value>) -> Transition {
    match &state.next {
        Some(next) => Transition::Next {
            state: next.clone(),
            output,
            vars,
        },
        None => Transition::End(output),
    }
}

fn choose(
    state: &State,
    choices: &[super::definition::Choice],
    default: Option<&str>,
    raw: &Value,
    env: Env<'_>,
) -> Result<Transition, Failure> {
    for choice in choices {
        let matched = match &choice.rule {
            ChoiceTest::Rule(rule) => evaluate_rule(state, rule, raw, env)?,
            ChoiceTest::Condition(condition) => {
                let states = json!({"input": raw, "context": env.context});
                match jsonata::evaluate_template(condition, &states, env.vars)? {
                    Value::Bool(b) => b,
                    other => {
                        return Err(Failure::new(
                            errors::QUERY_EVALUATION_ERROR,
                            format!(
                                "The Condition of a Choice rule in state '{}' must be a boolean, got {other}",
                                state.name
                            ),
                        ));
                    }
                }
            }
        };
        if matched {
            let (output, vars) = dataflow::finish_choice(
                state,
                raw,
                choice.output.as_ref(),
                choice.assign.as_ref(),
                env,
            )?;
            return Ok(Transition::Next {
                state: choice.next.clone(),
                output,
                vars,
            });
        }
    }
    match default {
        Some(d) => {
            let (output, vars) = dataflow::finish_choice(state, raw, None, None, env)?;
            Ok(Transition::Next {
                state: d.to_owned(),
                output,
                vars,
            })
        }
        None => Err(Failure::new(
            errors::NO_CHOICE_MATCHED,
            format!(
                "No Choice rule of state '{}' matched the input and it has no Default",
                state.name
            ),
        )),
    }
}

fn evaluate_rule(
    state: &State,
    rule: &ChoiceRule,
    raw: &Value,
    env: Env<'_>,
) -> Result<bool, Failure> {
    let effective = match &state.input_path {
        None => raw.clone(),
        Some(None) => json!({}),
        Some(Some(p)) => p.select(&super::Scope {
            input: raw,
            context: env.context,
            vars: env.vars,
        })?,
    };
    rule.evaluate(&super::Scope {
        input: &effective,
        context: env.context,
        vars: env.vars,
    })
}

fn wait_until(state: &State, wait: &Wait, raw: &Value, env: Env<'_>) -> Result<i64, Failure> {
    match wait {
        Wait::Seconds(d) => {
            let seconds = dataflow::dynamic_u64(state, "Seconds", d, raw, env)?;
            let ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            Ok(now_ms().saturating_add(ms))
        }
        Wait::Timestamp(d) => {
            let v = dataflow::dynamic(state, "Timestamp", d, raw, env)?;
            let text = v.as_str().unwrap_or_default();
            chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp_millis())
                .map_err(|_| Failure::runtime(format!("The state '{}' Timestamp must be an RFC 3339 timestamp such as 2026-01-01T00:00:00Z, got {v}", state.name)))
        }
    }
}

impl Run {
    /// A task token that is the same when a resumed execution runs the same attempt of the same
    /// Task again (so a completion sent before a crash is found after it), and that only the
    /// mesh's secret can produce: HMAC-SHA256 of the attempt's coordinates, 256 bits.
    fn task_token(&self, frame_id: &str, step: u64, attempt: u32) -> String {
        use hmac::{KeyInit, Mac};
        let execution = self.context["Execution"]["Id"].as_str().unwrap_or_default();
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.token_key) else {
            unreachable!("HMAC takes keys of any length")
        };
        mac.update(format!("{execution}\n{frame_id}\n{step}\n{attempt}").as_bytes());
        let digest = mac.finalize().into_bytes();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn type_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Pass { .. } => "Pass",
        Kind::Task(_) => "Task",
        Kind::Choice { .. } => "Choice",
        Kind::Wait(_) => "Wait",
        Kind::Succeed => "Succeed",
        Kind::Fail { .. } => "Fail",
        Kind::Parallel { .. } => "Parallel",
        Kind::Map(_) => "Map",
    }
}
