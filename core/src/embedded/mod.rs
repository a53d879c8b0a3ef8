//! The embedded workflow engine of the local and memory backends: the ASL interpreter of
//! `asl/` run against the mesh database, which keeps state machines, executions, history, frame
//! checkpoints and tasks. Its service integrations (`integrations`) use the backend traits,
//! never the public facades.
//!
//! Each process runs the executions it started. It holds a lease on them, renewed every
//! second; when a process dies its leases run out and another process that opens the mesh
//! adopts its executions (if it can serve their Task resources) and resumes each from its last
//! committed transition.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};
use tokio::sync::Notify;

mod integrations;
mod tasks;

pub(crate) use integrations::Services;

use crate::asl::engine::{Commit, Finish, Frame, Halt, Host, Run, TaskCall};
use crate::asl::validate_definition;
use crate::asl::{Failure, StateMachine};
use crate::backend::{BackendPage, WorkflowBackend};
use crate::clock::{from_ms, now_ms};
use crate::error::{Error, ErrorKind, Result};
use crate::page::{Page, decode_cursor, encode_cursor};
use crate::sqlite::{Db, decode_json, lock};
use crate::types::workflows::{
    ActivityTask, Execution, ExecutionRef, ExecutionStatus, HistoryEvent, StateMachineInfo,
    TaskHandler,
};

/// How long an execution's lease lasts without renewal.
const LEASE_MS: i64 = 4000;
/// How often leases are renewed and orphaned executions looked for.
const SCAN_EVERY: Duration = Duration::from_secs(1);
/// How often a waiter or a stop watcher looks at another process's executions.
const POLL: Duration = Duration::from_millis(25);

/// The ARN prefix of local resources (region `local`, account 000000000000).
pub(crate) const ARN_PREFIX: &str = "arn:aws:states:local:000000000000";

/// The local workflow backend.
#[derive(Debug, Clone)]
pub(crate) struct EmbeddedWorkflows {
    engine: Arc<EngineState>,
}

/// What the engine of one mesh shares among its backend handle, its runs, its Task dispatch
/// (`tasks`) and its background work. Fields are private to this module and its children.
pub(crate) struct EngineState {
    /// The mesh database holding state machines, executions, history and tasks.
    db: Arc<Db>,
    /// This process's lease owner id.
    owner: String,
    /// Task handlers registered in this process, by resource name.
    handlers: RwLock<HashMap<String, TaskHandler>>,
    /// The mesh backends the service integrations use.
    services: Services,
    /// Stop flags of the executions running in this process.
    running: Mutex<HashMap<String, Arc<StopFlag>>>,
    /// Woken whenever an execution of this process finishes.
    finished: Notify,
    /// Woken whenever a task token of this process is completed.
    task_done: Notify,
    /// The last heartbeat (epoch ms) of each handler running in this process, by task token:
    /// `send_task_heartbeat` from the handler's own code lands here.
    beating: Mutex<HashMap<String, Arc<AtomicI64>>>,
}

impl std::fmt::Debug for EngineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedWorkflows")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct StopFlag {
    stopped: AtomicBool,
    notify: Notify,
}

fn state_machine_arn(name: &str) -> String {
    format!("{ARN_PREFIX}:stateMachine:{name}")
}

fn execution_arn(machine: &str, name: &str) -> String {
    format!("{ARN_PREFIX}:execution:{machine}:{name}")
}

fn not_found(operation: &str, arn: &str) -> Error {
    Error::keyed(
        ErrorKind::NotFound,
        operation,
        arn,
        "no such execution; pass the arn that start returned",
    )
}

