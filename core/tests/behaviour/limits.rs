//! Value limits of the behaviour suite: a value at the depth limit is accepted by every entry
//! point and read back by every read path; one level deeper is refused everywhere, before
//! anything is stored or sent.

use std::time::Duration;

use agent_mesh::unstable::validate::MAX_VALUE_DEPTH;
use agent_mesh::{ErrorKind, Event, ListOptions, MeshConfig, SetOptions, TimelineQuery};
use serde_json::{Value, json};

/// `{"a": {"a": ... 1}}` with `depth` objects (built without recursion).
fn nested(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        // Not `json!({"a": value})`: it serialises `value` again at every level.
        value = Value::Object(serde_json::Map::from_iter([("a".to_owned(), value)]));
    }
    value
}

fn assert_too_deep(result: agent_mesh::Result<impl std::fmt::Debug>, what: &str) {
    let error = result.expect_err(what);
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{what}: {error}");
    assert!(error.message.contains(" levels"), "{what}: {error}");
}

pub async fn values_at_the_depth_limit_are_readable_everywhere(mesh: &crate::TestMesh) {
    let deepest = nested(MAX_VALUE_DEPTH);
    let kv = mesh.kv();
    kv.set("deep", deepest.clone(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(kv.get("deep").await.unwrap().unwrap().value, deepest);
    let page = kv.list("dee", ListOptions::default()).await.unwrap();
    assert_eq!(page.items[0].value, deepest);
    assert_eq!(
        kv.batch_get(&["deep"]).await.unwrap()[0]
            .as_ref()
            .unwrap()
            .value,
        deepest
    );

    // An event whose detail is at the limit reaches a subscriber and the timeline.
    let events = mesh.events();
    let mut sub = events
        .subscribe(&json!({"detail-type": ["Deep"]}))
        .await
        .unwrap();
    events
        .send(Event::new("Deep", deepest.clone()).with_stream("deep/events"))
        .await
        .unwrap();
    let wait = if matches!(mesh.config(), MeshConfig::Aws(_)) {
        20
    } else {
        5
    };
    let got = sub
        .next_timeout(Duration::from_secs(wait))
        .await
        .unwrap()
        .expect("the deep event arrives");
    assert_eq!(got.detail, deepest);

    let timeline = mesh.timeline();
    timeline.append("deep/data", deepest.clone()).await.unwrap();
    let entries = timeline
        .get("deep/", TimelineQuery::default())
        .await
        .unwrap();
    assert_eq!(entries.items.len(), 2, "the entry and the event's");
    for entry in &entries.items {
        assert!(entry.data == deepest || entry.data.to_string().contains(&deepest.to_string()));
    }

    let echoed = mesh
        .call("mesh_kv_set", json!({"key": "deep2", "value": deepest}))
        .await
        .unwrap();
    assert_eq!(echoed["value"], deepest);
}

pub async fn values_past_the_depth_limit_are_refused_everywhere(mesh: &crate::TestMesh) {
    let too_deep = nested(MAX_VALUE_DEPTH + 1);
    let far_too_deep = nested(100_000);
    let kv = mesh.kv();
    assert_too_deep(
        kv.set("k", too_deep.clone(), SetOptions::default()).await,
        "kv.set",
    );
    assert_too_deep(
        kv.batch_set(vec![("k".into(), too_deep.clone())], SetOptions::default())
            .await,
        "kv.batch_set",
    );
    assert_too_deep(
        mesh.events()
            .send(Event::new("Deep", too_deep.clone()))
            .await,
        "events.send",
    );
    assert_too_deep(
        mesh.timeline().append("deep", too_deep.clone()).await,
        "timeline.append",
    );
    assert_too_deep(
        mesh.call(
            "mesh_kv_set",
            json!({"key": "k", "value": nested(MAX_VALUE_DEPTH + 1)}),
        )
        .await,
        "call",
    );
    assert_too_deep(
        mesh.kv()
            .set("k", far_too_deep, SetOptions::default())
            .await,
        "kv.set, 100,000 levels (taken apart without recursion when refused)",
    );
    // Nothing was stored or sent.
    assert!(kv.get("k").await.unwrap().is_none());
    let entries = mesh
        .timeline()
        .get("", TimelineQuery::default())
        .await
        .unwrap();
    assert!(entries.items.is_empty(), "{:?}", entries.items);
}
