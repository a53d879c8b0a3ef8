//! One attempt of a Pass, Task, Parallel or Map state: the state's result before
//! `ResultSelector`, which [`Run::run_with_retry`] retries or catches.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::task_events::TaskEvents;
use super::{Frame, Halt, Run, Step, TaskCall};
use crate::asl::dataflow::{self, Env, check_size};
use crate::asl::definition::{Block, Dynamic, Kind, QueryLanguage, State, Task};
use crate::asl::{Failure, errors};

impl Run {
    /// The work of one attempt: the state's result before `ResultSelector`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_attempt(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        raw: &Value,
        effective: Value,
        ctx: &Value,
        frame: &Frame,
        attempt: u32,
    ) -> Result<Step, Halt> {
        match &state.kind {
            Kind::Pass { result } => Ok(Ok(match (state.language, result) {
                (QueryLanguage::JsonPath, Some(r)) => r.clone(),
                _ => effective,
            })),
            Kind::Task(task) => {
                self.run_task(frame_id, state, task, raw, effective, ctx, frame)
                    .await
            }
            Kind::Parallel { branches } => {
                self.run_parallel(frame_id, state, branches, effective, frame, attempt)
                    .await
            }
            Kind::Map(map) => {
                self.map(frame_id, state, map, raw, effective, ctx, frame, attempt)
                    .await
            }
            Kind::Choice { .. } | Kind::Wait(_) | Kind::Succeed | Kind::Fail { .. } => {
                Ok(Err(Failure::runtime("internal: not a working state")))
            }
        }
    }

    /// One Task attempt: records its scheduling, hands it to the host within `TimeoutSeconds`
    /// and records how it ended.
    #[allow(clippy::too_many_arguments)]
    async fn run_task(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        task: &Task,
        raw: &Value,
        effective: Value,
        ctx: &Value,
        frame: &Frame,
    ) -> Result<Step, Halt> {
        let env = Env {
            context: ctx,
            vars: &frame.vars,
        };
        let seconds = |d: &Option<Dynamic>, field| -> Result<Option<u64>, Failure> {
            d.as_ref()
                .map(|d| dataflow::dynamic_u64(state, field, d, raw, env))
                .transpose()
        };
        let (timeout, heartbeat) = match (
            seconds(&task.timeout, "TimeoutSeconds"),
            seconds(&task.heartbeat, "HeartbeatSeconds"),
        ) {
            (Ok(t), Ok(h)) => (t, h),
            (Err(f), _) | (_, Err(f)) => return Ok(Err(f)),
        };
        let token = ctx["Task"]["Token"].as_str().unwrap_or_default().to_owned();
        let context = ctx.clone();
        let payload = effective;
        if let Err(f) = check_size(&state.name, "the task input", &payload) {
            return Ok(Err(f));
        }
        let events = TaskEvents::of(&task.resource);
        let (name, details) = events.scheduled(&payload, timeout, heartbeat);
        self.record(frame_id, &name, details);
        let (name, details) = events.started();
        self.record(frame_id, &name, details);
        self.flush(vec![(frame_id.to_owned(), frame.clone())], None)
            .await?;
        let call = TaskCall {
            resource: task.resource.clone(),
            payload,
            context,
            token,
            heartbeat: heartbeat.map(Duration::from_secs),
            state: state.name.clone(),
        };
        let invoke = self.host.invoke(call);
        let outcome = tokio::select! {
            r = async {
                match timeout {
                    Some(t) => tokio::time::timeout(Duration::from_secs(t), invoke).await.unwrap_or_else(|_| Err(Failure::new(errors::TIMEOUT, format!("The task '{}' did not finish within TimeoutSeconds ({t} s)", state.name)))),
                    None => invoke.await,
                }
            } => r,
            _ = self.host.stopped() => return Err(Halt::Stopped),
        };
        let outcome =
            outcome.and_then(|r| check_size(&state.name, "the task result", &r).map(|_| r));
        let (name, details) = match &outcome {
            Ok(r) => events.succeeded(r),
            Err(f) => events.failed(f),
        };
        self.record(frame_id, &name, details);
        Ok(outcome)
    }

    /// One Parallel attempt: every branch in a child frame of its own, their outputs in order,
    /// or the first failure.
    async fn run_parallel(
        self: &Arc<Self>,
        frame_id: &str,
        state: &Arc<State>,
        branches: &[Block],
        effective: Value,
        frame: &Frame,
        attempt: u32,
    ) -> Result<Step, Halt> {
        self.record(frame_id, "ParallelStateStarted", json!({}));
        self.flush(vec![(frame_id.to_owned(), frame.clone())], None)
            .await?;
        let runs = branches.iter().enumerate().map(|(i, branch)| {
            let child = format!("{frame_id}/{}@{attempt}[{i}]", state.name);
            let start = self.child_frame(&child, branch, effective.clone(), &frame.vars);
            self.run_block(child, branch, start)
        });
        let results = futures::future::join_all(runs).await;
        let mut outputs = Vec::with_capacity(results.len());
        for r in results {
            match r? {
                Ok(v) => outputs.push(v),
                Err(f) => {
                    self.record(
                        frame_id,
                        "ParallelStateFailed",
                        json!({"error": f.error, "cause": f.cause}),
                    );
                    return Ok(Err(f));
                }
            }
        }
        self.record(frame_id, "ParallelStateSucceeded", json!({}));
        Ok(Ok(Value::Array(outputs)))
    }
}
