//! How the embedded engine runs a Task state: a handler registered in this process (by resource
//! ARN, Lambda `FunctionName`, ECS `TaskDefinition` or plain name), an activity served by a
//! worker in any process, or a service integration the mesh provides; and task tokens
//! (`.waitForTaskToken`, activities) completed by any process through the `wf_tasks` table.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::EngineState;
use super::integrations::{self, Integration};
use crate::asl::engine::TaskCall;
use crate::asl::{Failure, errors};
use crate::clock::now_ms;
use crate::error::{Error, ErrorKind, Result};
use crate::redact::token_label;
use crate::sqlite::{decode_json, lock, sql_error};
use crate::types::workflows::{ActivityTask, TaskHandler, TaskRequest};

/// How often a waiting task looks for a completion sent by another process.
const POLL: Duration = Duration::from_millis(20);

/// What a Task resource resolves to.
enum Target {
    /// A handler of this process; `lambda` wraps the result as `lambda:invoke` does.
    Handler {
        handler: TaskHandler,
        input: Value,
        lambda: bool,
    },
    /// An activity, by name.
    Activity(String),
    /// A service integration of the mesh.
    Integration(Integration),
}

/// Splits `.sync`, `.sync:2` and `.waitForTaskToken` off a resource.
fn split_pattern(resource: &str) -> (&str, bool) {
    if let Some(base) = resource.strip_suffix(".waitForTaskToken") {
        return (base, true);
    }
    let base = resource
        .strip_suffix(".sync:2")
        .or_else(|| resource.strip_suffix(".sync"))
        .unwrap_or(resource);
    (base, false)
}

/// The activity name of an activity ARN (`arn:aws:states:<region>:<account>:activity:<name>`).
fn activity_name(resource: &str) -> Option<&str> {
    let rest = resource.strip_prefix("arn:aws:states:")?;
    let mut parts = rest.splitn(4, ':');
    let (_region, _account, kind, name) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (kind == "activity").then_some(name)
}

const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
const ECS_RUN_TASK: &str = "arn:aws:states:::ecs:runTask";

/// The names a handler may be registered under for a qualified reference: the reference itself,
/// the part after `marker` (`:function:` of a Lambda ARN, `task-definition/` of an ECS ARN), and
/// that part without its `:version`/`:alias`/`:revision` qualifier.
fn qualified_names(reference: &str, marker: &str) -> Vec<String> {
    let mut names = vec![reference.to_owned()];
    let tail = reference.rsplit_once(marker).map_or(reference, |(_, t)| t);
    let bare = tail.split(':').next().unwrap_or(tail);
    for n in [tail, bare] {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_owned());
        }
    }
    names
}

/// The handler names a Task resource derives from its parameters: the Lambda `FunctionName` of
/// `lambda:invoke`, the `TaskDefinition` of `ecs:runTask`, or the function of a Lambda ARN.
/// `Ok(None)` for other resources; an error when the parameter the resource needs is missing
/// (or computed at run time, when `params` is the raw definition).
fn derived_names(base: &str, params: Option<&Value>) -> Result<Option<Vec<String>>, Failure> {
    let param = |field: &str, what: &str| {
        params
            .and_then(|p| p.get(field))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Failure::new(
                    errors::TASK_FAILED,
                    format!("{base} needs Parameters.{field} ({what})"),
                )
            })
    };
    Ok(Some(match base {
        LAMBDA_INVOKE => qualified_names(
            param("FunctionName", "a function name or ARN")?,
            ":function:",
        ),
        ECS_RUN_TASK => qualified_names(
            param("TaskDefinition", "a family, family:revision or ARN")?,
            "task-definition/",
        ),
        b if b.starts_with("arn:aws:lambda:") => qualified_names(b, ":function:"),
        _ => return Ok(None),
    }))
}

fn lookup(engine: &EngineState, names: &[String]) -> Option<TaskHandler> {
    let handlers = engine.handlers.read().unwrap_or_else(|e| e.into_inner());
    names.iter().find_map(|n| handlers.get(n).cloned())
}

fn no_handler(resource: &str, names: &[String]) -> Failure {
    Failure::new(
        errors::TASK_FAILED,
        format!(
            "no handler is registered for the resource '{resource}' (looked for {}); register one with workflows.register(\"{}\", handler)",
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", "),
            names.last().map(String::as_str).unwrap_or(resource)
        ),
    )
}

