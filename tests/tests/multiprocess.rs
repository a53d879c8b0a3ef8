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

/// Kills (SIGKILL) a process running a workflow, once during a Wait and once during a Task, and
/// lets this process adopt and finish each execution: the history stays unbroken and no Task
/// that had reported success runs again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workflow_process_is_resumed_by_another_during_a_wait_and_during_a_task() {
    for kill_in in ["WaitStateEntered", "TaskStarted:Slow"] {
        let dir = tempfile::tempdir().unwrap();
        let url = url(dir.path());
        let mut child = worker(&["crash-workflow", &url]);
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "started");
        let mesh = MeshClient::connect(&url).await.unwrap();
        let arn = "arn:aws:states:local:000000000000:execution:crash:victim";
        // Wait until the child is inside the Wait, or inside the Slow task.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let history = mesh.workflows().history(arn).await.unwrap();
            let reached = history.iter().any(|e| match kill_in.split_once(':') {
                None => e.event_type == kill_in,
                Some((t, _)) => {
                    e.event_type == t
                        && history.iter().any(|x| {
                            x.event_type == "TaskStateEntered" && x.details["name"] == "Slow"
                        })
                }
            });
            if reached {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the child never reached {kill_in}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // This process serves the same Tasks (its Slow is quick) and adopts the execution once
        // the dead process's lease has run out.
        agent_mesh_tests::register_crash_handlers(&mesh, 0);
        let done = mesh
            .workflows()
            .wait(arn, Some(Duration::from_secs(30)))
            .await
            .unwrap();
        assert_eq!(done.status.as_str(), "SUCCEEDED", "{kill_in}: {done:?}");
        let runs = |state: &'static str| {
            let mesh = mesh.clone();
            async move {
                mesh.kv()
                    .get(&format!("runs:{state}"))
                    .await
                    .unwrap()
                    .map(|i| i.value)
            }
        };
        assert_eq!(
            runs("Count1").await,
            Some(json!(1)),
            "{kill_in}: Count1 had succeeded before the kill and must not run again"
        );
        assert_eq!(runs("Count2").await, Some(json!(1)), "{kill_in}");
        let slow_runs = if kill_in == "WaitStateEntered" { 1 } else { 2 };
        assert_eq!(
            runs("Slow").await,
            Some(json!(slow_runs)),
            "{kill_in}: Slow runs again only if it was killed mid-run"
        );
        let history = mesh.workflows().history(arn).await.unwrap();
        let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            (1..=history.len() as u64).collect::<Vec<_>>(),
            "{kill_in}: history ids are unbroken"
        );
        let succeeded: Vec<&str> = history
            .iter()
            .filter(|e| e.event_type == "TaskStateExited")
            .map(|e| e.details["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            succeeded,
            vec!["Count1", "Slow", "Count2"],
            "{kill_in}: each Task exited once"
        );
        assert_eq!(history.last().unwrap().event_type, "ExecutionSucceeded");
    }
}

