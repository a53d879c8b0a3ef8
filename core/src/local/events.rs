//! Events on the local backend: the `events` table is a durable log every process of the mesh
//! appends to; subscriptions read it from their position. They are woken at once by sends of
//! their own process, by other processes' sends through [`super::wake`], and otherwise poll.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use tokio::sync::watch;

use crate::backend::{
    AppendSignal, EventBackend, EventEntry, EventLog, EventStream, LogSubscription, local_envelope,
};
use crate::clock::now_ms;
use crate::error::Result;
use crate::pattern::EventPattern;
use crate::sqlite::{Db, decode_json, sql_error};
use crate::types::events::SubscribeOptions;

use super::wake::Wake;

/// Events older than this are deleted once every durable subscription has passed them.
const RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;
/// The lazy sweep each send runs: it deletes at most 64 events past retention that every
/// durable subscription has passed. The limit is a literal: a bound parameter there makes
/// SQLite re-prepare the statement on every execution.
const SWEEP: &str = "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ?1 \
     AND seq <= coalesce((SELECT min(position) FROM event_subscriptions), 9223372036854775807) \
     ORDER BY seq LIMIT 64)";

const LAST_SEQ: &str =
    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)";

/// How often a subscription looks at the log when no wake-up path exists.
const POLL_WITHOUT_WAKE: Duration = Duration::from_millis(10);
/// How often it looks anyway when other processes' sends wake it.
const POLL_WITH_WAKE: Duration = Duration::from_millis(100);

/// The local backend's event log.
#[derive(Debug)]
pub(super) struct LocalEventLog {
    db: Arc<Db>,
    appends: Arc<AppendSignal>,
    wake: Wake,
}

/// The local backend's events.
#[derive(Debug)]
pub(super) struct LocalEvents {
    log: Arc<LocalEventLog>,
}

impl LocalEvents {
    pub(super) fn new(db: Arc<Db>) -> Self {
        LocalEvents {
            log: Arc::new(LocalEventLog {
                wake: Wake::new(db.dir()),
                db,
                appends: Arc::default(),
            }),
        }
    }
}

#[async_trait]
impl EventLog for LocalEventLog {
    async fn last_seq(&self) -> Result<u64> {
        let seq: i64 = self.db.read("events.subscribe", "events", |c| {
            c.query_row(LAST_SEQ, [], |r| r.get(0))
        })?;
        Ok(seq as u64)
    }

    async fn read_after(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Option<serde_json::Value>)>> {
        let rows = self.db.read("events.next", "events", |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, envelope FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![seq as i64, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        Ok(rows
            .into_iter()
            .map(|(seq, text)| (seq as u64, decode_json("events.next", "events", &text).ok()))
            .collect())
    }

    async fn open_named(&self, name: &str, pattern: &str) -> Result<u64> {
        let (name, pattern) = (name.to_owned(), pattern.to_owned());
        self.db
            .write("events.subscribe", &name.clone(), move |tx| {
                let sql = |e| sql_error("events.subscribe", &name, e);
                let now = now_ms();
                let position: Option<i64> = tx
                    .query_row(
                        "SELECT position FROM event_subscriptions WHERE name = ?1",
                        [&name],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql)?;
                let position = match position {
                    Some(p) => p,
                    None => tx.query_row(LAST_SEQ, [], |r| r.get(0)).map_err(sql)?,
                };
                tx.execute(
                    "INSERT OR REPLACE INTO event_subscriptions (name, pattern, position, updated_at) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![name, pattern, position, now],
                )
                .map_err(sql)?;
                Ok(position as u64)
            })
            .await
    }

    async fn save_position(&self, name: &str, seq: u64) -> Result<bool> {
        let owned = name.to_owned();
        self.db
            .write("events.next", name, move |tx| {
                let changed = tx
                    .execute(
                        "UPDATE event_subscriptions SET position = max(position, ?2), updated_at = ?3 WHERE name = ?1",
                        params![owned, seq as i64, now_ms()],
                    )
                    .map_err(|e| sql_error("events.next", &owned, e))?;
                Ok(changed == 1)
            })
            .await
    }

    async fn named_exists(&self, name: &str) -> Result<bool> {
        self.db.read("events.next", name, |c| {
            c.prepare_cached("SELECT EXISTS(SELECT 1 FROM event_subscriptions WHERE name = ?1)")?
                .query_row([name], |r| r.get(0))
        })
    }

    async fn delete_named(&self, name: &str) -> Result<bool> {
        const OP: &str = "events.delete_subscription";
        let owned = name.to_owned();
        // Without the row, the subscription's position no longer holds back the retention
        // sweep of `put_events`: the events it had not passed can be pruned.
        self.db
            .write(OP, name, move |tx| {
                let deleted = tx
                    .execute("DELETE FROM event_subscriptions WHERE name = ?1", [&owned])
                    .map_err(|e| sql_error(OP, &owned, e))?;
                Ok(deleted == 1)
            })
            .await
    }

    fn appends(&self) -> watch::Receiver<u64> {
        // A subscriber's process starts listening for other processes' sends (once).
        let signal = Arc::downgrade(&self.appends);
        self.wake.listen(move |woken| match signal.upgrade() {
            Some(signal) => {
                if woken {
                    signal.raise();
                }
                true
            }
            None => false,
        });
        self.appends.subscribe()
    }

    fn poll_interval(&self) -> Duration {
        if self.wake.listening() {
            POLL_WITH_WAKE
        } else {
            POLL_WITHOUT_WAKE
        }
    }
}

#[async_trait]
impl EventBackend for LocalEvents {
    async fn put_events(&self, entries: &[EventEntry]) -> Result<Vec<Result<String>>> {
        let envelopes: Vec<(String, i64, String)> = entries
            .iter()
            .map(|entry| {
                let envelope = local_envelope(entry);
                // Retention counts from when the event was stored, not from its `time`, which
                // the sender chose: an event dated in the past is kept (and delivered) as long
                // as any other.
                (
                    envelope.id.clone(),
                    now_ms(),
                    envelope.to_json().to_string(),
                )
            })
            .collect();
        let ids = envelopes.iter().map(|(id, _, _)| Ok(id.clone())).collect();
        self.log
            .db
            .write("events.send", "events", move |tx| {
                let sql = |e| sql_error("events.send", "events", e);
                let mut insert = tx
                    .prepare_cached("INSERT INTO events (id, time, envelope) VALUES (?1, ?2, ?3)")
                    .map_err(sql)?;
                for (id, time, envelope) in &envelopes {
                    insert.execute(params![id, time, envelope]).map_err(sql)?;
                }
                tx.prepare_cached(SWEEP)
                    .and_then(|mut s| s.execute(params![now_ms() - RETENTION_MS]))
                    .map_err(sql)?;
                Ok(())
            })
            .await?;
        self.log.appends.raise();
        self.log.wake.notify();
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
