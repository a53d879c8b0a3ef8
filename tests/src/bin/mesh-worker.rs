//! A worker process the cross-process tests spawn against one mesh.
//!
//! `mesh-worker incr <url> <key> <n>`: performs `n` conditional increments of the counter at
//! `key` (read, then write with `if_version`, retrying on `Conflict` and on retryable errors,
//! which mean nothing was written); prints the conflicts seen.
//!
//! `mesh-worker bench-get <url> <n> <keys>`: times `n` calls of `kv().get` on keys
//! `user:<(i * 7919) % keys>:preferences` and prints `{"p50_ns", "p99_ns", "ops_per_sec"}`.
//!
//! `mesh-worker bench-ops <url> <n> <artifact-bytes>`: times `n` rounds of `kv().set`,
//! `kv().get`, `artifacts().put` and `artifacts().get` and prints `{op: {"p50_ns", "p99_ns"}}`.
//!
//! `mesh-worker send-events <url> <n> <pause-ms>`: sends `n` events from source `sender`,
//! detail `{"n": i, "parity": "even"|"odd", "sent_ms": <epoch ms>}`, detail type `OrderCreated`
//! for even `i` and `Ping` for odd: in `send_batch` calls of 10 when `pause-ms` is 0, else one
//! `send` every `pause-ms` milliseconds. Prints the number sent.
//!
//! `mesh-worker crash-workflow <url>`: registers the crash workflow's handlers (its `slow` Task
//! sleeping 60 s), creates it and starts the execution `victim`, prints `started`, then waits
//! to be killed.
//!
//! `mesh-worker timeline-append <url> <stream> <n>`: appends entries `{"i": 0..n}` to `stream`,
//! one by one; prints the number appended.
//!
//! `mesh-worker write-loop <url> <artifact-bytes>`: forever, writes KV item `w:<i>` and artifact
//! `a/<i>` (content from `content(i)`), then prints `i` once both writes have returned.

use std::io::Write;
use std::time::Duration;

use agent_mesh::{ErrorKind, Event, MeshClient, PutOptions, SetOptions};
use agent_mesh_tests::content;
use serde_json::json;

async fn crash_workflow(url: &str) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    agent_mesh_tests::register_crash_handlers(&mesh, 60_000);
    let wf = mesh.workflows();
    wf.create("crash", agent_mesh_tests::crash_definition())
        .await
        .expect("create");
    wf.start(
        "crash",
        json!({}),
        agent_mesh::StartOptions::named("victim"),
    )
    .await
    .expect("start");
    println!("started");
    std::io::stdout().flush().unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(600)).await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["incr", url, key, n] => incr(url, key, n.parse().expect("count")).await,
        ["send-events", url, n, pause] => {
            send_events(url, n.parse().expect("n"), pause.parse().expect("pause-ms")).await
        }
        ["timeline-append", url, stream, n] => {
            timeline_append(url, stream, n.parse().expect("n")).await
        }
        ["write-loop", url, size] => write_loop(url, size.parse().expect("size")).await,
        ["bench-ops", url, n, size] => {
            bench_ops(url, n.parse().expect("n"), size.parse().expect("size")).await
        }
        ["bench-get", url, n, keys] => {
            bench_get(url, n.parse().expect("n"), keys.parse().expect("keys")).await
        }
        ["crash-workflow", url] => crash_workflow(url).await,
        ["large-write-loop", url, bytes, writes] => {
            large_write_loop(
                url,
                bytes.parse().expect("bytes"),
                writes.parse().expect("writes"),
            )
            .await
        }
        _ => {
            eprintln!(
                "usage: mesh-worker incr <url> <key> <n> | write-loop <url> <artifact-bytes>"
            );
            std::process::exit(2);
        }
    }
}

/// The `i`-th event of `send-events`.
fn numbered_event(i: u64) -> Event {
    let even = i.is_multiple_of(2);
    let sent_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64;
    Event::new(
        if even { "OrderCreated" } else { "Ping" },
        json!({"n": i, "parity": if even { "even" } else { "odd" }, "sent_ms": sent_ms}),
    )
    .with_source("sender")
}

async fn send_events(url: &str, n: u64, pause_ms: u64) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let mut i = 0;
    while i < n {
        if pause_ms == 0 {
            let batch: Vec<Event> = (i..n.min(i + 10)).map(numbered_event).collect();
            i += batch.len() as u64;
            for result in mesh.events().send_batch(batch).await.expect("send_batch") {
                result.expect("an event of the batch failed");
            }
        } else {
            mesh.events().send(numbered_event(i)).await.expect("send");
            i += 1;
            tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
        }
    }
    println!("{n}");
}

async fn incr(url: &str, key: &str, n: u64) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let mut conflicts = 0u64;
    let mut done = 0;
    while done < n {
        let item = match mesh.kv().get(key).await {
            Ok(item) => item.expect("counter exists"),
            Err(e) if e.retryable => continue,
            Err(e) => panic!("get failed: {e}"),
        };
        let next = json!(item.value.as_u64().expect("counter is a number") + 1);
        match mesh
            .kv()
            .set(key, next, SetOptions::if_version(item.version))
            .await
        {
            Ok(_) => done += 1,
            Err(e) if e.kind == ErrorKind::Conflict => conflicts += 1,
            // A retryable error means nothing was written: the increment is tried again.
            Err(e) if e.retryable => {}
            Err(e) => panic!("increment failed: {e}"),
        }
    }
    println!("conflicts {conflicts}");
}

