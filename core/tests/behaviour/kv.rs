//! KV cases of the behaviour suite.

use std::collections::BTreeSet;
use std::time::Duration;

use agent_mesh::{ErrorKind, ListOptions, SetOptions};
use serde_json::{Value, json};

pub async fn set_get_roundtrip_all_json_types(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let values = [
        json!(null),
        json!(true),
        json!(42),
        json!(-1.5),
        json!("text with \"quotes\" and ünïcode"),
        json!([1, "two", {"three": 3}]),
        json!({"timezone": "PST", "nested": {"list": [1, 2], "empty": {}}}),
    ];
    for (i, value) in values.iter().enumerate() {
        let key = format!("roundtrip:{i}");
        let stored = kv
            .set(&key, value.clone(), SetOptions::default())
            .await
            .unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(&stored.value, value);
        let item = kv.get(&key).await.unwrap().expect("item just written");
        assert_eq!(&item.value, value, "{key}");
        assert_eq!(item.key, key);
        assert_eq!(item.version, 1);
        assert_eq!(item.created_at, item.updated_at);
        assert_eq!(item.expires_at, None);
        assert_eq!(item, stored);
    }
    assert_eq!(kv.get("roundtrip:missing").await.unwrap(), None);
}

pub async fn overwrite_bumps_version_and_keeps_created_at(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let first = kv
        .set("counter", json!(1), SetOptions::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = kv
        .set("counter", json!(2), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(second.version, 2);
    assert_eq!(second.created_at, first.created_at);
    assert!(second.updated_at > first.updated_at);
    let read = kv.get("counter").await.unwrap().unwrap();
    assert_eq!((read.value, read.version), (json!(2), 2));
}

pub async fn ttl_expiry_hides_items_everywhere(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let short = SetOptions::ttl(Duration::from_millis(400));
    kv.set("ttl:a", json!("a"), short.clone()).await.unwrap();
    kv.set("ttl:b", json!("b"), short).await.unwrap();
    kv.set("ttl:keep", json!("keep"), SetOptions::ttl_hours(1))
        .await
        .unwrap();
    assert!(kv.get("ttl:a").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        kv.get("ttl:a").await.unwrap(),
        None,
        "expired item returned by get"
    );
    let batch = kv.batch_get(&["ttl:a", "ttl:keep"]).await.unwrap();
    assert!(
        batch[0].is_none() && batch[1].is_some(),
        "batch_get: {batch:?}"
    );
    let page = kv.list("ttl:", ListOptions::default()).await.unwrap();
    let keys: Vec<_> = page.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["ttl:keep"]);
    // An expired item counts as absent: deleting it reports false, if_version fails,
    // if_absent succeeds and the re-created item starts again at version 1.
    assert!(!kv.delete("ttl:b").await.unwrap());
    let err = kv
        .set("ttl:a", json!(0), SetOptions::if_version(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    let again = kv
        .set("ttl:a", json!("again"), SetOptions::if_absent())
        .await
        .unwrap();
    assert_eq!(again.version, 1);
    assert_eq!(
        kv.get("ttl:a").await.unwrap().unwrap().value,
        json!("again")
    );
}

pub async fn ttl_constructors_set_expires_at(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let now = chrono::Utc::now();
    let hours = kv
        .set("ttl:h", json!(1), SetOptions::ttl_hours(720))
        .await
        .unwrap();
    let secs = kv
        .set("ttl:s", json!(1), SetOptions::ttl_seconds(90))
        .await
        .unwrap();
    let h = (hours.expires_at.unwrap() - now).num_seconds();
    let s = (secs.expires_at.unwrap() - now).num_seconds();
    assert!((720 * 3600 - 5..=720 * 3600 + 5).contains(&h), "{h}");
    assert!((85..=95).contains(&s), "{s}");
    assert_eq!(
        kv.get("ttl:h").await.unwrap().unwrap().expires_at,
        hours.expires_at
    );
    let err = kv
        .set("ttl:z", json!(1), SetOptions::ttl_seconds(0))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("TTL"), "{err}");
}

pub async fn if_version_conflicts_change_nothing(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    kv.set("cas", json!("v1"), SetOptions::default())
        .await
        .unwrap();
    let v2 = kv
        .set("cas", json!("v2"), SetOptions::if_version(1))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let err = kv
        .set("cas", json!("stale"), SetOptions::if_version(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(!err.retryable);
    assert!(
        err.message.contains("kv.set") && err.message.contains("\"cas\""),
        "{err}"
    );
    assert!(err.message.contains("current version is 2"), "{err}");
    let item = kv.get("cas").await.unwrap().unwrap();
    assert_eq!((item.value, item.version), (json!("v2"), 2));
    let err = kv
        .set("cas:none", json!(1), SetOptions::if_version(1))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(kv.get("cas:none").await.unwrap(), None);
}

pub async fn if_absent_creates_once(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    kv.set("once", json!("first"), SetOptions::if_absent())
        .await
        .unwrap();
    let err = kv
        .set("once", json!("second"), SetOptions::if_absent())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert_eq!(kv.get("once").await.unwrap().unwrap().value, json!("first"));
    let mut both = SetOptions::if_absent();
    both.if_version = Some(1);
    let err = kv.set("once", json!(3), both).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    // A deleted key can be created again with if_absent, starting at version 1.
    assert!(kv.delete("once").await.unwrap());
    let again = kv
        .set("once", json!("third"), SetOptions::if_absent())
        .await
        .unwrap();
    assert_eq!(again.version, 1);
}

pub async fn delete_reports_whether_live(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    kv.set("del", json!(1), SetOptions::default())
        .await
        .unwrap();
    assert!(kv.delete("del").await.unwrap());
    assert!(!kv.delete("del").await.unwrap());
    assert_eq!(kv.get("del").await.unwrap(), None);
    assert!(!kv.delete("never-written").await.unwrap());
}

/// Reads every page of `prefix` with `limit` items each; checks each page's size.
async fn list_all(mesh: &crate::TestMesh, prefix: &str, limit: usize) -> Vec<String> {
    let mut keys = Vec::new();
    let mut cursor = None;
    loop {
        let page = mesh
            .kv()
            .list(prefix, ListOptions::limit(limit).with_cursor(cursor))
            .await
            .unwrap();
        assert!(page.items.len() <= limit);
        if page.next_cursor.is_some() {
            assert_eq!(page.items.len(), limit, "a page before the last is full");
        }
        keys.extend(page.items.into_iter().map(|i| i.key));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return keys;
        }
    }
}

pub async fn list_pages_are_complete_and_disjoint(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let mut expected = BTreeSet::new();
    let entries: Vec<(String, Value)> = (0..250)
        .map(|i| (format!("page:{i:04}"), json!(i)))
        .collect();
    for chunk in entries.chunks(100) {
        kv.batch_set(chunk.to_vec(), SetOptions::default())
            .await
            .unwrap();
    }
    expected.extend(entries.iter().map(|(k, _)| k.clone()));
    kv.set("other:1", json!(1), SetOptions::default())
        .await
        .unwrap();
    for limit in [1, 7, 100, 250, 1000] {
        let keys = list_all(mesh, "page:", limit).await;
        assert_eq!(keys.len(), 250, "limit {limit}: a key was lost or repeated");
        let unique: BTreeSet<_> = keys.iter().cloned().collect();
        assert_eq!(unique, expected, "limit {limit}");
        assert!(
            keys.windows(2).all(|w| w[0] < w[1]),
            "limit {limit}: not ascending"
        );
    }
    // The default page is 100 items.
    let first = kv.list("page:", ListOptions::default()).await.unwrap();
    assert_eq!(first.items.len(), 100);
    assert!(first.next_cursor.is_some());
    // Items written after a cursor was issued are still found on later pages.
    let page = kv.list("page:", ListOptions::limit(10)).await.unwrap();
    kv.set("page:9999", json!("late"), SetOptions::default())
        .await
        .unwrap();
    let rest = kv
        .list(
            "page:",
            ListOptions::limit(1000).with_cursor(page.next_cursor),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.last().unwrap().key, "page:9999");
    assert_eq!(rest.items.len(), 241);
}

pub async fn list_respects_prefix_bounds(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    for key in [
        "use",
        "user",
        "user:",
        "user:1",
        "user:1:a",
        "user;",
        "user\u{10FFFF}",
        "usera",
        "ü:1",
        "ü;",
    ] {
        kv.set(key, json!(key), SetOptions::default())
            .await
            .unwrap();
    }
    let keys = |page: agent_mesh::Page<agent_mesh::KvItem>| -> Vec<String> {
        page.items.into_iter().map(|i| i.key).collect()
    };
    assert_eq!(
        keys(kv.list("user:", ListOptions::default()).await.unwrap()),
        ["user:", "user:1", "user:1:a"]
    );
    assert_eq!(
        keys(kv.list("user", ListOptions::default()).await.unwrap()),
        [
            "user",
            "user:",
            "user:1",
            "user:1:a",
            "user;",
            "usera",
            "user\u{10FFFF}"
        ]
    );
    assert_eq!(
        keys(kv.list("ü", ListOptions::default()).await.unwrap()),
        ["ü:1", "ü;"]
    );
    assert_eq!(
        keys(kv.list("nothing", ListOptions::default()).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        kv.list("", ListOptions::default())
            .await
            .unwrap()
            .items
            .len(),
        10
    );
}

pub async fn list_options_are_validated(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let err = kv.list("p", ListOptions::limit(0)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("kv.list"), "{err}");
    let err = kv
        .list(
            "p",
            ListOptions::default().with_cursor(Some("not a cursor!".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    // Oversized limits are clamped to 1000, like S3's MaxKeys.
    let entries: Vec<(String, Value)> = (0..1001)
        .map(|i| (format!("clamp:{i:04}"), json!(i)))
        .collect();
    for chunk in entries.chunks(100) {
        kv.batch_set(chunk.to_vec(), SetOptions::default())
            .await
            .unwrap();
    }
    let page = kv.list("clamp:", ListOptions::limit(5000)).await.unwrap();
    assert_eq!(page.items.len(), 1000);
    assert!(page.next_cursor.is_some());
}

pub async fn batch_get_and_set(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let entries: Vec<(String, Value)> = (0..50)
        .map(|i| (format!("batch:{i}"), json!({"n": i})))
        .collect();
    kv.batch_set(entries, SetOptions::ttl_hours(1))
        .await
        .unwrap();
    let got = kv
        .batch_get(&["batch:7", "batch:missing", "batch:0", "batch:7"])
        .await
        .unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].as_ref().unwrap().value, json!({"n": 7}));
    assert!(got[1].is_none());
    assert_eq!(got[2].as_ref().unwrap().value, json!({"n": 0}));
    assert!(got[0].as_ref().unwrap().expires_at.is_some());
    assert_eq!(got[3], got[0]);
    // Batches bump versions like single writes.
    kv.batch_set(
        vec![("batch:7".into(), json!("new"))],
        SetOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(kv.get("batch:7").await.unwrap().unwrap().version, 2);
    assert_eq!(kv.batch_get(&[]).await.unwrap(), vec![]);
    kv.batch_set(vec![], SetOptions::default()).await.unwrap();
}

pub async fn batch_set_rejects_bad_batches_whole(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let too_many: Vec<(String, Value)> = (0..101).map(|i| (format!("big:{i}"), json!(i))).collect();
    let err = kv
        .batch_set(too_many, SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("at most 100"), "{err}");
    let dup = vec![("d".to_owned(), json!(1)), ("d".to_owned(), json!(2))];
    assert_eq!(
        kv.batch_set(dup, SetOptions::default())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
    let cond = vec![("c".to_owned(), json!(1))];
    assert_eq!(
        kv.batch_set(cond, SetOptions::if_absent())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
    // One bad entry rejects the whole batch: nothing is written.
    let mixed = vec![
        ("mixed:ok".to_owned(), json!(1)),
        (
            "mixed:big".to_owned(),
            json!("x".repeat(agent_mesh::unstable::validate::MAX_KV_VALUE_BYTES)),
        ),
    ];
    assert_eq!(
        kv.batch_set(mixed, SetOptions::default())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::TooLarge
    );
    assert_eq!(kv.get("mixed:ok").await.unwrap(), None);
    for key in ["big:0", "d", "c"] {
        assert_eq!(kv.get(key).await.unwrap(), None, "{key}");
    }
}

pub async fn bad_keys_are_invalid_input(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let long = "k".repeat(1025);
    for key in ["", long.as_str(), "nul\0key"] {
        let err = kv
            .set(key, json!(1), SetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{key:?}");
        assert!(err.message.contains("kv.set"), "{err}");
        assert_eq!(kv.get(key).await.unwrap_err().kind, ErrorKind::InvalidInput);
        assert_eq!(
            kv.delete(key).await.unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            kv.batch_get(&[key]).await.unwrap_err().kind,
            ErrorKind::InvalidInput
        );
    }
    let err = kv.get(&long).await.unwrap_err();
    assert!(
        err.message.contains("1025 bytes") && err.message.contains("1024"),
        "{err}"
    );
    // The limit counts bytes: 1024 bytes pass, 512 two-byte characters pass, 513 do not.
    let max = "k".repeat(1024);
    kv.set(&max, json!("max"), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(kv.get(&max).await.unwrap().unwrap().value, json!("max"));
    kv.set(&"é".repeat(512), json!(1), SetOptions::default())
        .await
        .unwrap();
    assert!(
        kv.set(&"é".repeat(513), json!(1), SetOptions::default())
            .await
            .is_err()
    );
    for key in ["with space", "../../etc/passwd", "emoji:🚀", "tab\tkey"] {
        kv.set(key, json!(key), SetOptions::default())
            .await
            .unwrap();
        assert_eq!(kv.get(key).await.unwrap().unwrap().value, json!(key));
    }
}

pub async fn concurrent_conditional_increments_are_exact(mesh: &crate::TestMesh) {
    let kv = mesh.kv().clone();
    kv.set("count", json!(0), SetOptions::default())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let kv = kv.clone();
            tokio::spawn(async move {
                let mut done = 0;
                while done < 50 {
                    let item = kv.get("count").await.unwrap().unwrap();
                    let next = json!(item.value.as_i64().unwrap() + 1);
                    match kv
                        .set("count", next, SetOptions::if_version(item.version))
                        .await
                    {
                        Ok(_) => done += 1,
                        Err(e) if e.kind == ErrorKind::Conflict => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let item = kv.get("count").await.unwrap().unwrap();
    assert_eq!(item.value, json!(200));
    assert_eq!(item.version, 201);
}
