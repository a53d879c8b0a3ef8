//! Input guards of the behaviour suite: what AWS would refuse or mangle (control characters in
//! artifact keys and HTTP headers, metadata names colliding once S3 lower-cases them, a
//! `batch_set` over DynamoDB's 4 MB transaction limit) is refused on every backend, before
//! anything is written.

use agent_mesh::{ErrorKind, ListOptions, PutOptions, SetOptions};
use serde_json::json;

/// Artifact keys with a control character in each position class.
const CONTROL_KEYS: [&str; 7] = [
    "a\u{1}b",
    "reports/line\nbreak.txt",
    "tab\there",
    "cr\r",
    "del\u{7f}x",
    "\u{1f}",
    "nul\0",
];

pub async fn artifact_keys_with_control_characters_are_invalid(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"content").unwrap();
    for key in CONTROL_KEYS {
        let escaped = format!("{key:?}");
        let e = store
            .put(key, b"x".to_vec(), PutOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{escaped}: {e}");
        assert!(
            e.message.starts_with(&format!("artifacts.put {escaped}:")),
            "names the operation and the escaped key: {e}"
        );
        assert!(
            !e.message.contains(key),
            "the raw control character is not in the message: {e}"
        );
        assert!(e.message.contains("remove"), "names the fix: {e}");
        let e = store
            .put_file(key, file.path(), PutOptions::default())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "put_file {escaped}: {e}");
        for e in [
            store.get(key).await.map(drop).unwrap_err(),
            store.head(key).await.map(drop).unwrap_err(),
            store.delete(key).await.map(drop).unwrap_err(),
            store
                .get_to_file(key, file.path().with_extension("out"))
                .await
                .map(drop)
                .unwrap_err(),
        ] {
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{escaped}: {e}");
        }
    }
    let page = store.list("", ListOptions::default()).await.unwrap();
    assert!(
        page.items.is_empty(),
        "nothing was written: {:?}",
        page.items
    );
}

/// KV keys keep accepting control characters other than NUL: DynamoDB and SQLite store them
/// alike, so the backends agree without a rule (see the README).
pub async fn kv_keys_may_hold_control_characters(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let key = "ctl:\u{1}tab\there\nline\u{7f}";
    kv.set(key, json!(1), SetOptions::default()).await.unwrap();
    assert_eq!(kv.get(key).await.unwrap().unwrap().value, json!(1));
    let page = kv.list("ctl:", ListOptions::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].key, key);
    assert!(kv.delete(key).await.unwrap());
    let e = kv
        .set("nul\0key", json!(1), SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
}

pub async fn metadata_and_content_type_are_header_safe(mesh: &crate::TestMesh) {
    let store = mesh.artifacts();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"content").unwrap();
    let collide = PutOptions::default()
        .with_metadata("Owner", "a")
        .with_metadata("owner", "b");
    let bad_options = [
        (collide, "differ only in case"),
        (
            PutOptions::default()
                .with_metadata("OWNER", "a")
                .with_metadata("Owner", "b"),
            "differ only in case",
        ),
        (
            PutOptions::default().with_metadata("note", "a\r\nX-Injected: 1"),
            "control character U+000D",
        ),
        (
            PutOptions::default().with_metadata("note", "tab\there"),
            "control character U+0009",
        ),
        (
            PutOptions::default().with_metadata("note", "nul\0"),
            "control character U+0000",
        ),
        (
            PutOptions::default().with_metadata("bad\nname", "v"),
            "metadata name",
        ),
        (
            PutOptions::content_type("text/plain\r\nX-Injected: 1"),
            "content_type",
        ),
        (PutOptions::content_type("text/plain\n"), "content_type"),
        (PutOptions::content_type("text/\u{7f}plain"), "content_type"),
    ];
    for (options, text) in bad_options {
        let shown = format!("{options:?}");
        let e = store
            .put("hdr/a", b"x".to_vec(), options.clone())
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{shown}: {e}");
        assert!(e.message.contains("artifacts.put \"hdr/a\""), "{e}");
        assert!(e.message.contains(text), "{shown}: {e}");
        let e = store
            .put_file("hdr/a", file.path(), options)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "put_file {shown}: {e}");
    }
    assert!(
        store.head("hdr/a").await.unwrap().is_none(),
        "nothing written"
    );
    // Distinct names, printable values and a plain content type are kept.
    let ok = PutOptions::content_type("text/plain; charset=utf-8")
        .with_metadata("Owner", "a b")
        .with_metadata("team", "x");
    let meta = store.put("hdr/a", b"x".to_vec(), ok).await.unwrap();
    assert_eq!(meta.metadata.get("owner").map(String::as_str), Some("a b"));
    assert_eq!(meta.content_type, "text/plain; charset=utf-8");
}

/// A value string of `len` characters, so that `key` + JSON value + 200 bytes is `len + 207`
/// for a 5-byte key.
fn filler(len: usize) -> serde_json::Value {
    json!("v".repeat(len))
}

pub async fn batch_set_over_the_transaction_limit_is_too_large(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    // Ten items of exactly 400,000 bytes (key 5 + value 399,795 + 200): 4,000,000 bytes.
    let full: Vec<(String, serde_json::Value)> = (0..10)
        .map(|i| (format!("big-{i}"), filler(399_793)))
        .collect();
    let mut over = full.clone();
    over.push(("x".into(), json!(0)));
    let e = kv
        .batch_set(over.clone(), SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    assert!(
        e.message.starts_with("kv.batch_set \"big-0\":")
            && e.message.contains("4000202 bytes")
            && e.message.contains("at most 4000000 bytes")
            && e.message.contains("split it"),
        "names the operation, the size, the limit and the fix: {e}"
    );
    let keys: Vec<&str> = over.iter().map(|(k, _)| k.as_str()).collect();
    let got = kv.batch_get(&keys).await.unwrap();
    assert!(got.iter().all(Option::is_none), "nothing was written");
    // Exactly at the limit: accepted.
    kv.batch_set(full, SetOptions::default()).await.unwrap();
    let got = kv.batch_get(&keys[..10]).await.unwrap();
    assert!(got.iter().all(Option::is_some));
}
