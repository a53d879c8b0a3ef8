//! The SQLite database of a mesh: one file (WAL) that the local backend keeps its KV, artifact
//! metadata, event log and timeline in, and the embedded workflow engine its state machines,
//! executions, history and tasks (also for `memory://`, in a temporary directory).
//!
//! Several processes may open the same database at once. Reads run inline on a small pool of
//! reader connections (WAL readers never wait for writers); writes run in short `BEGIN IMMEDIATE`
//! transactions, which serialise writers across processes, with a busy timeout so a writer waits
//! for another instead of failing. The write-ahead log is checkpointed into the database file by
//! a thread of its own, so that commits seldom wait for a checkpoint's fsyncs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use crate::config::SyncMode;
use crate::error::{Error, ErrorKind, Result};
use crate::fsutil::{create_private_dir_all, create_private_file};

/// The database file inside a mesh directory.
pub(crate) const DB_FILE: &str = "mesh.db";
/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Reader connections per opened mesh.
const READERS: usize = 4;
/// Commits between two checkpoints of the write-ahead log by the checkpointer thread. Every
/// 64 commits the checkpoints ran so often beside the writes that they slowed `kv.set` by a
/// third (p50, measured on 2 cores); every 1024 they cost little, and one copies a hot page
/// once for many commits.
const CHECKPOINT_EVERY: u64 = 1024;
/// Log length (pages) at which a commit checkpoints the log itself (SQLite's automatic
/// checkpoint, at 1000 pages by default). The checkpointer thread does nearly all the copying,
/// but the log restarts from its beginning only once every page in it has been copied, which a
/// checkpoint running beside a steady stream of commits never achieves; one run by a commit
/// does, and finds little left to copy.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 8000;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: KV and artifacts.
    "CREATE TABLE kv (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX kv_expiry ON kv(expires_at) WHERE expires_at IS NOT NULL;
    CREATE TABLE artifacts (
        key TEXT PRIMARY KEY NOT NULL,
        blob TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        metadata TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE artifact_garbage (
        blob TEXT PRIMARY KEY NOT NULL,
        since INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 2: the event log, durable subscriptions and the timeline.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        time INTEGER NOT NULL,
        envelope TEXT NOT NULL
    );
    CREATE TABLE event_subscriptions (
        name TEXT PRIMARY KEY NOT NULL,
        pattern TEXT NOT NULL,
        position INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE timeline (
        id TEXT PRIMARY KEY NOT NULL,
        stream TEXT NOT NULL,
        time INTEGER NOT NULL,
        data TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE timeline_paths (
        path TEXT NOT NULL,
        id TEXT NOT NULL,
        stream TEXT NOT NULL,
        PRIMARY KEY (path, id)
    ) WITHOUT ROWID;",
    // 3: workflows: state machines, executions, history, frame checkpoints, task tokens.
    "CREATE TABLE wf_state_machines (
        name TEXT PRIMARY KEY NOT NULL,
        definition TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE wf_executions (
        arn TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        state_machine TEXT NOT NULL,
        definition TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        output TEXT,
        error TEXT,
        cause TEXT,
        start_ms INTEGER NOT NULL,
        stop_ms INTEGER,
        deadline_ms INTEGER,
        last_event INTEGER NOT NULL,
        owner TEXT,
        lease_until INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX wf_executions_by_machine ON wf_executions(state_machine, start_ms, arn);
    CREATE INDEX wf_executions_running ON wf_executions(lease_until) WHERE status = 'RUNNING';
    CREATE TABLE wf_history (
        execution TEXT NOT NULL,
        id INTEGER NOT NULL,
        previous INTEGER NOT NULL,
        time INTEGER NOT NULL,
        type TEXT NOT NULL,
        details TEXT NOT NULL,
        PRIMARY KEY (execution, id)
    ) WITHOUT ROWID;
    CREATE TABLE wf_frames (
        execution TEXT NOT NULL,
        frame TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        PRIMARY KEY (execution, frame)
    ) WITHOUT ROWID;
    CREATE TABLE wf_tasks (
        token TEXT PRIMARY KEY NOT NULL,
        activity TEXT,
        execution TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        dispatched INTEGER NOT NULL,
        worker TEXT,
        output TEXT,
        error TEXT,
        cause TEXT,
        created_ms INTEGER NOT NULL,
        heartbeat_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX wf_tasks_pending ON wf_tasks(activity, created_ms) WHERE status = 'SCHEDULED';",
    // 4: the mesh's secrets (the key task tokens are derived under), made on first open.
    "CREATE TABLE mesh_secrets (
        name TEXT PRIMARY KEY NOT NULL,
        value BLOB NOT NULL
    ) WITHOUT ROWID;",
];

/// The name of the task-token key in `mesh_secrets`.
const TASK_TOKEN_KEY: &str = "task_tokens";

/// The SQLite database of one mesh directory: one writer connection, a pool of readers, and a
/// checkpointer thread with its own connection (it ends when the `Db` is dropped).
#[derive(Debug)]
pub(crate) struct Db {
    dir: PathBuf,
    sync: SyncMode,
    writer: Mutex<Gated>,
    readers: Vec<Mutex<Gated>>,
    /// Commits made through this `Db`.
    commits: AtomicU64,
    /// The mesh's secret key for task tokens (random, made when the mesh was created).
    token_key: [u8; 32],
    /// Wakes the checkpointer.
    checkpoint_due: SyncSender<()>,
}

impl Db {
    /// Opens (creating if needed) the database of the mesh in `dir`.
    pub(crate) fn open(dir: &Path, sync: SyncMode) -> Result<Db> {
        let _inside = crate::fork_gate::enter();
        let open_err = |what: &str, e: &dyn std::fmt::Display| {
            Error::config(format!(
                "open local mesh {}: {what}: {e}; check that the directory is writable or pick another with AGENT_MESH_DIR",
                dir.display()
            ))
            .with_context("resource", dir.display().to_string())
        };
        create_private_dir_all(dir).map_err(|e| open_err("cannot create the directory", &e))?;
        let path = dir.join(DB_FILE);
        // Created here, private (0600), before SQLite creates it with its default 0644: SQLite
        // gives the -wal, -shm and journal files the database file's mode.
        match create_private_file(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(open_err("cannot create the database", &e)),
        }
        let connect = || -> rusqlite::Result<Connection> {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let sync = match sync {
                SyncMode::Normal => "NORMAL",
                SyncMode::Full => "FULL",
            };
            conn.execute_batch(&format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync};"
            ))?;
            conn.set_prepared_statement_cache_capacity(32);
            Ok(conn)
        };
        let mut writer = connect().map_err(|e| open_err("cannot open the database", &e))?;
        let version =
            migrate(&mut writer).map_err(|e| open_err("cannot prepare the schema", &e))?;
        writer
            .pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)
            .map_err(|e| open_err("cannot open the database", &e))?;
        if version > MIGRATIONS.len() as i64 {
            return Err(open_err(
                "the mesh was written by a newer agent-mesh",
                &format!(
                    "schema version {version} > {}; upgrade agent-mesh",
                    MIGRATIONS.len()
                ),
            ));
        }
        let token_key = mesh_secret(&writer, TASK_TOKEN_KEY)
            .map_err(|e| open_err("cannot read the mesh's key", &e))?;
        let readers = (0..READERS)
            .map(|_| connect().map(|c| Mutex::new(Gated(Some(c)))))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| open_err("cannot open the database", &e))?;
        let checkpoints = connect().map_err(|e| open_err("cannot open the database", &e))?;
        let (checkpoint_due, due) = sync_channel(1);
        std::thread::Builder::new()
            .name("agent-mesh-checkpoint".into())
            .spawn(move || checkpointer(checkpoints, due))
            .map_err(|e| open_err("cannot start the checkpoint thread", &e))?;
        Ok(Db {
            dir: dir.to_owned(),
            sync,
            writer: Mutex::new(Gated(Some(writer))),
            readers,
            commits: AtomicU64::new(0),
            token_key,
            checkpoint_due,
        })
    }

    /// The mesh's secret key for task tokens.
    pub(crate) fn token_key(&self) -> [u8; 32] {
        self.token_key
    }

    /// Counts a commit; wakes the checkpointer every [`CHECKPOINT_EVERY`] commits.
    fn committed(&self) {
        let n = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(CHECKPOINT_EVERY) {
            // Full: the checkpointer is already due to run.
            let _ = self.checkpoint_due.try_send(());
        }
    }

    /// The mesh directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs a read on a free reader connection, inline.
    pub fn read<T>(
        &self,
        operation: &str,
        key: &str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let _inside = crate::fork_gate::enter();
        let conn = self.reader();
        f(&conn).map_err(|e| sql_error(operation, key, e))
    }

    fn reader(&self) -> MutexGuard<'_, Gated> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return guard;
            }
        }
        lock(&self.readers[0])
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits it if `f` returns `Ok`; an
    /// `Err` rolls everything back.
    ///
    /// When the write lock is free at once (no other writer in this or another process) and
    /// commits do not fsync, the transaction runs inline: it takes microseconds, as a read does.
    /// Otherwise it runs on a blocking thread, which waits up to the busy timeout for the lock,
    /// so the async runtime is never blocked behind another process.
    pub async fn write<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        key: &str,
        f: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let f = match self.try_write_inline(operation, key, f) {
            Ok(result) => return result,
            Err(f) => f,
        };
        let db = self.clone();
        let owned_key = key.to_owned();
        tokio::task::spawn_blocking(move || db.write_blocking(operation, &owned_key, f))
            .await
            .map_err(|e| Error::internal(operation, e))?
    }

    /// Runs `f` inline if the write lock can be had without waiting; hands `f` back otherwise.
    fn try_write_inline<T, F>(
        &self,
        operation: &str,
        key: &str,
        f: F,
    ) -> std::result::Result<Result<T>, F>
    where
        F: FnOnce(&Transaction<'_>) -> Result<T>,
    {
        if self.sync == SyncMode::Full {
            return Err(f);
        }
        let _inside = crate::fork_gate::enter();
        let Ok(conn) = self.writer.try_lock() else {
            return Err(f);
        };
        if conn.busy_timeout(Duration::ZERO).is_err() {
            return Err(f);
        }
        let begun = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate);
        let restored = conn.busy_timeout(BUSY_TIMEOUT);
        let tx = match (begun, restored) {
            (Ok(tx), Ok(())) => tx,
            (Ok(_), Err(e)) => return Ok(Err(sql_error(operation, key, e))),
            (Err(_), _) => return Err(f),
        };
        let result = f(&tx).and_then(|value| {
            tx.commit()
                .map(|()| value)
                .map_err(|e| sql_error(operation, key, e))
        });
        if result.is_ok() {
            self.committed();
        }
        Ok(result)
    }

    /// [`Db::write`] on the calling thread.
    pub fn write_blocking<T>(
        &self,
        operation: &str,
        key: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let _inside = crate::fork_gate::enter();
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sql_error(operation, key, e))?;
        let value = f(&tx)?;
        tx.commit().map_err(|e| sql_error(operation, key, e))?;
        self.committed();
        Ok(value)
    }
}

