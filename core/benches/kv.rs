//! Local KV latency: agent-mesh `kv().get`/`kv().set` against the same SQL statements issued
//! straight through rusqlite on the same database file, in the same run; and a tenant-scoped
//! client's `kv().get` (`mesh.scope(tenant)`) against the unscoped client's.
//!
//! `cargo bench -p agent-mesh --bench kv` (set `BENCH_OPS` to change the operation count).

use std::hint::black_box;
use std::time::{Duration, Instant};

use agent_mesh::{MeshClient, SetOptions};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

#[path = "common/latency.rs"]
mod latency;
use latency::{Stats, stats};

const KEYS: u64 = 10_000;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A deterministic sequence of key indexes.
fn keys(n: usize) -> Vec<String> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("user:{}:preferences", x % KEYS)
        })
        .collect()
}

const ROUNDS: usize = 10;

/// Latencies of one side, collected across rounds.
#[derive(Default)]
struct Sample {
    samples: Vec<Duration>,
}

impl Sample {
    fn push(&mut self, d: Duration) {
        self.samples.push(d);
    }

    fn stats(self) -> Stats {
        let total = self.samples.iter().sum();
        stats(self.samples, total)
    }
}

fn raw_get(conn: &Connection, key: &str) -> Option<(String, i64, i64, i64, Option<i64>)> {
    conn.prepare_cached(
        "SELECT value, version, created_at, updated_at, expires_at FROM kv \
         WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
    )
    .unwrap()
    .query_row(params![key, now_ms()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .optional()
    .unwrap()
}

/// The statements `kv().set` runs, in one immediate transaction.
fn raw_set_once(conn: &mut Connection, key: &str, encoded: &str) {
    let now = now_ms();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .unwrap();
    let live: Option<(i64, i64)> = tx
        .prepare_cached("SELECT version, created_at FROM kv WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)")
        .unwrap()
        .query_row(params![key, now], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .unwrap();
    let (version, created) = live.map(|(v, c)| (v + 1, c)).unwrap_or((1, now));
    tx.prepare_cached(
        "INSERT OR REPLACE INTO kv (key, value, version, created_at, updated_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
    )
    .unwrap()
    .execute(params![key, encoded, version, created, now])
    .unwrap();
    tx.prepare_cached("DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?1 LIMIT 16)")
        .unwrap()
        .execute([now])
        .unwrap();
    tx.commit().unwrap();
}

fn row(name: &str, s: &Stats) {
    println!(
        "{name:<34} p50 {:>7.2} µs   p99 {:>7.2} µs   {:>10.0} ops/s",
        s.p50.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.per_sec
    );
}

fn raw_connection(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .unwrap();
    conn
}

fn main() {
    let ops: usize = std::env::var("BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mesh = rt
        .block_on(MeshClient::connect(&format!(
            "local://{}",
            dir.path().display()
        )))
        .unwrap();
    let scoped = mesh.scope("tenant-bench").unwrap();
    let value =
        json!({"timezone": "PST", "language": "en", "theme": "dark", "notifications": true});
    rt.block_on(async {
        let entries: Vec<_> = (0..KEYS)
            .map(|i| (format!("user:{i}:preferences"), value.clone()))
            .collect();
        for chunk in entries.chunks(100) {
            mesh.kv()
                .batch_set(chunk.to_vec(), SetOptions::default())
                .await
                .unwrap();
            scoped
                .kv()
                .batch_set(chunk.to_vec(), SetOptions::default())
                .await
                .unwrap();
        }
    });
    let get_keys = keys(ops);
    let raw = raw_connection(&dir.path().join("mesh.db"));

    println!(
        "local KV, {KEYS} keys, {ops} gets / {} sets each, one thread, same file, {ROUNDS} alternating rounds",
        ops / 10
    );
    // Warm both paths once so neither pays for cold pages or statement preparation.
    rt.block_on(async {
        for k in &get_keys[..1000] {
            black_box(mesh.kv().get(k).await.unwrap());
            black_box(scoped.kv().get(k).await.unwrap());
        }
    });
    for k in &get_keys[..1000] {
        black_box(raw_get(&raw, k));
    }

    // Both sides run in alternating rounds, so drift in machine load hits them equally.
    let encoded = serde_json::to_string(&value).unwrap();
    let mut raw = raw;
    let (mut mesh_get, mut raw_get_s, mut mesh_set, mut raw_set, mut scoped_get) = (
        Sample::default(),
        Sample::default(),
        Sample::default(),
        Sample::default(),
        Sample::default(),
    );
    for round in 0..ROUNDS {
        let gets = &get_keys[round * ops / ROUNDS..(round + 1) * ops / ROUNDS];
        let sets = &gets[..gets.len() / 10];
        rt.block_on(async {
            for k in gets {
                let t = Instant::now();
                black_box(mesh.kv().get(k).await.unwrap());
                mesh_get.push(t.elapsed());
            }
        });
        for k in gets {
            let t = Instant::now();
            black_box(raw_get(&raw, k));
            raw_get_s.push(t.elapsed());
        }
        rt.block_on(async {
            for k in gets {
                let t = Instant::now();
                black_box(scoped.kv().get(k).await.unwrap());
                scoped_get.push(t.elapsed());
            }
        });
        rt.block_on(async {
            for k in sets {
                let t = Instant::now();
                black_box(
                    mesh.kv()
                        .set(k, value.clone(), SetOptions::default())
                        .await
                        .unwrap(),
                );
                mesh_set.push(t.elapsed());
            }
        });
        for k in sets {
            let t = Instant::now();
            raw_set_once(&mut raw, k, &encoded);
            raw_set.push(t.elapsed());
        }
    }
    let (mesh_get, raw_get_stats, mesh_set, raw_set) = (
        mesh_get.stats(),
        raw_get_s.stats(),
        mesh_set.stats(),
        raw_set.stats(),
    );

    row("agent-mesh kv().get", &mesh_get);
    row("rusqlite, same SELECT", &raw_get_stats);
    println!(
        "  get p50 ratio agent-mesh / rusqlite: {:.2}x (target <= 1.5x); p99 {:.1} µs (target < 50 µs)",
        mesh_get.p50.as_secs_f64() / raw_get_stats.p50.as_secs_f64(),
        mesh_get.p99.as_secs_f64() * 1e6
    );
    let scoped_get = scoped_get.stats();
    row("agent-mesh scope(t).kv().get", &scoped_get);
    println!(
        "  scoped / unscoped get p50: {:+.1}% (target < +5%), p99 {:+.1}%",
        (scoped_get.p50.as_secs_f64() / mesh_get.p50.as_secs_f64() - 1.0) * 100.0,
        (scoped_get.p99.as_secs_f64() / mesh_get.p99.as_secs_f64() - 1.0) * 100.0
    );
    row("agent-mesh kv().set", &mesh_set);
    row("rusqlite, same transaction", &raw_set);
    println!(
        "  set p50 ratio agent-mesh / rusqlite: {:.2}x",
        mesh_set.p50.as_secs_f64() / raw_set.p50.as_secs_f64()
    );
}