fn resolve(
    engine: &EngineState,
    resource: &str,
    base: &str,
    payload: &Value,
) -> Result<Target, Failure> {
    let direct = [resource.to_owned(), base.to_owned()];
    if let Some(handler) = lookup(engine, &direct) {
        return Ok(Target::Handler {
            handler,
            input: payload.clone(),
            lambda: false,
        });
    }
    if let Some(names) = derived_names(base, Some(payload))? {
        let handler = lookup(engine, &names).ok_or_else(|| no_handler(resource, &names))?;
        let lambda = base == LAMBDA_INVOKE;
        let input = if lambda {
            payload.get("Payload").cloned().unwrap_or_else(|| json!({}))
        } else {
            payload.clone()
        };
        return Ok(Target::Handler {
            handler,
            input,
            lambda,
        });
    }
    if let Some(integration) = Integration::of(base) {
        return Ok(Target::Integration(integration));
    }
    if let Some(name) = activity_name(base) {
        return Ok(Target::Activity(name.to_owned()));
    }
    Err(no_handler(resource, &direct[..1]))
}

/// Whether this process can run every Task of `definition`: integrations and activities always;
/// handler resources only if a handler is registered here (any handler, for names that come
/// from the input at run time).
pub(crate) fn can_serve(engine: &EngineState, definition: &Value) -> bool {
    let mut tasks = Vec::new();
    collect_tasks(definition, &mut tasks);
    tasks.iter().all(|task| {
        let resource = task
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (base, _) = split_pattern(resource);
        if Integration::of(base).is_some() || activity_name(base).is_some() {
            return true;
        }
        if lookup(engine, &[resource.to_owned(), base.to_owned()]).is_some() {
            return true;
        }
        let params = task.get("Parameters").or_else(|| task.get("Arguments"));
        match derived_names(base, params) {
            Ok(Some(names)) => lookup(engine, &names).is_some(),
            Ok(None) => false,
            // The name is computed from the input (`FunctionName.$`): any handler may serve it.
            Err(_) => !engine
                .handlers
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty(),
        }
    })
}

fn collect_tasks<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    let Some(states) = value.get("States").and_then(Value::as_object) else {
        return;
    };
    for state in states.values() {
        match state.get("Type").and_then(Value::as_str) {
            Some("Task") => out.push(state),
            Some("Parallel") => {
                for branch in state
                    .get("Branches")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    collect_tasks(branch, out);
                }
            }
            Some("Map") => {
                if let Some(p) = state.get("ItemProcessor").or_else(|| state.get("Iterator")) {
                    collect_tasks(p, out);
                }
            }
            _ => {}
        }
    }
}

/// Runs a Task for the execution `arn`.
pub(crate) async fn invoke(
    engine: &Arc<EngineState>,
    arn: &str,
    call: TaskCall,
) -> Result<Value, Failure> {
    let (base, wait_for_token) = split_pattern(&call.resource);
    let target = resolve(engine, &call.resource, base, &call.payload)?;
    let waits = wait_for_token || matches!(target, Target::Activity(_));
    if waits {
        let activity = match &target {
            Target::Activity(name) => Some(name.as_str()),
            _ => None,
        };
        let input = match &target {
            Target::Handler { input, .. } => input,
            _ => &call.payload,
        };
        match schedule(engine, arn, &call, activity, input)
            .await
            .map_err(store_failure)?
        {
            Scheduled::Done(outcome) => return outcome,
            Scheduled::Dispatched => return await_token(engine, &call).await,
            Scheduled::New => {}
        }
    }
    let result = match target {
        Target::Handler {
            handler,
            input,
            lambda,
        } => {
            let r = run_handler(engine, handler, &call, input).await?;
            if lambda {
                json!({"ExecutedVersion": "$LATEST", "Payload": r, "StatusCode": 200})
            } else {
                r
            }
        }
        Target::Integration(integration) => {
            let machine = crate::backend::arn_state_machine(arn).unwrap_or_default();
            integrations::run(&engine.services, integration, &call.payload, machine).await?
        }
        Target::Activity(_) => Value::Null,
    };
    if !waits {
        return Ok(result);
    }
    mark_dispatched(engine, &call.token)
        .await
        .map_err(store_failure)?;
    await_token(engine, &call).await
}