async fn timeline_append(url: &str, stream: &str, n: u64) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    for i in 0..n {
        mesh.timeline()
            .append(stream, json!({"i": i}))
            .await
            .expect("timeline append");
    }
    println!("{n}");
}

async fn write_loop(url: &str, size: usize) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let mut stdout = std::io::stdout().lock();
    for i in 0u64.. {
        let key = format!("w:{i:06}");
        mesh.kv()
            .set(&key, json!({"i": i}), SetOptions::default())
            .await
            .expect("kv set");
        let artifact = format!("a/{i:06}");
        mesh.artifacts()
            .put(
                &artifact,
                content(i, size),
                PutOptions::content_type("application/x-test"),
            )
            .await
            .expect("artifact put");
        writeln!(stdout, "{i}").expect("stdout");
        stdout.flush().expect("stdout");
    }
}

/// Writes the large value `doc` version after version (`if_version`), printing each version
/// once stored; after `writes` writes (0: forever) waits up to 10 s until a single body is left
/// (collection runs in the background) and prints `bodies <n>`.
async fn large_write_loop(url: &str, bytes: usize, writes: u64) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let mut stdout = std::io::stdout().lock();
    let mut version = mesh
        .kv()
        .get("doc")
        .await
        .expect("get")
        .map_or(0, |i| i.version);
    for _ in (0..).take_while(|n| writes == 0 || *n < writes) {
        let options = match version {
            0 => SetOptions::if_absent(),
            v => SetOptions::if_version(v),
        };
        let item = mesh
            .kv()
            .set(
                "doc",
                agent_mesh_tests::large_doc(version + 1, bytes),
                options,
            )
            .await
            .expect("kv set");
        version = item.version;
        writeln!(stdout, "{version}").expect("stdout");
        stdout.flush().expect("stdout");
    }
    let bodies = || async {
        let page = mesh
            .artifacts()
            .list(agent_mesh_tests::BODIES, Default::default());
        page.await.expect("list bodies").items.len()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while bodies().await > 1 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    writeln!(stdout, "bodies {}", bodies().await).expect("stdout");
}

async fn bench_get(url: &str, n: u64, keys: u64) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let names: Vec<String> = (0..n)
        .map(|i| format!("user:{}:preferences", (i * 7919) % keys))
        .collect();
    for name in names.iter().take(1000) {
        std::hint::black_box(mesh.kv().get(name).await.expect("get"));
    }
    let mut samples = Vec::with_capacity(names.len());
    let start = std::time::Instant::now();
    for name in &names {
        let t = std::time::Instant::now();
        std::hint::black_box(mesh.kv().get(name).await.expect("get"));
        samples.push(t.elapsed().as_nanos() as u64);
    }
    let ops_per_sec = n as f64 / start.elapsed().as_secs_f64();
    let mut report = percentiles(samples);
    report["ops_per_sec"] = json!(ops_per_sec);
    println!("{report}");
}

/// p50 and p99 of `samples` (nanoseconds) as JSON.
fn percentiles(mut samples: Vec<u64>) -> serde_json::Value {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    json!({"p50_ns": at(0.5), "p99_ns": at(0.99)})
}

async fn bench_ops(url: &str, n: u64, size: usize) {
    let mesh = MeshClient::connect(url).await.expect("open mesh");
    let value =
        json!({"timezone": "PST", "language": "en", "theme": "dark", "notifications": true});
    let data = content(0, size);
    let mut samples: [Vec<u64>; 5] = Default::default();
    for i in 0..n {
        let key = format!("rust:{i}");
        for (slot, round) in [(0, 1), (2, 2)] {
            let t = std::time::Instant::now();
            mesh.kv()
                .set(
                    &key,
                    json!({"settings": value, "round": round}),
                    SetOptions::default(),
                )
                .await
                .expect("set");
            samples[slot].push(t.elapsed().as_nanos() as u64);
            if slot == 0 {
                let t = std::time::Instant::now();
                std::hint::black_box(mesh.kv().get(&key).await.expect("get"));
                samples[1].push(t.elapsed().as_nanos() as u64);
            }
        }
        let t = std::time::Instant::now();
        mesh.artifacts()
            .put(
                &format!("rust/{i}"),
                data.clone(),
                PutOptions::content_type("application/octet-stream"),
            )
            .await
            .expect("put");
        samples[3].push(t.elapsed().as_nanos() as u64);
        let t = std::time::Instant::now();
        std::hint::black_box(
            mesh.artifacts()
                .get(&format!("rust/{i}"))
                .await
                .expect("get"),
        );
        samples[4].push(t.elapsed().as_nanos() as u64);
    }
    let [set, get, set_again, put, fetch] = samples;
    println!(
        "{}",
        json!({"kv.set": percentiles(set), "kv.get": percentiles(get), "kv.set again": percentiles(set_again), "artifacts.put": percentiles(put), "artifacts.get": percentiles(fetch)})
    );
}
