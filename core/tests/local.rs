//! Behaviour particular to the local backend: persistence, files on disk, crash leftovers,
//! backend selection from the environment.

use agent_mesh::{ErrorKind, MeshClient, MeshConfig, PutOptions, SetOptions, SyncMode};
use serde_json::json;

fn url(dir: &std::path::Path) -> String {
    format!("local://{}", dir.display())
}

#[tokio::test]
async fn data_survives_reopen_and_lives_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
        mesh.kv()
            .set("k", json!({"a": 1}), SetOptions::ttl_hours(1))
            .await
            .unwrap();
        mesh.artifacts()
            .put(
                "docs/a.txt",
                b"hello".to_vec(),
                PutOptions::content_type("text/plain"),
            )
            .await
            .unwrap();
        mesh.provision().await.unwrap();
    }
    assert!(dir.path().join("mesh.db").is_file());
    let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
    let item = mesh.kv().get("k").await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!({"a": 1}), 1));
    let art = mesh.artifacts().get("docs/a.txt").await.unwrap().unwrap();
    assert_eq!(
        (art.data.as_ref(), art.meta.content_type.as_str()),
        (&b"hello"[..], "text/plain")
    );
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    let mode: String = db
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_symlink_planted_in_the_store_cannot_redirect_writes() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("artifacts_link")).unwrap();
    let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("artifacts").join("evil")).unwrap();
    // Keys name rows, not paths: content goes to blob files with random names.
    mesh.artifacts()
        .put("evil/x", b"data".to_vec(), PutOptions::default())
        .await
        .unwrap();
    mesh.artifacts()
        .put("artifacts_link/x", b"data".to_vec(), PutOptions::default())
        .await
        .unwrap();
    assert_eq!(
        std::fs::read_dir(outside.path()).unwrap().count(),
        0,
        "a file was written outside the mesh"
    );
    assert_eq!(
        mesh.artifacts()
            .get("evil/x")
            .await
            .unwrap()
            .unwrap()
            .data
            .as_ref(),
        b"data"
    );
}

#[tokio::test]
async fn blobs_of_a_put_cut_short_are_collected_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
    mesh.artifacts()
        .put("kept", b"kept".to_vec(), PutOptions::default())
        .await
        .unwrap();
    drop(mesh);
    // What a writer killed between writing its blob and committing leaves behind.
    let orphan = dir.path().join("artifacts/blobs/ab/ab0123456789");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"half").unwrap();
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    db.execute(
        "INSERT INTO artifact_garbage (blob, since) VALUES ('ab0123456789', 0)",
        [],
    )
    .unwrap();
    drop(db);
    let mesh = MeshClient::connect(&url(dir.path())).await.unwrap();
    assert!(!orphan.exists(), "orphaned blob not collected");
    assert_eq!(
        mesh.artifacts()
            .get("kept")
            .await
            .unwrap()
            .unwrap()
            .data
            .as_ref(),
        b"kept"
    );
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    let left: i64 = db
        .query_row("SELECT COUNT(*) FROM artifact_garbage", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_blob_still_being_written_is_not_collected() {
    let dir = tempfile::tempdir().unwrap();
    MeshClient::connect(&url(dir.path())).await.unwrap();
    let busy = dir.path().join("artifacts/blobs/cd/cd0123456789");
    std::fs::create_dir_all(busy.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&busy).unwrap();
    file.lock().unwrap(); // a live writer holds this lock
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    db.execute(
        "INSERT INTO artifact_garbage (blob, since) VALUES ('cd0123456789', 0)",
        [],
    )
    .unwrap();
    // Locks are per open file description, so a second open in this process sees the lock.
    MeshClient::connect(&url(dir.path())).await.unwrap();
    assert!(busy.exists(), "a blob in progress was deleted");
}

#[tokio::test]
async fn unusable_directories_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = MeshClient::connect(&url(&file)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(
        err.message.contains("a-file") && err.message.contains("AGENT_MESH_DIR"),
        "{err}"
    );
    // A mesh written by a newer schema is refused, not misread.
    let newer = dir.path().join("newer");
    MeshClient::connect(&url(&newer)).await.unwrap();
    let db = rusqlite::Connection::open(newer.join("mesh.db")).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    let err = MeshClient::connect(&url(&newer)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("newer agent-mesh"), "{err}");
}

/// Environment variables are process-wide, so every check that sets them runs in this one test.
#[tokio::test]
async fn open_follows_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = std::env::current_dir().unwrap();
    // SAFETY: this is the only test in this binary touching the environment or the cwd.
    unsafe {
        std::env::remove_var("AGENT_MESH_URL");
        std::env::remove_var("AGENT_MESH_DIR");
    }
    std::env::set_current_dir(dir.path()).unwrap();
    let default = MeshClient::open().await.unwrap();
    std::env::set_current_dir(cwd).unwrap();
    assert_eq!(
        default.config(),
        &MeshConfig::Local {
            dir: ".agent-mesh".into(),
            sync: SyncMode::Normal
        }
    );
    assert!(dir.path().join(".agent-mesh/mesh.db").is_file());

    let custom = dir.path().join("custom");
    unsafe { std::env::set_var("AGENT_MESH_DIR", &custom) };
    MeshClient::open()
        .await
        .unwrap()
        .kv()
        .set("k", json!(1), SetOptions::default())
        .await
        .unwrap();
    assert!(custom.join("mesh.db").is_file());

    unsafe { std::env::set_var("AGENT_MESH_URL", "memory://env-test") };
    let mem = MeshClient::open().await.unwrap();
    assert_eq!(
        mem.config(),
        &MeshConfig::Memory {
            name: Some("env-test".into())
        }
    );
    assert_eq!(
        mem.kv().get("k").await.unwrap(),
        None,
        "AGENT_MESH_URL wins over AGENT_MESH_DIR"
    );

    unsafe { std::env::set_var("AGENT_MESH_URL", "ftp://nope") };
    let err = MeshClient::open().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("AGENT_MESH_URL"), "{err}");
    unsafe {
        std::env::remove_var("AGENT_MESH_URL");
        std::env::remove_var("AGENT_MESH_DIR");
    }
}

#[tokio::test]
async fn named_memory_meshes_are_shared_in_process() {
    let a = MeshClient::connect("memory://shared-test").await.unwrap();
    let b = MeshClient::connect("memory://shared-test").await.unwrap();
    let c = MeshClient::connect("memory://").await.unwrap();
    a.kv()
        .set("x", json!(1), SetOptions::default())
        .await
        .unwrap();
    assert!(b.kv().get("x").await.unwrap().is_some());
    assert!(c.kv().get("x").await.unwrap().is_none());
}
