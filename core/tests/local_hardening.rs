//! Local-backend hardening: a mesh is private to the user running it (directories agent-mesh
//! creates are 0700, files 0600, whatever the umask), and deleting a durable subscription lets
//! the retention sweep prune the events its position held back.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use agent_mesh::{Event, MeshClient, PutOptions, SetOptions, SubscribeOptions};
use serde_json::json;

/// Set in the child process the umask test starts: the directory to create the mesh in.
const CHILD_DIR: &str = "AGENT_MESH_TEST_PRIVATE_CHILD_DIR";

fn url(dir: &Path) -> String {
    format!("local://{}", dir.display())
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every directory and file under `root` (itself included), with its mode.
fn walk(root: &Path, out: &mut Vec<(PathBuf, u32)>) {
    out.push((root.to_owned(), mode(root)));
    if root.is_dir() {
        for entry in std::fs::read_dir(root).unwrap() {
            walk(&entry.unwrap().path(), out);
        }
    }
}

/// Runs `mesh_files_are_private_whatever_the_umask` again in a child process whose umask is
/// 000 (the umask is process-wide, so it is not changed under the other tests).
fn run_child_with_umask_000(dir: &Path) {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "mesh_files_are_private_whatever_the_umask",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .status()
        .unwrap();
    assert!(status.success(), "the child process failed: {status}");
}

/// In the child: opens a mesh in a new directory, writes to every domain and checks, while
/// the mesh is open (its -wal and -shm files exist), that everything it created is private.
async fn private_files_in_child(root: &Path) {
    let probe = root.join("probe");
    std::fs::File::create(&probe).unwrap();
    assert_eq!(mode(&probe), 0o666, "the umask of this process is 000");
    std::fs::remove_file(&probe).unwrap();
    let top = root.join("new");
    let dir = top.join("parent").join("mesh");
    let mesh = MeshClient::connect(&url(&dir)).await.unwrap();
    mesh.kv()
        .set("k", json!(1), SetOptions::default())
        .await
        .unwrap();
    for content in [&b"one"[..], &b"two"[..]] {
        mesh.artifacts()
            .put("docs/a.bin", content.to_vec(), PutOptions::default())
            .await
            .unwrap();
    }
    mesh.events()
        .send(Event::new("Private", json!({})))
        .await
        .unwrap();
    mesh.timeline().append("t/1", json!({})).await.unwrap();
    let copy = root.join("copy.bin");
    mesh.artifacts()
        .get_to_file("docs/a.bin", &copy)
        .await
        .unwrap();
    assert_eq!(
        mode(&copy),
        0o600,
        "a new get_to_file destination is private"
    );
    for name in ["mesh.db", "mesh.db-wal", "mesh.db-shm"] {
        assert!(
            dir.join(name).is_file(),
            "{name} exists while the mesh is open"
        );
    }
    let mut entries = Vec::new();
    walk(&top, &mut entries);
    assert!(entries.len() >= 9, "{entries:?}");
    for (path, mode) in entries {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, expected, "{} is {mode:o}", path.display());
    }
}

#[tokio::test]
async fn mesh_files_are_private_whatever_the_umask() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        return private_files_in_child(Path::new(&dir)).await;
    }
    let root = tempfile::tempdir().unwrap();
    run_child_with_umask_000(root.path());
    // After the child closed the mesh: what is left is still private.
    let mut entries = Vec::new();
    walk(&root.path().join("new"), &mut entries);
    for (path, mode) in entries {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, expected, "{} is {mode:o}", path.display());
    }
}

#[tokio::test]
async fn an_existing_directory_and_replaced_files_keep_their_modes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    let mesh = MeshClient::connect(&url(&dir)).await.unwrap();
    mesh.artifacts()
        .put("a", b"new".to_vec(), PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        mode(&dir),
        0o750,
        "a directory agent-mesh did not create is left as it is"
    );
    assert_eq!(mode(&dir.join("mesh.db")), 0o600);
    assert_eq!(mode(&dir.join("artifacts")), 0o700);
    // get_to_file over an existing file keeps that file's mode.
    let out = root.path().join("out.txt");
    std::fs::write(&out, b"old").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    mesh.artifacts().get_to_file("a", &out).await.unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"new");
    assert_eq!(mode(&out), 0o640);
}

#[tokio::test]
async fn deleting_a_subscription_lets_retention_prune_the_events_it_pinned() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
    let events = mesh.events();
    events
        .subscribe_with(&json!({"source": ["x"]}), SubscribeOptions::named("pin"))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    for i in 0..3 {
        events
            .send(Event::new("Old", json!({"i": i})))
            .await
            .unwrap();
    }
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    // Retention counts from when an event was stored: make these 8 days old in the log itself.
    let eight_days_ago = (chrono::Utc::now() - chrono::Duration::days(8)).timestamp_millis();
    db.execute(
        "UPDATE events SET time = ?1 WHERE envelope LIKE '%\"Old\"%'",
        [eight_days_ago],
    )
    .unwrap();
    let count = || -> i64 {
        db.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    };
    events.send(Event::new("New", json!({}))).await.unwrap();
    assert_eq!(
        count(),
        4,
        "the subscription's position keeps the old events"
    );
    assert!(events.delete_subscription("pin").await.unwrap());
    events.send(Event::new("New", json!({}))).await.unwrap();
    assert_eq!(count(), 2, "the old events were pruned by the next send");
}