/// Waits for the task's completion; if the wait is abandoned (timeout, stop), the token is
/// marked so that a late completion is refused.
async fn await_token(engine: &Arc<EngineState>, call: &TaskCall) -> Result<Value, Failure> {
    let mut guard = AbandonOnDrop {
        engine: engine.clone(),
        token: Some(call.token.clone()),
    };
    let outcome = wait_for_completion(engine, &call.token, call.heartbeat).await;
    guard.token = None;
    outcome
}

fn store_failure(e: Error) -> Failure {
    Failure::new(errors::TASK_FAILED, e.message)
}

/// Runs a handler of this process; its heartbeats arrive through [`TaskRequest::heartbeat`] or
/// through `send_task_heartbeat` with its task token (what Python and Node handlers call).
async fn run_handler(
    engine: &Arc<EngineState>,
    handler: TaskHandler,
    call: &TaskCall,
    input: Value,
) -> Result<Value, Failure> {
    let last_beat = Arc::new(AtomicI64::new(now_ms()));
    let _beating = Beating::register(engine, &call.token, &last_beat);
    let beat = last_beat.clone();
    let request = TaskRequest::new(
        call.resource.clone(),
        input,
        call.context.clone(),
        call.token.clone(),
        Arc::new(move || {
            beat.store(now_ms(), Ordering::Relaxed);
            Box::pin(async { Ok(()) })
        }),
    );
    let work = handler(request);
    let outcome = match call.heartbeat {
        None => work.await,
        Some(every) => {
            tokio::select! {
                r = work => r,
                _ = heartbeat_watch(&last_beat, every) => {
                    return Err(Failure::new(errors::HEARTBEAT_TIMEOUT, format!("The task '{}' sent no heartbeat for {} s (HeartbeatSeconds)", call.state, every.as_secs())));
                }
            }
        }
    };
    outcome.map_err(|e| {
        Failure::new(
            if e.error.is_empty() {
                errors::TASK_FAILED.to_owned()
            } else {
                e.error
            },
            e.cause,
        )
    })
}

/// A handler's entry in [`EngineState::beating`], removed when the handler ends.
struct Beating<'a> {
    engine: &'a EngineState,
    token: &'a str,
}

impl<'a> Beating<'a> {
    fn register(engine: &'a EngineState, token: &'a str, last_beat: &Arc<AtomicI64>) -> Self {
        lock(&engine.beating).insert(token.to_owned(), last_beat.clone());
        Beating { engine, token }
    }
}

impl Drop for Beating<'_> {
    fn drop(&mut self) {
        lock(&self.engine.beating).remove(self.token);
    }
}

/// Resolves once `last_beat` is older than `every`.
async fn heartbeat_watch(last_beat: &AtomicI64, every: Duration) {
    loop {
        let due = last_beat.load(Ordering::Relaxed) + every.as_millis() as i64;
        let now = now_ms();
        if now >= due {
            return;
        }
        tokio::time::sleep(Duration::from_millis((due - now) as u64)).await;
    }
}

/// Where a task with a token stands when it is (re)scheduled.
enum Scheduled {
    /// Just inserted: dispatch it.
    New,
    /// Dispatched before this process resumed the execution: only wait for it.
    Dispatched,
    /// Already completed.
    Done(Result<Value, Failure>),
}

/// Inserts the task's row if it is not there yet, and says where the task stands.
async fn schedule(
    engine: &Arc<EngineState>,
    arn: &str,
    call: &TaskCall,
    activity: Option<&str>,
    input: &Value,
) -> Result<Scheduled> {
    let (token, arn, activity, input) = (
        call.token.clone(),
        arn.to_owned(),
        activity.map(str::to_owned),
        input.to_string(),
    );
    let label = token_label(&token);
    let row = engine
        .db
        .write("workflows.task", &label.clone(), move |tx| {
            let err = |e| sql_error("workflows.task", &label, e);
            tx.execute(
                "INSERT OR IGNORE INTO wf_tasks (token, activity, execution, input, status, dispatched, created_ms, heartbeat_ms)
                 VALUES (?1, ?2, ?3, ?4, 'SCHEDULED', 0, ?5, ?5)",
                params![token, activity, arn, input, now_ms()],
            )
            .map_err(err)?;
            tx.query_row("SELECT status, output, error, cause, dispatched FROM wf_tasks WHERE token = ?1", params![token], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, bool>(4)?))
            })
            .map_err(err)
        })
        .await?;
    let (status, output, error, cause, dispatched) = row;
    Ok(
        match outcome_of(&call.token, &status, output, error, cause)? {
            Some(done) => Scheduled::Done(done),
            None if dispatched => Scheduled::Dispatched,
            None => Scheduled::New,
        },
    )
}