impl EmbeddedWorkflows {
    /// The workflows of the mesh in `db`; starts the lease renewer and orphan scanner.
    pub(crate) fn new(db: Arc<Db>, services: Services) -> Self {
        let engine = Arc::new(EngineState {
            db,
            owner: uuid::Uuid::new_v4().to_string(),
            handlers: RwLock::new(HashMap::new()),
            services,
            running: Mutex::new(HashMap::new()),
            finished: Notify::new(),
            task_done: Notify::new(),
            beating: Mutex::new(HashMap::new()),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(background(Arc::downgrade(&engine)));
        }
        let weak = Arc::downgrade(&engine);
        // Leases are renewed on a thread of their own, not on the async runtime: a long
        // evaluation or a blocked runtime must not let a lease lapse while this process runs
        // the execution (another process would then run its Task a second time).
        let _ = std::thread::Builder::new()
            .name("agent-mesh-leases".into())
            .spawn(move || renew_leases(weak));
        EmbeddedWorkflows { engine }
    }
}

/// Adopts executions whose lease ran out, until the backend is dropped.
async fn background(weak: Weak<EngineState>) {
    loop {
        let Some(engine) = weak.upgrade() else { return };
        // Errors here are retried at the next tick; a failing mesh shows up on the next call.
        let _ = adopt_orphans(&engine).await;
        drop(engine);
        tokio::time::sleep(SCAN_EVERY).await;
    }
}

/// Renews the leases of the executions this process runs, every [`SCAN_EVERY`], until the
/// backend is dropped.
fn renew_leases(weak: Weak<EngineState>) {
    loop {
        let Some(engine) = weak.upgrade() else { return };
        // An idle mesh takes no write lock: with nothing running here there is no lease to renew.
        if !lock(&engine.running).is_empty() {
            let (owner, now) = (engine.owner.clone(), now_ms());
            // Errors are retried at the next tick; a lease outlives a few missed renewals.
            let _ = engine.db.write_blocking("workflows.lease", "executions", |tx| {
                tx.execute(
                    "UPDATE wf_executions SET lease_until = ?1 WHERE owner = ?2 AND status = 'RUNNING'",
                    params![now + LEASE_MS, owner],
                )
                .map_err(|e| crate::sqlite::sql_error("workflows.lease", "executions", e))
            });
        }
        drop(engine);
        std::thread::sleep(SCAN_EVERY);
    }
}

async fn adopt_orphans(engine: &Arc<EngineState>) -> Result<()> {
    let now = now_ms();
    let orphans: Vec<(String, String)> = engine.db.read("workflows.adopt", "executions", |c| {
        let mut stmt = c.prepare_cached(
            "SELECT arn, definition FROM wf_executions WHERE status = 'RUNNING' AND lease_until < ?1",
        )?;
        let rows = stmt.query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })?;
    for (arn, definition) in orphans {
        let definition: Value = decode_json("workflows.adopt", &arn, &definition)?;
        if !tasks::can_serve(engine, &definition) {
            continue;
        }
        let (owner, arn2) = (engine.owner.clone(), arn.clone());
        let claimed = engine
            .db
            .write("workflows.adopt", &arn, move |tx| {
                tx.execute(
                    "UPDATE wf_executions SET owner = ?1, lease_until = ?2 WHERE arn = ?3 AND status = 'RUNNING' AND lease_until < ?4",
                    params![owner, now + LEASE_MS, arn2, now],
                )
                .map_err(|e| crate::sqlite::sql_error("workflows.adopt", &arn2, e))
            })
            .await?;
        if claimed == 1 {
            resume(engine, &arn)?;
        }
    }
    Ok(())
}

/// Loads an execution's checkpoints and runs it from them in this process.
fn resume(engine: &Arc<EngineState>, arn: &str) -> Result<()> {
    const OP: &str = "workflows.resume";
    let row = engine.db.read(OP, arn, |c| {
        c.query_row(
            "SELECT definition, input, last_event, start_ms, deadline_ms, name, state_machine FROM wf_executions WHERE arn = ?1",
            params![arn],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?, r.get::<_, Option<i64>>(4)?, r.get::<_, String>(5)?, r.get::<_, String>(6)?)),
        )
    })?;
    let (definition, input, last_event, start_ms, deadline, name, machine) = row;
    let frames: Vec<(String, String)> = engine.db.read(OP, arn, |c| {
        let mut stmt =
            c.prepare_cached("SELECT frame, checkpoint FROM wf_frames WHERE execution = ?1")?;
        let rows = stmt.query_map(params![arn], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    })?;
    let resumed = frames
        .into_iter()
        .map(|(id, text)| Ok((id, decode_json::<Frame>(OP, arn, &text)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    let definition: Value = decode_json(OP, arn, &definition)?;
    let input: Value = decode_json(OP, arn, &input)?;
    let machine_def = validate_definition(&machine, &definition)?;
    spawn_run(
        engine,
        arn,
        &name,
        &machine,
        machine_def,
        input,
        start_ms,
        deadline,
        last_event as u64,
        resumed,
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn spawn_run(
    engine: &Arc<EngineState>,
    arn: &str,
    name: &str,
    machine: &str,
    definition: StateMachine,
    input: Value,
    start_ms: i64,
    deadline_ms: Option<i64>,
    last_event: u64,
    resumed: HashMap<String, Frame>,
) {
    let flag = Arc::new(StopFlag::default());
    lock(&engine.running).insert(arn.to_owned(), flag.clone());
    let host = Arc::new(RunHost {
        engine: engine.clone(),
        arn: arn.to_owned(),
        flag,
    });
    let context = json!({
        "Execution": {
            "Id": arn,
            "Input": input,
            "Name": name,
            "RoleArn": format!("{ARN_PREFIX}:role/agent-mesh"),
            "StartTime": from_ms(start_ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "RedriveCount": 0,
        },
        "StateMachine": {"Id": state_machine_arn(machine), "Name": machine},
    });
    let run = Arc::new(Run::new(
        Arc::new(definition),
        host,
        context,
        last_event,
        resumed,
        engine.db.token_key(),
    ));
    let engine = engine.clone();
    let arn = arn.to_owned();
    tokio::spawn(async move {
        // A run that halts (stopped, or the database failed) leaves its state committed; a
        // stopped one is already ABORTED, a failed one is adopted again when its lease ends.
        let _ = run.execute(input, deadline_ms).await;
        lock(&engine.running).remove(&arn);
        engine.finished.notify_waiters();
    });
}

/// The engine's view of one execution run by this process.
struct RunHost {
    engine: Arc<EngineState>,
    arn: String,
    flag: Arc<StopFlag>,
}

#[async_trait]
impl Host for RunHost {
    async fn invoke(&self, call: TaskCall) -> std::result::Result<Value, Failure> {
        tasks::invoke(&self.engine, &self.arn, call).await
    }

    /// Commits only while this process still owns the execution's lease (fencing): a process
    /// whose lease lapsed and was adopted elsewhere halts instead of writing over the new owner.
    async fn commit(&self, commit: Commit) -> std::result::Result<(), Halt> {
        let arn = self.arn.clone();
        let owner = self.engine.owner.clone();
        let last = commit.events.last().map(|e| e.id as i64);
        let finished = commit.finish.is_some();
        let applied = self
            .engine
            .db
            .write("workflows.commit", &self.arn.clone(), move |tx| {
                let err = |e| crate::sqlite::sql_error("workflows.commit", &arn, e);
                // A transition leaves `status` out of the SET: writing it, even unchanged, would
                // rewrite the execution's entry in the partial index of running executions.
                let changed = match &commit.finish {
                    None => tx
                        .prepare_cached(
                            "UPDATE wf_executions SET last_event = max(last_event, coalesce(?2, 0))
                             WHERE arn = ?1 AND status = 'RUNNING' AND owner = ?3",
                        )
                        .and_then(|mut update| update.execute(params![arn, last, owner])),
                    Some(finish) => {
                        let (status, output, error, cause) = match finish {
                            Finish::Succeeded(v) => ("SUCCEEDED", Some(v.to_string()), None, None),
                            Finish::Failed(f) => ("FAILED", None, Some(&f.error), Some(&f.cause)),
                            Finish::TimedOut(f) => ("TIMED_OUT", None, Some(&f.error), Some(&f.cause)),
                        };
                        tx.prepare_cached(
                            "UPDATE wf_executions SET last_event = max(last_event, coalesce(?2, 0)), status = ?3,
                               output = ?4, error = ?5, cause = ?6, stop_ms = ?7
                             WHERE arn = ?1 AND status = 'RUNNING' AND owner = ?8",
                        )
                        .and_then(|mut update| {
                            update.execute(params![arn, last, status, output, error, cause, now_ms(), owner])
                        })
                    }
                }
                .map_err(err)?;
                if changed == 0 {
                    return Ok(false);
                }
                let mut insert = tx
                    .prepare_cached("INSERT INTO wf_history (execution, id, previous, time, type, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                    .map_err(err)?;
                for e in &commit.events {
                    insert
                        .execute(params![arn, e.id as i64, e.previous_event_id as i64, e.timestamp_ms, e.event_type, e.details.to_string()])
                        .map_err(err)?;
                }
                if commit.finish.is_some() {
                    tx.prepare_cached("DELETE FROM wf_frames WHERE execution = ?1")
                        .and_then(|mut delete| delete.execute(params![arn]))
                        .map_err(err)?;
                } else {
                    let mut upsert = tx
                        .prepare_cached("INSERT OR REPLACE INTO wf_frames (execution, frame, checkpoint) VALUES (?1, ?2, ?3)")
                        .map_err(err)?;
                    for (id, frame) in &commit.frames {
                        let text = serde_json::to_string(frame).map_err(|e| Error::internal("workflows.commit", e))?;
                        upsert.execute(params![arn, id, text]).map_err(err)?;
                    }
                }
                Ok(true)
            })
            .await
            .map_err(Halt::Store)?;
        if !applied {
            return Err(Halt::Stopped);
        }
        if finished {
            self.engine.finished.notify_waiters();
        }
        Ok(())
    }

    async fn stopped(&self) {
        loop {
            let notified = self.flag.notify.notified();
            if self.flag.stopped.load(Ordering::Acquire) {
                return;
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(POLL * 8) => {
                    let status: Option<String> = self
                        .engine
                        .db
                        .read("workflows.stop", &self.arn, |c| {
                            c.query_row("SELECT status FROM wf_executions WHERE arn = ?1", params![self.arn], |r| r.get(0)).optional()
                        })
                        .unwrap_or(None);
                    if status.as_deref() != Some("RUNNING") {
                        return;
                    }
                }
            }
        }
    }
}

type ExecutionRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
);

const EXECUTION_COLUMNS: &str =
    "arn, name, state_machine, status, input, output, error, cause, start_ms, stop_ms";

fn execution_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn to_execution(operation: &str, row: ExecutionRow) -> Result<Execution> {
    let (arn, name, state_machine, status, input, output, error, cause, start_ms, stop_ms) = row;
    Ok(Execution {
        status: ExecutionStatus::parse(operation, &status)?,
        input: decode_json(operation, &arn, &input)?,
        output: output
            .map(|o| decode_json(operation, &arn, &o))
            .transpose()?,
        error,
        cause,
        start_date: from_ms(start_ms),
        stop_date: stop_ms.map(from_ms),
        arn,
        name,
        state_machine,
    })
}

impl EmbeddedWorkflows {
    fn describe_now(&self, arn: &str) -> Result<Execution> {
        const OP: &str = "workflows.describe";
        let row = self.engine.db.read(OP, arn, |c| {
            c.prepare_cached(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM wf_executions WHERE arn = ?1"
            ))?
            .query_row(params![arn], execution_row)
            .optional()
        })?;
        to_execution(OP, row.ok_or_else(|| not_found(OP, arn))?)
    }
}

#[async_trait]
impl WorkflowBackend for EmbeddedWorkflows {
    async fn create(&self, name: &str, definition: &Value) -> Result<StateMachineInfo> {
        let (name_owned, text) = (name.to_owned(), definition.to_string());
        let now = now_ms();
        self.engine
            .db
            .write("workflows.create", name, move |tx| {
                tx.execute(
                    "INSERT INTO wf_state_machines (name, definition, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3)
                     ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, updated_ms = excluded.updated_ms",
                    params![name_owned, text, now],
                )
                .map_err(|e| crate::sqlite::sql_error("workflows.create", &name_owned, e))
            })
            .await?;
        Ok(StateMachineInfo {
            arn: state_machine_arn(name),
            name: name.to_owned(),
        })
    }

    async fn start(&self, name: &str, input: &Value, execution_name: &str) -> Result<ExecutionRef> {
        const OP: &str = "workflows.start";
        let definition: Option<String> = self.engine.db.read(OP, name, |c| {
            c.prepare_cached("SELECT definition FROM wf_state_machines WHERE name = ?1")?
                .query_row(params![name], |r| r.get(0))
                .optional()
        })?;
        let definition = definition.ok_or_else(|| {
            Error::keyed(
                ErrorKind::NotFound,
                OP,
                name,
                "no state machine has this name; create it first with workflows.create",
            )
        })?;
        let machine = validate_definition(name, &decode_json(OP, name, &definition)?)?;
        let arn = execution_arn(name, execution_name);
        let start_ms = now_ms();
        let deadline = machine.timeout_seconds.map(|s| start_ms + s as i64 * 1000);
        let input_text = input.to_string();
        let (arn2, name2, exec2, owner) = (
            arn.clone(),
            name.to_owned(),
            execution_name.to_owned(),
            self.engine.owner.clone(),
        );
        let created = self
            .engine
            .db
            .write(OP, &arn.clone(), move |tx| {
                let err = |e| crate::sqlite::sql_error(OP, &arn2, e);
                let existing: Option<(String, String, i64)> = tx
                    .prepare_cached("SELECT input, status, start_ms FROM wf_executions WHERE arn = ?1")
                    .and_then(|mut select| select.query_row(params![arn2], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
                    .map_err(err)?;
                if let Some((old_input, status, old_start)) = existing {
                    let same: Value = decode_json(OP, &arn2, &old_input)?;
                    if status == "RUNNING" && same == serde_json::from_str::<Value>(&input_text).unwrap_or(Value::Null) {
                        return Ok(Err(old_start));
                    }
                    return Err(Error::keyed(
                        ErrorKind::Conflict,
                        OP,
                        &arn2,
                        "an execution with this name already exists (ExecutionAlreadyExists); use another name or none",
                    ));
                }
                tx.prepare_cached(
                    "INSERT INTO wf_executions (arn, name, state_machine, definition, status, input, start_ms, deadline_ms, last_event, owner, lease_until)
                     VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?6, ?7, 1, ?8, ?9)",
                )
                .and_then(|mut insert| insert.execute(params![arn2, exec2, name2, definition, input_text, start_ms, deadline, owner, start_ms + LEASE_MS]))
                .map_err(err)?;
                tx.prepare_cached(
                    "INSERT INTO wf_history (execution, id, previous, time, type, details) VALUES (?1, 1, 0, ?2, 'ExecutionStarted', ?3)",
                )
                .and_then(|mut insert| insert.execute(params![arn2, start_ms, json!({"input": input_text, "roleArn": format!("{ARN_PREFIX}:role/agent-mesh")}).to_string()]))
                .map_err(err)?;
                Ok(Ok(()))
            })
            .await?;
        match created {
            Ok(()) => {
                spawn_run(
                    &self.engine,
                    &arn,
                    execution_name,
                    name,
                    machine,
                    input.clone(),
                    start_ms,
                    deadline,
                    1,
                    HashMap::new(),
                );
                Ok(ExecutionRef {
                    arn,
                    name: execution_name.to_owned(),
                    start_date: from_ms(start_ms),
                })
            }
            Err(old_start) => Ok(ExecutionRef {
                arn,
                name: execution_name.to_owned(),
                start_date: from_ms(old_start),
            }),
        }
    }

    async fn describe(&self, arn: &str) -> Result<Execution> {
        self.describe_now(arn)
    }

    async fn wait(&self, arn: &str, timeout: Option<Duration>) -> Result<Execution> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let notified = self.engine.finished.notified();
            let execution = self.describe_now(arn)?;
            if execution.status != ExecutionStatus::Running
                || deadline.is_some_and(|d| tokio::time::Instant::now() >= d)
            {
                return Ok(execution);
            }
            let pause = match deadline {
                Some(d) => POLL.min(d.saturating_duration_since(tokio::time::Instant::now())),
                None => POLL,
            };
            let _ = tokio::time::timeout(pause, notified).await;
        }
    }

    async fn history(&self, arn: &str) -> Result<Vec<HistoryEvent>> {
        const OP: &str = "workflows.history";
        self.describe_now(arn)?;
        let rows: Vec<(i64, i64, i64, String, String)> = self.engine.db.read(OP, arn, |c| {
            let mut stmt = c.prepare_cached("SELECT id, previous, time, type, details FROM wf_history WHERE execution = ?1 ORDER BY id")?;
            let rows = stmt.query_map(params![arn], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            rows.collect()
        })?;
        rows.into_iter()
            .map(|(id, previous, time, event_type, details)| {
                Ok(HistoryEvent {
                    id: id as u64,
                    previous_event_id: previous as u64,
                    timestamp: from_ms(time),
                    event_type,
                    details: decode_json(OP, arn, &details)?,
                })
            })
            .collect()
    }

    async fn stop(&self, arn: &str, error: Option<&str>, cause: Option<&str>) -> Result<Execution> {
        const OP: &str = "workflows.stop";
        self.describe_now(arn)?;
        let (arn2, error, cause) = (
            arn.to_owned(),
            error.map(str::to_owned),
            cause.map(str::to_owned),
        );
        self.engine
            .db
            .write(OP, arn, move |tx| {
                let err = |e| crate::sqlite::sql_error(OP, &arn2, e);
                let last: Option<i64> = tx
                    .query_row("SELECT last_event FROM wf_executions WHERE arn = ?1 AND status = 'RUNNING'", params![arn2], |r| r.get(0))
                    .optional()
                    .map_err(err)?;
                let Some(last) = last else { return Ok(()) };
                let now = now_ms();
                tx.execute(
                    "UPDATE wf_executions SET status = 'ABORTED', error = ?2, cause = ?3, stop_ms = ?4, last_event = ?5 WHERE arn = ?1",
                    params![arn2, error, cause, now, last + 1],
                )
                .map_err(err)?;
                tx.execute(
                    "INSERT INTO wf_history (execution, id, previous, time, type, details) VALUES (?1, ?2, ?3, ?4, 'ExecutionAborted', ?5)",
                    params![arn2, last + 1, last, now, json!({"error": error, "cause": cause}).to_string()],
                )
                .map_err(err)?;
                tx.execute("DELETE FROM wf_frames WHERE execution = ?1", params![arn2]).map_err(err)?;
                Ok(())
            })
            .await?;
        if let Some(flag) = lock(&self.engine.running).get(arn) {
            flag.stopped.store(true, Ordering::Release);
            flag.notify.notify_waiters();
        }
        self.engine.finished.notify_waiters();
        self.describe_now(arn)
    }

    async fn list_executions(
        &self,
        name: &str,
        status: Option<ExecutionStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Execution>> {
        const OP: &str = "workflows.list_executions";
        let after = match cursor {
            None => None,
            Some(c) => {
                let position = decode_cursor(OP, name, c)?;
                let parsed = position
                    .split_once('|')
                    .and_then(|(ms, arn)| Some((ms.parse::<i64>().ok()?, arn.to_owned())));
                Some(parsed.ok_or_else(|| {
                    Error::invalid_input(
                        OP,
                        name,
                        "the cursor is not one this API returned; pass next_cursor unchanged",
                    )
                })?)
            }
        };
        let (after_ms, after_arn) = after.unwrap_or((i64::MAX, String::new()));
        let status = status.map(|s| s.as_str());
        let rows: Vec<ExecutionRow> = self.engine.db.read(OP, name, |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM wf_executions
                 WHERE state_machine = ?1 AND (?2 IS NULL OR status = ?2)
                   AND (start_ms, arn) < (?3, ?4)
                 ORDER BY start_ms DESC, arn DESC LIMIT ?5"
            ))?;
            let rows = stmt.query_map(
                params![name, status, after_ms, after_arn, limit as i64 + 1],
                execution_row,
            )?;
            rows.collect()
        })?;
        let page = BackendPage::from_rows(rows, limit).try_map(|r| to_execution(OP, r))?;
        let next_cursor = match (page.more, page.items.last()) {
            (true, Some(last)) => Some(encode_cursor(&format!(
                "{}|{}",
                last.start_date.timestamp_millis(),
                last.arn
            ))),
            _ => None,
        };
        let items = page.items;
        Ok(Page { items, next_cursor })
    }

    fn register(&self, name: &str, handler: TaskHandler) -> Result<()> {
        self.engine
            .handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), handler);
        Ok(())
    }

    async fn create_activity(&self, name: &str) -> Result<String> {
        Ok(format!("{ARN_PREFIX}:activity:{name}"))
    }

    fn state_machine_name(&self, arn: &str) -> Option<String> {
        arn.strip_prefix(ARN_PREFIX)
            .and_then(|_| crate::backend::arn_state_machine(arn))
            .map(str::to_owned)
    }

    async fn poll_activity(
        &self,
        activity_arn: &str,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<ActivityTask>> {
        tasks::poll_activity(&self.engine, activity_arn, worker, wait).await
    }

    async fn send_task_success(&self, token: &str, output: &Value) -> Result<()> {
        tasks::complete(&self.engine, token, Ok(output.clone())).await
    }

    async fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> Result<()> {
        tasks::complete(&self.engine, token, Err(Failure::new(error, cause))).await
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        tasks::heartbeat(&self.engine, token).await
    }
}
