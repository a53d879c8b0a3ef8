//! Compare-and-set on aws:// (a moto server) under concurrency and faults, from Rust: N writers
//! × M read-then-`set(if_version)` increments of one key end exact — value N·M at version
//! N·M + 1 — as tokio tasks sharing a client, with their own clients, in separate processes
//! (`mesh-worker incr`), and through the fault proxy (`tests/aws/fault_proxy.py`, a child
//! process) that loses a quarter of the writes' answers and answers a tenth of all requests
//! with throttling or server errors. Run with `--features moto` under tests/with-moto.sh.
//!
//! A retryable error means nothing was written, so the writer tries the increment again; an
//! error that is not retryable (the outcome is unknown) fails the test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use agent_mesh::{ErrorKind, MeshClient, SetOptions};
use serde_json::json;

const WORKER: &str = env!("CARGO_BIN_EXE_mesh-worker");
const TRIALS: usize = 3;
const WRITERS: usize = 4;
const INCREMENTS: u64 = 25;

fn endpoint() -> String {
    std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT").expect(
        "AGENT_MESH_TEST_AWS_ENDPOINT is not set: run these tests through tests/with-moto.sh",
    )
}

fn url(endpoint: &str, prefix: &str) -> String {
    format!("aws://?region=us-east-1&endpoint={endpoint}&prefix={prefix}")
}

fn fresh_prefix() -> String {
    format!("rstress{:08x}-", rand_u32())
}

fn rand_u32() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    nanos ^ std::process::id().rotate_left(16)
}

/// A fresh table holding `count` = 0, and a client that reads it directly.
async fn fresh_counter() -> (String, MeshClient) {
    let prefix = fresh_prefix();
    let direct = MeshClient::connect(&url(&endpoint(), &prefix))
        .await
        .unwrap();
    direct.provision().await.unwrap();
    direct
        .kv()
        .set("count", json!(0), SetOptions::default())
        .await
        .unwrap();
    (prefix, direct)
}

/// `n` conditional increments of `count`; returns the conflicts seen.
async fn increment(mesh: MeshClient, n: u64) -> u64 {
    let (mut done, mut conflicts) = (0, 0);
    while done < n {
        let item = match mesh.kv().get("count").await {
            Ok(item) => item.expect("the counter exists"),
            Err(e) if e.retryable => continue,
            Err(e) => panic!("get failed: {e}"),
        };
        let next = json!(item.value.as_u64().expect("a number") + 1);
        match mesh
            .kv()
            .set("count", next, SetOptions::if_version(item.version))
            .await
        {
            Ok(_) => done += 1,
            Err(e) if e.kind == ErrorKind::Conflict => conflicts += 1,
            Err(e) if e.retryable => {}
            Err(e) => panic!("a non-retryable error (outcome unknown?): {e}"),
        }
    }
    conflicts
}

async fn assert_exact(direct: &MeshClient) {
    let total = WRITERS as u64 * INCREMENTS;
    let item = direct.kv().get("count").await.unwrap().unwrap();
    assert_eq!(
        (item.value, item.version),
        (json!(total), total + 1),
        "{total} increments acknowledged"
    );
}

async fn run(clients: Vec<MeshClient>) -> u64 {
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mesh| tokio::spawn(increment(mesh, INCREMENTS)))
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    conflicts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tasks_sharing_a_client_and_with_their_own_increment_exactly() {
    for trial in 0..TRIALS {
        for shared in [true, false] {
            let (prefix, direct) = fresh_counter().await;
            let mut clients: Vec<MeshClient> = Vec::new();
            for _ in 0..WRITERS {
                clients.push(if shared && !clients.is_empty() {
                    clients[0].clone()
                } else {
                    MeshClient::connect(&url(&endpoint(), &prefix))
                        .await
                        .unwrap()
                });
            }
            let conflicts = run(clients).await;
            assert_exact(&direct).await;
            eprintln!("trial {trial} (shared client: {shared}): exact, {conflicts} conflicts");
        }
    }
}

#[tokio::test]
async fn separate_processes_increment_exactly() {
    for trial in 0..TRIALS {
        let (prefix, direct) = fresh_counter().await;
        let target = url(&endpoint(), &prefix);
        let workers: Vec<Child> = (0..WRITERS)
            .map(|_| {
                Command::new(WORKER)
                    .args(["incr", &target, "count", &INCREMENTS.to_string()])
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn mesh-worker")
            })
            .collect();
        for worker in workers {
            let out = worker.wait_with_output().unwrap();
            assert!(out.status.success(), "a worker failed: {:?}", out.status);
        }
        assert_exact(&direct).await;
        eprintln!("trial {trial}: {WRITERS} processes, exact");
    }
}

/// The fault proxy as a child process; killed when dropped.
struct FaultProxy {
    child: Child,
    url: String,
}

impl FaultProxy {
    fn start(seed: usize) -> FaultProxy {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = std::env::var("AGENT_MESH_TEST_PYTHON").unwrap_or_else(|_| {
            let venv = root.join(".venv/bin/python");
            if venv.exists() {
                venv.display().to_string()
            } else {
                "python3".into()
            }
        });
        let mut child = Command::new(python)
            .arg(root.join("tests/aws/fault_proxy.py"))
            .args([&endpoint(), "--rate", "0.1", "--lose-rate", "0.25"])
            .args(["--seed", &seed.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tests/aws/fault_proxy.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://"), "the proxy printed {line:?}");
        FaultProxy {
            child,
            url: line.trim().to_owned(),
        }
    }

    /// What the proxy did: (answers lost, faults injected).
    fn stats(&self) -> (u64, u64) {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        use std::io::{Read, Write};
        write!(
            stream,
            "GET /__proxy/stats HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let stats: serde_json::Value = serde_json::from_str(body).unwrap();
        (
            stats["lost"].as_u64().unwrap(),
            stats["injected"].as_u64().unwrap(),
        )
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn increments_through_a_proxy_that_loses_answers_are_exact() {
    let (mut lost, mut injected) = (0, 0);
    for trial in 0..TRIALS {
        let proxy = FaultProxy::start(200 + trial);
        let (prefix, direct) = fresh_counter().await;
        let mut clients = Vec::new();
        for _ in 0..WRITERS {
            clients.push(
                MeshClient::connect(&url(&proxy.url, &prefix))
                    .await
                    .unwrap(),
            );
        }
        run(clients).await;
        assert_exact(&direct).await;
        let (l, i) = proxy.stats();
        lost += l;
        injected += i;
    }
    assert!(
        lost >= 10 * TRIALS as u64 && injected >= 10 * TRIALS as u64,
        "the proxy lost {lost} answers and injected {injected} faults"
    );
    eprintln!("{lost} answers lost, {injected} faults injected: every counter exact");
}
