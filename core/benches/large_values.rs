//! KV values over the 400 KB item limit against the artifact path they replace: `kv().set` and
//! `kv().get` of a 1 MB value beside `artifacts().put`/`get` of the same JSON bytes (with the
//! `serde_json` encoding and decoding a client of the artifact path does itself), and beside
//! what a client did before offload existed: the artifact plus a KV item holding its key
//! (`artifacts().put` then `kv().set`; `kv().get` then `artifacts().get`). On a local mesh and,
//! when `AGENT_MESH_TEST_AWS_ENDPOINT` names a moto server (tests/with-moto.sh), on moto. The
//! operations alternate in rounds of 10 so that drift hits all. The goal: offload costs under
//! 20% over the artifact path (p50).
//!
//! `cargo bench -p agent-mesh --bench large_values` (`BENCH_LARGE_OPS`, default 100;
//! `BENCH_LARGE_BYTES`, default 1,000,000).

use std::time::{Duration, Instant};

use agent_mesh::{MeshClient, PutOptions, SetOptions};
use serde_json::{Value, json};

const ROUND: usize = 10;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The operations timed, in the order of their p50 latencies from [`run`].
const OPS: [&str; 6] = [
    "kv.set",
    "artifacts.put",
    "put+pointer",
    "kv.get",
    "artifacts.get",
    "pointer+get",
];

async fn put_artifact(mesh: &MeshClient, value: &Value) {
    let bytes = serde_json::to_vec(value).unwrap();
    mesh.artifacts()
        .put(
            "bench/state.json",
            bytes,
            PutOptions::content_type("application/json"),
        )
        .await
        .unwrap();
}

async fn get_artifact(mesh: &MeshClient, key: &str) {
    let got = mesh.artifacts().get(key).await.unwrap();
    let parsed: Value = serde_json::from_slice(&got.unwrap().data).unwrap();
    std::hint::black_box(parsed);
}

async fn run(mesh: &MeshClient, value: &Value, n: usize) -> [Duration; 6] {
    let mut samples: [Vec<Duration>; 6] = Default::default();
    for round in 0..=n.div_ceil(ROUND) {
        for (op, times) in samples.iter_mut().enumerate() {
            for _ in 0..ROUND {
                let started = Instant::now();
                match op {
                    0 => {
                        mesh.kv()
                            .set("bench/state", value.clone(), SetOptions::default())
                            .await
                            .unwrap();
                    }
                    1 => put_artifact(mesh, value).await,
                    2 => {
                        put_artifact(mesh, value).await;
                        let pointer = json!({"artifact": "bench/state.json"});
                        mesh.kv()
                            .set("bench/pointer", pointer, SetOptions::default())
                            .await
                            .unwrap();
                    }
                    3 => {
                        let item = mesh.kv().get("bench/state").await.unwrap().unwrap();
                        std::hint::black_box(item.value);
                    }
                    4 => get_artifact(mesh, "bench/state.json").await,
                    _ => {
                        let item = mesh.kv().get("bench/pointer").await.unwrap().unwrap();
                        get_artifact(mesh, item.value["artifact"].as_str().unwrap()).await;
                    }
                }
                // Round 0 warms up (and creates what the gets read).
                if round > 0 {
                    times.push(started.elapsed());
                }
            }
        }
    }
    samples.map(|mut s| {
        s.sort();
        s[s.len() / 2]
    })
}

#[tokio::main]
async fn main() {
    let n = env_number("BENCH_LARGE_OPS", 100);
    let bytes = env_number("BENCH_LARGE_BYTES", 1_000_000);
    let value = json!({"checkpoint": "x".repeat(bytes.saturating_sub(20))});
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("local", format!("local://{}", dir.path().display()))];
    if let Ok(endpoint) = std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT") {
        let prefix = format!("bench{}-", std::process::id());
        backends.push((
            "moto",
            format!("aws://?region=us-east-1&endpoint={endpoint}&prefix={prefix}"),
        ));
    }
    println!(
        "large values: {bytes} bytes of JSON, {n} operations each, p50 in ms (goal: kv under 1.20x the artifact path)"
    );
    println!(
        "{:8} {:>8} {:>14} {:>12} {:>6}   {:>8} {:>14} {:>12} {:>6}",
        "backend", OPS[0], OPS[1], OPS[2], "ratio", OPS[3], OPS[4], OPS[5], "ratio"
    );
    for (name, url) in backends {
        let mesh = MeshClient::connect(&url).await.unwrap();
        mesh.provision().await.unwrap();
        let p50 = run(&mesh, &value, n).await.map(|d| d.as_secs_f64() * 1e3);
        let ratios =
            |kv: f64, bare: f64, pointer: f64| format!("{:.2}x/{:.2}x", kv / bare, kv / pointer);
        println!(
            "{name:8} {:8.2} {:14.2} {:12.2} {}   {:8.2} {:14.2} {:12.2} {}",
            p50[0],
            p50[1],
            p50[2],
            ratios(p50[0], p50[1], p50[2]),
            p50[3],
            p50[4],
            p50[5],
            ratios(p50[3], p50[4], p50[5]),
        );
    }
    println!("ratio: kv over artifacts alone / over artifact plus pointer item");
}