/// A connection closed inside the fork gate: closing frees SQLite memory under its global
/// mutex, which a fork must not catch held.
#[derive(Debug)]
struct Gated(Option<Connection>);

impl std::ops::Deref for Gated {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
            .as_ref()
            .expect("a connection is only taken out when dropped")
    }
}

impl std::ops::DerefMut for Gated {
    fn deref_mut(&mut self) -> &mut Connection {
        self.0
            .as_mut()
            .expect("a connection is only taken out when dropped")
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        let _inside = crate::fork_gate::enter();
        drop(self.0.take());
    }
}

/// Runs a passive checkpoint each time it is woken, until the `Db` (the sender) is dropped: it
/// copies the committed pages of the write-ahead log into the database file and fsyncs both,
/// without blocking readers or writers, so commits rarely wait for a checkpoint. Errors are left
/// to the next round (another process may be checkpointing; a failing database shows on the next
/// write).
fn checkpointer(conn: Connection, due: Receiver<()>) {
    let conn = Gated(Some(conn));
    while due.recv().is_ok() {
        let _inside = crate::fork_gate::enter();
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

/// Locks `m`, also after a panic in another holder (the data stays usable).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The secret `name` of the mesh: 32 random bytes, made by the first process that asks (the
/// database file is private to its owner, 0600).
fn mesh_secret(conn: &Connection, name: &str) -> rusqlite::Result<[u8; 32]> {
    let fresh: [u8; 32] = rand::random();
    conn.execute(
        "INSERT OR IGNORE INTO mesh_secrets (name, value) VALUES (?1, ?2)",
        rusqlite::params![name, fresh.as_slice()],
    )?;
    let stored: Vec<u8> = conn.query_row(
        "SELECT value FROM mesh_secrets WHERE name = ?1",
        [name],
        |r| r.get(0),
    )?;
    stored.try_into().map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "value".into(), rusqlite::types::Type::Blob)
    })
}

/// Applies the migrations not yet applied; returns the schema version found.
fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(done)
}

/// Maps a SQLite error during `operation` on `key` to an agent-mesh error.
pub(crate) fn sql_error(operation: &str, key: &str, e: rusqlite::Error) -> Error {
    let (kind, fix) = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => (
            ErrorKind::Unavailable,
            "another process held the mesh database's write lock for longer than the 30 s busy timeout; retry",
        ),
        Some(ErrorCode::DiskFull) => (
            ErrorKind::Unavailable,
            "the disk is full; free space and retry",
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => (
            ErrorKind::PermissionDenied,
            "the mesh database is not writable; check the permissions of the mesh directory",
        ),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => (
            ErrorKind::Internal,
            "the mesh database is damaged; restore it from a backup",
        ),
        _ => (
            ErrorKind::Internal,
            "this is a bug in agent-mesh; please report it",
        ),
    };
    let message = format!("{e}; {fix}");
    Error::keyed(kind, operation, key, message).with_source(e)
}

/// Decodes a stored JSON column, mapping corruption to an `Internal` error.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    operation: &str,
    key: &str,
    text: &str,
) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        Error::internal(
            operation,
            format!("stored JSON of {key:?} is unreadable: {e}"),
        )
    })
}
