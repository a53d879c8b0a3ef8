//! Several real processes on one local mesh: exact conditional increments, and SIGKILL in the
//! middle of writes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_mesh::{ListOptions, MeshClient, SetOptions};
use agent_mesh_tests::content;
use serde_json::json;

const WORKER: &str = env!("CARGO_BIN_EXE_mesh-worker");

fn worker(args: &[&str]) -> Child {
    Command::new(WORKER)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn mesh-worker")
}

fn url(dir: &Path) -> String {
    format!("local://{}", dir.display())
}

#[tokio::test]
async fn two_processes_each_increment_2000_times_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    let mesh = MeshClient::connect(&url).await.unwrap();
    mesh.kv()
        .set("counter", json!(0), SetOptions::default())
        .await
        .unwrap();
    let children: Vec<Child> = (0..2)
        .map(|_| worker(&["incr", &url, "counter", "2000"]))
        .collect();
    let mut conflicts = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed: {:?}", out.status);
        let text = String::from_utf8(out.stdout).unwrap();
        conflicts += text
            .trim()
            .strip_prefix("conflicts ")
            .unwrap()
            .parse::<u64>()
            .unwrap();
    }
    let item = mesh.kv().get("counter").await.unwrap().unwrap();
    assert_eq!(item.value, json!(4000), "lost or doubled increments");
    assert_eq!(item.version, 4001);
    eprintln!("4000 increments from 2 processes, {conflicts} conflicts retried");
}

/// Runs a write loop in a child, SIGKILLs it after at least `min_acks` acknowledged writes,
/// then checks the mesh.
async fn kill_mid_writes(min_acks: u64, artifact_size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    let mut child = worker(&["write-loop", &url, &artifact_size.to_string()]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    while (acked.len() as u64) < min_acks {
        let line = lines.next().expect("worker ended early").unwrap();
        acked.push(line.parse::<u64>().unwrap());
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Lines already written before the kill are acknowledged writes too.
    acked.extend(
        lines
            .map_while(|l| l.ok())
            .filter_map(|l| l.parse::<u64>().ok()),
    );
    let last = *acked.last().unwrap();

    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(db);

    let mesh = MeshClient::connect(&url).await.unwrap();
    for i in 0..=last {
        let item = mesh.kv().get(&format!("w:{i:06}")).await.unwrap();
        assert_eq!(
            item.map(|it| it.value),
            Some(json!({"i": i})),
            "acknowledged KV write {i} lost"
        );
        let artifact = mesh.artifacts().get(&format!("a/{i:06}")).await.unwrap();
        let artifact = artifact.unwrap_or_else(|| panic!("acknowledged artifact {i} lost"));
        assert!(
            artifact.data == content(i, artifact_size),
            "artifact {i} damaged"
        );
    }
    // Whatever else is visible is whole: no partial artifact under any key.
    let mut cursor = None;
    let mut listed = 0;
    loop {
        let page = mesh
            .artifacts()
            .list("a/", ListOptions::limit(1000).with_cursor(cursor))
            .await
            .unwrap();
        for meta in &page.items {
            let i: u64 = meta.key[2..].parse().unwrap();
            let data = mesh.artifacts().get(&meta.key).await.unwrap().unwrap().data;
            assert!(
                data == content(i, artifact_size),
                "partial artifact {}",
                meta.key
            );
        }
        listed += page.items.len();
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert!(
        listed as u64 > last && listed as u64 <= last + 2,
        "listed {listed}, last ack {last}"
    );
    // Blobs of a put cut short were collected on reopen: one blob file per artifact.
    let blobs = count_files(&dir.path().join("artifacts").join("blobs"));
    assert_eq!(blobs, listed, "orphaned blob files after the crash");
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { count_files(&p) } else { 1 })
        .sum()
}

#[tokio::test]
async fn sigkill_during_writes_keeps_every_acknowledged_write() {
    // Kill at several points: early, later, with small and large artifacts.
    for (acks, size) in [(5, 256 * 1024), (60, 64 * 1024), (150, 4096)] {
        kill_mid_writes(acks, size).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