fn outcome_of(
    token: &str,
    status: &str,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
) -> Result<Option<Result<Value, Failure>>> {
    Ok(match status {
        "SUCCEEDED" => Some(Ok(decode_json(
            "workflows.task",
            &token_label(token),
            output.as_deref().unwrap_or("null"),
        )?)),
        "FAILED" => Some(Err(Failure::new(
            error.unwrap_or_default(),
            cause.unwrap_or_default(),
        ))),
        _ => None,
    })
}

async fn mark_dispatched(engine: &Arc<EngineState>, token: &str) -> Result<()> {
    let (token, label) = (token.to_owned(), token_label(token));
    engine
        .db
        .write("workflows.task", &label.clone(), move |tx| {
            tx.execute(
                "UPDATE wf_tasks SET dispatched = 1 WHERE token = ?1",
                params![token],
            )
            .map(|_| ())
            .map_err(|e| sql_error("workflows.task", &label, e))
        })
        .await
}

/// Marks a task no longer awaited (timed out, stopped) so a late completion is refused.
struct AbandonOnDrop {
    engine: Arc<EngineState>,
    token: Option<String>,
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            let db = self.engine.db.clone();
            // Best effort: if this fails, a late completion is accepted and ignored.
            std::thread::spawn(move || {
                let _ = db.write_blocking("workflows.task", &token, |tx| {
                    tx.execute("UPDATE wf_tasks SET status = 'TIMED_OUT' WHERE token = ?1 AND status IN ('SCHEDULED', 'STARTED')", params![token])
                        .map_err(|e| sql_error("workflows.task", &token, e))
                });
            });
        }
    }
}

async fn wait_for_completion(
    engine: &Arc<EngineState>,
    token: &str,
    heartbeat: Option<Duration>,
) -> Result<Value, Failure> {
    loop {
        let notified = engine.task_done.notified();
        let row = engine
            .db
            .read("workflows.task", &token_label(token), |c| {
                c.query_row("SELECT status, output, error, cause, heartbeat_ms FROM wf_tasks WHERE token = ?1", params![token], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, i64>(4)?))
                })
            })
            .map_err(store_failure)?;
        if let Some(outcome) =
            outcome_of(token, &row.0, row.1, row.2, row.3).map_err(store_failure)?
        {
            return outcome;
        }
        if let Some(every) = heartbeat
            && now_ms() - row.4 > every.as_millis() as i64
        {
            return Err(Failure::new(
                errors::HEARTBEAT_TIMEOUT,
                format!(
                    "no heartbeat for the task token within {} s (HeartbeatSeconds)",
                    every.as_secs()
                ),
            ));
        }
        let _ = tokio::time::timeout(POLL, notified).await;
    }
}