/// Three processes append to the timeline while this one tails it oldest-first, each page
/// starting after the last id seen: ids follow commit order, so the tail sees every entry exactly
/// once (with ids from each writer's clock, an entry committed after a newer one would be
/// skipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_tail_sees_every_entry_while_processes_append() {
    const PER_WRITER: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    let mesh = MeshClient::connect(&url).await.unwrap();
    let writers: Vec<Child> = (0..3)
        .map(|w| {
            worker(&[
                "timeline-append",
                &url,
                &format!("tail/w{w}"),
                &PER_WRITER.to_string(),
            ])
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut last: Option<String> = None;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < 3 * PER_WRITER && std::time::Instant::now() < deadline {
        let page = mesh
            .timeline()
            .get(
                "tail/",
                agent_mesh::TimelineQuery::limit(50)
                    .with_order(agent_mesh::Order::OldestFirst)
                    .with_cursor(last.clone()),
            )
            .await
            .unwrap();
        for entry in &page.items {
            assert!(seen.insert(entry.id.clone()), "{} seen twice", entry.id);
        }
        match page.items.last() {
            Some(entry) => last = Some(entry.id.clone()),
            None => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    }
    for writer in writers {
        assert!(writer.wait_with_output().unwrap().status.success());
    }
    assert_eq!(
        seen.len(),
        3 * PER_WRITER,
        "the tail missed entries committed behind it"
    );
}

/// Runs `mesh-worker large-write-loop` to completion (`writes` writes, then waits for
/// collection) with `env`; returns its output.
fn large_writes(url: &str, writes: u64, env: &[(&str, &str)]) -> String {
    let out = Command::new(WORKER)
        .args([
            "large-write-loop",
            url,
            &LARGE.to_string(),
            &writes.to_string(),
        ])
        .envs(env.iter().copied())
        .output()
        .expect("run mesh-worker");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The size of the crash tests' large values.
const LARGE: usize = 2_000_000;

/// Checks the large value `doc` after `kills` kills: whole, at version `acked` or the one in
/// flight; returns its version and the number of bodies (each kill may leave one garbage body,
/// which the grace period keeps).
async fn check_large_doc(url: &str, acked: u64, kills: usize) -> (u64, usize) {
    let mesh = MeshClient::connect(url).await.unwrap();
    let item = mesh
        .kv()
        .get("doc")
        .await
        .unwrap()
        .expect("the value is readable");
    let version = item.version;
    assert!(
        version == acked || version == acked + 1,
        "version {version}, last acknowledged {acked}"
    );
    assert_eq!(
        item.value,
        agent_mesh_tests::large_doc(version, LARGE),
        "the value is whole"
    );
    let bodies = mesh
        .artifacts()
        .list(agent_mesh_tests::BODIES, ListOptions::limit(100))
        .await
        .unwrap()
        .items
        .len();
    assert!(
        (1..=1 + kills).contains(&bodies),
        "{bodies} bodies after {kills} kills"
    );
    (version, bodies)
}

/// SIGKILL between a large value's two writes (its body stored, its pointer not yet: the
/// failpoint holds the writer there), then at arbitrary points of further writes: the value
/// stays whole at the last acknowledged version, at most one body is garbage, and a later
/// writer collects it.
#[tokio::test]
async fn sigkill_between_a_large_values_two_writes_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(dir.path());
    assert_eq!(large_writes(&url, 2, &[]), "1\n2\nbodies 1\n");
    let mut child = Command::new(WORKER)
        .args(["large-write-loop", &url, &LARGE.to_string(), "0"])
        .env("AGENT_MESH_FAILPOINT", "kv.set:body-stored")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mesh-worker");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = stderr.next().expect("the worker ended early").unwrap();
    assert!(line.ends_with("paused"), "{line}");
    child.kill().unwrap(); // SIGKILL on Unix, with version 3's body stored and no pointer
    child.wait().unwrap();
    assert_eq!(
        check_large_doc(&url, 2, 1).await,
        (2, 2),
        "version 2 and one orphan"
    );

    for (round, pause_ms) in [0u64, 3, 9, 17].into_iter().enumerate() {
        let mut child = worker(&["large-write-loop", &url, &LARGE.to_string(), "0"]);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: u64 = lines
            .next()
            .expect("worker ended early")
            .unwrap()
            .parse()
            .unwrap();
        std::thread::sleep(Duration::from_millis(pause_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let acked = lines
            .map_while(|l| l.ok())
            .filter_map(|l| l.parse::<u64>().ok())
            .fold(first, u64::max);
        let (version, bodies) = check_large_doc(&url, acked, round + 2).await;
        eprintln!("round {round}: acknowledged {acked}, stored {version}, {bodies} bodies");
    }
    // A writer with no grace period collects the garbage the kills left.
    let out = large_writes(&url, 1, &[("AGENT_MESH_KV_BODY_GRACE_SECONDS", "0")]);
    assert!(out.ends_with("bodies 1\n"), "{out}");
    let written: u64 = out.lines().next().unwrap().parse().unwrap();
    assert_eq!(check_large_doc(&url, written, 0).await, (written, 1));
}
