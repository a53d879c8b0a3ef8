//! Records another tool or an older version stored that cannot be decoded any more (here: JSON
//! nested deeper than any reader decodes) fail alone: `get` of such a key is an `Internal`
//! error naming it, while list and timeline pages leave the record out and go on, and paging
//! continues past it even when a whole page is unreadable.

use agent_mesh::{ErrorKind, ListOptions, MeshClient, SetOptions, TimelineQuery};
use serde_json::json;

fn unreadable() -> String {
    format!("{}1{}", "[".repeat(300), "]".repeat(300))
}

#[tokio::test]
async fn unreadable_kv_items_and_timeline_entries_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    for key in ["k:1", "k:2", "k:3", "k:4", "k:5"] {
        mesh.kv()
            .set(key, json!(key), SetOptions::default())
            .await
            .unwrap();
    }
    for i in 0..5 {
        mesh.timeline()
            .append("s/x", json!({"i": i}))
            .await
            .unwrap();
    }
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    db.execute(
        "UPDATE kv SET value = ?1 WHERE key IN ('k:2', 'k:3')",
        [unreadable()],
    )
    .unwrap();
    db.execute(
        "UPDATE timeline SET data = ?1 WHERE id IN (SELECT id FROM timeline ORDER BY id LIMIT 2 OFFSET 1)",
        [unreadable()],
    )
    .unwrap();

    let e = mesh.kv().get("k:2").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Internal);
    assert!(
        e.message.contains("k:2") && e.message.contains("unreadable"),
        "{e}"
    );
    assert_eq!(
        mesh.kv().get("k:1").await.unwrap().unwrap().value,
        json!("k:1")
    );

    let page = mesh.kv().list("k:", ListOptions::default()).await.unwrap();
    let keys: Vec<_> = page.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["k:1", "k:4", "k:5"]);
    // Paging one item at a time crosses the unreadable ones (a page may come back empty).
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..10 {
        let page = mesh
            .kv()
            .list("k:", ListOptions::limit(1).with_cursor(cursor.clone()))
            .await
            .unwrap();
        seen.extend(page.items.into_iter().map(|i| i.key));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["k:1", "k:4", "k:5"]);

    let entries = mesh
        .timeline()
        .get("s/", TimelineQuery::default())
        .await
        .unwrap();
    let numbers: Vec<_> = entries.items.iter().map(|e| e.data["i"].clone()).collect();
    assert_eq!(numbers, [json!(4), json!(3), json!(0)]);
}

#[tokio::test]
async fn an_unreadable_event_wedges_no_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    let events = mesh.events();
    let pattern = json!({"detail-type": ["Ping"]});
    let mut ephemeral = events.subscribe(&pattern).await.unwrap();
    let mut durable = events
        .subscribe_with(&pattern, agent_mesh::SubscribeOptions::named("durable"))
        .await
        .unwrap();
    events
        .send(agent_mesh::Event::new("Ping", json!({"n": 1})))
        .await
        .unwrap();
    let db = rusqlite::Connection::open(dir.path().join("mesh.db")).unwrap();
    db.execute("UPDATE events SET envelope = ?1", [unreadable()])
        .unwrap();
    events
        .send(agent_mesh::Event::new("Ping", json!({"n": 2})))
        .await
        .unwrap();
    for sub in [&mut ephemeral, &mut durable] {
        let got = sub
            .next_timeout(std::time::Duration::from_secs(5))
            .await
            .unwrap()
            .expect("the readable event arrives");
        assert_eq!(got.detail, json!({"n": 2}));
    }
}

#[tokio::test]
async fn an_event_dated_in_the_past_is_kept_and_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    let events = mesh.events();
    let mut sub = events
        .subscribe(&json!({"detail-type": ["Old"]}))
        .await
        .unwrap();
    let old = chrono::DateTime::parse_from_rfc3339("2001-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    events
        .send(agent_mesh::Event::new("Old", json!({"n": 1})).with_time(old))
        .await
        .unwrap();
    let got = sub
        .next_timeout(std::time::Duration::from_secs(5))
        .await
        .unwrap()
        .expect("an event dated 2001 is delivered: retention counts from when it was stored");
    assert_eq!(got.time, old);
}