/// Claims the oldest scheduled task of an activity, waiting up to `wait`.
pub(crate) async fn poll_activity(
    engine: &Arc<EngineState>,
    activity_arn: &str,
    worker: &str,
    wait: Duration,
) -> Result<Option<ActivityTask>> {
    let name = activity_name(activity_arn)
        .ok_or_else(|| {
            Error::invalid_input(
                "workflows.poll_activity",
                activity_arn,
                "not an activity ARN (arn:aws:states:<region>:<account>:activity:<name>)",
            )
        })?
        .to_owned();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (name2, worker2) = (name.clone(), worker.to_owned());
        let claimed: Option<(String, String)> = engine
            .db
            .write("workflows.poll_activity", &name.clone(), move |tx| {
                tx.query_row(
                    "UPDATE wf_tasks SET status = 'STARTED', worker = ?2, heartbeat_ms = ?3
                     WHERE token = (SELECT token FROM wf_tasks WHERE activity = ?1 AND status = 'SCHEDULED' ORDER BY created_ms LIMIT 1)
                     RETURNING token, input",
                    params![name2, worker2, now_ms()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| sql_error("workflows.poll_activity", &name2, e))
            })
            .await?;
        if let Some((token, input)) = claimed {
            let input = decode_json("workflows.poll_activity", &token_label(&token), &input)?;
            return Ok(Some(ActivityTask { token, input }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(
            POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
    }
}

/// The error of a completion or heartbeat for a task that is not waiting; it names the token by
/// its fingerprint only.
fn token_error(operation: &str, token: &str, status: Option<String>) -> Error {
    let token = &token_label(token);
    match status {
        None => Error::keyed(
            ErrorKind::NotFound,
            operation,
            token,
            "no task has this token (TaskDoesNotExist); pass the token the task received",
        ),
        Some(s) => Error::keyed(
            ErrorKind::Conflict,
            operation,
            token,
            format!(
                "the task is {s}, no longer waiting (TaskTimedOut): it was completed already, timed out or its execution stopped"
            ),
        ),
    }
}

/// Completes a waiting task (`send_task_success` / `send_task_failure`).
pub(crate) async fn complete(
    engine: &Arc<EngineState>,
    token: &str,
    outcome: Result<Value, Failure>,
) -> Result<()> {
    let operation = if outcome.is_ok() {
        "workflows.send_task_success"
    } else {
        "workflows.send_task_failure"
    };
    let label = token_label(token);
    if let Ok(output) = &outcome {
        crate::validate::check_size(
            operation,
            &label,
            "task output",
            output.to_string().len(),
            crate::asl::MAX_PAYLOAD_BYTES,
        )?;
    }
    let token2 = token.to_owned();
    let status = engine
        .db
        .write(operation, &label.clone(), move |tx| {
            let err = |e| sql_error(operation, &label, e);
            let (status, output, error, cause) = match &outcome {
                Ok(v) => ("SUCCEEDED", Some(v.to_string()), None, None),
                Err(f) => ("FAILED", None, Some(f.error.clone()), Some(f.cause.clone())),
            };
            let changed = tx
                .execute(
                    "UPDATE wf_tasks SET status = ?2, output = ?3, error = ?4, cause = ?5 WHERE token = ?1 AND status IN ('SCHEDULED', 'STARTED')",
                    params![token2, status, output, error, cause],
                )
                .map_err(err)?;
            if changed == 1 {
                return Ok(None);
            }
            tx.query_row("SELECT status FROM wf_tasks WHERE token = ?1", params![token2], |r| r.get::<_, String>(0))
                .optional()
                .map_err(err)
                .map(|s| Some(s.ok_or(())))
        })
        .await?;
    match status {
        None => {
            engine.task_done.notify_waiters();
            Ok(())
        }
        Some(s) => Err(token_error(operation, token, s.ok())),
    }
}

/// Records a heartbeat of a handler running in this process, or of a waiting task.
pub(crate) async fn heartbeat(engine: &Arc<EngineState>, token: &str) -> Result<()> {
    const OP: &str = "workflows.send_task_heartbeat";
    if let Some(last_beat) = lock(&engine.beating).get(token) {
        last_beat.store(now_ms(), Ordering::Relaxed);
        return Ok(());
    }
    let (token2, label) = (token.to_owned(), token_label(token));
    let missing = engine
        .db
        .write(OP, &label.clone(), move |tx| {
            let err = |e| sql_error(OP, &label, e);
            let changed = tx
                .execute("UPDATE wf_tasks SET heartbeat_ms = ?2 WHERE token = ?1 AND status IN ('SCHEDULED', 'STARTED')", params![token2, now_ms()])
                .map_err(err)?;
            if changed == 1 {
                return Ok(None);
            }
            tx.query_row("SELECT status FROM wf_tasks WHERE token = ?1", params![token2], |r| r.get::<_, String>(0)).optional().map_err(err).map(Some)
        })
        .await?;
    match missing {
        None => Ok(()),
        Some(status) => Err(token_error(OP, token, status)),
    }
}
