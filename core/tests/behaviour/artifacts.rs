//! Artifact cases of the behaviour suite.

use std::collections::BTreeSet;
use std::io::Write;

use agent_mesh::{ErrorKind, ListOptions, PutOptions};

/// Checks that `a` and `b` describe the same stored artifact. `last_modified` is compared to
/// within 2 s: a put reports the time it sent the content, S3 records its own (to the second).
fn assert_same_artifact(a: &agent_mesh::ArtifactMeta, b: &agent_mesh::ArtifactMeta) {
    assert_eq!(
        (&a.key, a.size, &a.content_type, &a.metadata, &a.etag),
        (&b.key, b.size, &b.content_type, &b.metadata, &b.etag)
    );
    let skew = (a.last_modified - b.last_modified).num_milliseconds().abs();
    assert!(skew <= 2000, "last_modified differs by {skew} ms");
}

/// Deterministic content of `len` bytes, different for each `seed`.
fn content(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub async fn put_get_head_roundtrip(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let data = content(1, 10_000);
    let options = PutOptions::content_type("application/pdf")
        .with_metadata("Author", "john")
        .with_metadata("pages", "3");
    let meta = store
        .put("conversations/2024/resume.pdf", data.clone(), options)
        .await
        .unwrap();
    assert_eq!(meta.size, 10_000);
    assert_eq!(meta.content_type, "application/pdf");
    assert_eq!(
        meta.metadata.get("author").map(String::as_str),
        Some("john"),
        "names are lower-cased"
    );
    let got = store
        .get("conversations/2024/resume.pdf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.data.as_ref(), data.as_slice());
    assert_same_artifact(&got.meta, &meta);
    let head = store
        .head("conversations/2024/resume.pdf")
        .await
        .unwrap()
        .unwrap();
    assert_same_artifact(&head, &meta);
    // Defaults: octet-stream, no metadata; empty artifacts are fine.
    let plain = store
        .put("empty", Vec::new(), PutOptions::default())
        .await
        .unwrap();
    assert_eq!(plain.content_type, "application/octet-stream");
    assert!(plain.metadata.is_empty());
    assert_eq!(store.get("empty").await.unwrap().unwrap().data.len(), 0);
}

pub async fn replace_changes_etag_and_content(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let first = store
        .put(
            "doc",
            content(1, 100),
            PutOptions::content_type("text/plain"),
        )
        .await
        .unwrap();
    let second = store
        .put("doc", content(2, 50), PutOptions::default())
        .await
        .unwrap();
    assert_ne!(first.etag, second.etag);
    let got = store.get("doc").await.unwrap().unwrap();
    assert_eq!(got.data.as_ref(), content(2, 50).as_slice());
    assert_eq!(
        got.meta.content_type, "application/octet-stream",
        "metadata is replaced with the content"
    );
    assert_eq!(got.meta.etag, second.etag);
}

pub async fn put_file_and_get_to_file_stream(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let data = content(7, 5 * 1024 * 1024 + 3);
    std::fs::File::create(&source)
        .unwrap()
        .write_all(&data)
        .unwrap();
    let meta = store
        .put_file(
            "big/file.bin",
            &source,
            PutOptions::content_type("application/x-test"),
        )
        .await
        .unwrap();
    assert_eq!(meta.size, data.len() as u64);
    let dest = dir.path().join("out").join("copy.bin");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(&dest, b"old contents are replaced").unwrap();
    let got = store.get_to_file("big/file.bin", &dest).await.unwrap();
    assert_same_artifact(&got, &meta);
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "downloaded file differs"
    );
    // No temporary files are left beside the destination.
    let names: Vec<_> = std::fs::read_dir(dest.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["copy.bin"]);
    let err = store
        .put_file("x", dir.path().join("missing"), PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(err.message.contains("missing"), "{err}");
    let err = store
        .put_file("x", dir.path(), PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
}

pub async fn missing_artifacts(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    assert!(store.get("nope").await.unwrap().is_none());
    assert!(store.head("nope").await.unwrap().is_none());
    let dir = tempfile::tempdir().unwrap();
    let err = store
        .get_to_file("nope", dir.path().join("f"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message.contains("artifacts.get_to_file") && err.message.contains("\"nope\""),
        "{err}"
    );
    assert!(!dir.path().join("f").exists());
}

pub async fn list_pages_are_complete_and_disjoint(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let mut expected = BTreeSet::new();
    for i in 0..120 {
        let key = format!("reports/{:03}.txt", i);
        store
            .put(
                &key,
                format!("report {i}").into_bytes(),
                PutOptions::default(),
            )
            .await
            .unwrap();
        expected.insert(key);
    }
    store
        .put("reportsX", b"x".to_vec(), PutOptions::default())
        .await
        .unwrap();
    for limit in [1, 13, 120, 1000] {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .list("reports/", ListOptions::limit(limit).with_cursor(cursor))
                .await
                .unwrap();
            assert!(page.items.len() <= limit);
            keys.extend(page.items.iter().map(|m| m.key.clone()));
            if page.items.iter().any(|m| m.size == 0) {
                panic!("listing reports sizes");
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(keys.len(), 120, "limit {limit}");
        assert_eq!(keys.iter().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}

pub async fn delete_removes(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    store
        .put("gone", b"bye".to_vec(), PutOptions::default())
        .await
        .unwrap();
    assert!(store.delete("gone").await.unwrap());
    assert!(!store.delete("gone").await.unwrap());
    assert!(store.get("gone").await.unwrap().is_none());
    assert!(
        store
            .list("gone", ListOptions::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

pub async fn keys_cannot_escape_the_store(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("escaped").display().to_string();
    for key in [
        "../escaped",
        "a/../../escaped",
        absolute.as_str(),
        "./x",
        "a//b",
        "a\\..\\b",
        "",
        "x\0y",
    ] {
        let err = store
            .put(key, b"no".to_vec(), PutOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{key:?}");
        assert!(err.message.contains("artifacts.put"), "{err}");
        assert_eq!(
            store.get(key).await.unwrap_err().kind,
            ErrorKind::InvalidInput,
            "{key:?}"
        );
        assert_eq!(
            store.head(key).await.unwrap_err().kind,
            ErrorKind::InvalidInput,
            "{key:?}"
        );
        assert_eq!(
            store.delete(key).await.unwrap_err().kind,
            ErrorKind::InvalidInput,
            "{key:?}"
        );
    }
    assert!(!outside.path().join("escaped").exists());
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
}

pub async fn metadata_is_validated(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let big = PutOptions::default().with_metadata("note", "n".repeat(2100));
    let err = store.put("m", b"x".to_vec(), big).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge);
    let bad = PutOptions::default().with_metadata("bad name", "v");
    assert_eq!(
        store.put("m", b"x".to_vec(), bad).await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    let ctl = PutOptions::default().with_metadata("ok", "line\nbreak");
    assert_eq!(
        store.put("m", b"x".to_vec(), ctl).await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );
    assert!(store.head("m").await.unwrap().is_none());
}

pub async fn readers_never_see_a_mix_during_replacement(mesh: &crate::TestMesh) {
    let store = mesh.artifacts().clone();
    let a = content(1, 64 * 1024);
    let b = content(2, 96 * 1024);
    store
        .put("swap", a.clone(), PutOptions::content_type("a"))
        .await
        .unwrap();
    let writer = {
        let (store, a, b) = (store.clone(), a.clone(), b.clone());
        tokio::spawn(async move {
            for i in 0..60 {
                let (data, ct) = if i % 2 == 0 {
                    (b.clone(), "b")
                } else {
                    (a.clone(), "a")
                };
                store
                    .put("swap", data, PutOptions::content_type(ct))
                    .await
                    .unwrap();
            }
        })
    };
    let mut reads = 0;
    while !writer.is_finished() || reads < 20 {
        let got = store
            .get("swap")
            .await
            .unwrap()
            .expect("never missing during replacement");
        let expected = if got.meta.content_type == "a" { &a } else { &b };
        assert!(
            got.data.as_ref() == expected.as_slice(),
            "content does not match its metadata"
        );
        assert_eq!(got.meta.size as usize, got.data.len());
        reads += 1;
    }
    writer.await.unwrap();
}
