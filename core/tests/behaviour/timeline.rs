//! Timeline cases of the behaviour suite.

use std::collections::BTreeSet;

use agent_mesh::{ErrorKind, Order, TimelineEntry, TimelineQuery};
use serde_json::json;

/// Every entry under `prefix` with `query`, following cursors; checks pages are full and
/// disjoint.
async fn all_pages(
    mesh: &crate::TestMesh,
    prefix: &str,
    query: TimelineQuery,
) -> Vec<TimelineEntry> {
    let limit = query.limit.unwrap_or(100);
    let mut out: Vec<TimelineEntry> = Vec::new();
    let mut query = query;
    loop {
        let page = mesh.timeline().get(prefix, query.clone()).await.unwrap();
        let last_page = page.next_cursor.is_none();
        if !last_page {
            assert_eq!(page.items.len(), limit, "only the last page may be short");
        }
        out.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return out,
        }
    }
}

pub async fn append_and_get_newest_first(mesh: &crate::TestMesh) {
    let timeline = mesh.timeline();
    let mut appended = Vec::new();
    for i in 0..5 {
        appended.push(
            timeline
                .append("user/u1/profile", json!({"i": i}))
                .await
                .unwrap(),
        );
    }
    let first = &appended[0];
    assert_eq!(first.stream, "user/u1/profile");
    assert_eq!(first.id.len(), 26, "a ULID");
    assert!((chrono::Utc::now() - first.time).num_seconds().abs() < 60);
    let page = timeline
        .get("user/u1/", TimelineQuery::default())
        .await
        .unwrap();
    appended.reverse();
    assert_eq!(page.items, appended, "newest first, as appended");
    assert_eq!(page.next_cursor, None);
    let ids: Vec<&String> = page.items.iter().map(|e| &e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids sort by time");
}

pub async fn prefix_pages_are_complete_and_disjoint(mesh: &crate::TestMesh) {
    let timeline = mesh.timeline();
    let mut all = Vec::new();
    for i in 0..120 {
        let stream = format!("team/t{}/agent{}", i % 3, i % 4);
        all.push(timeline.append(&stream, json!({"i": i})).await.unwrap());
    }
    timeline.append("teams-other/x", json!({})).await.unwrap();
    for prefix in ["team/", "team/t1/", "team/t1/agent1", "team/t2/agent"] {
        let mut expected: Vec<TimelineEntry> = all
            .iter()
            .filter(|e| e.stream.starts_with(prefix))
            .cloned()
            .collect();
        expected.reverse();
        for limit in [7, 1000] {
            let got = all_pages(mesh, prefix, TimelineQuery::limit(limit)).await;
            assert_eq!(got.len(), expected.len(), "{prefix} limit {limit}");
            assert_eq!(got, expected, "{prefix} limit {limit}");
            let ids: BTreeSet<&String> = got.iter().map(|e| &e.id).collect();
            assert_eq!(ids.len(), got.len(), "no entry twice");
        }
    }
}

pub async fn prefixes_select_streams_by_string_prefix(mesh: &crate::TestMesh) {
    let timeline = mesh.timeline();
    for stream in ["a/b/c", "a/bc", "a/c", "ab", "b"] {
        timeline
            .append(stream, json!({"stream": stream}))
            .await
            .unwrap();
    }
    let streams = |page: agent_mesh::Page<TimelineEntry>| -> BTreeSet<String> {
        page.items.into_iter().map(|e| e.stream).collect()
    };
    let q = TimelineQuery::default;
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        streams(timeline.get("a/b", q()).await.unwrap()),
        s(&["a/b/c", "a/bc"])
    );
    assert_eq!(
        streams(timeline.get("a/", q()).await.unwrap()),
        s(&["a/b/c", "a/bc", "a/c"])
    );
    assert_eq!(
        streams(timeline.get("a", q()).await.unwrap()),
        s(&["a/b/c", "a/bc", "a/c", "ab"])
    );
    assert_eq!(
        streams(timeline.get("a/b/c", q()).await.unwrap()),
        s(&["a/b/c"])
    );
    assert!(timeline.get("z", q()).await.unwrap().items.is_empty());
    assert!(timeline.get("a/b/c/", q()).await.unwrap().items.is_empty());
}

pub async fn since_until_and_order(mesh: &crate::TestMesh) {
    let timeline = mesh.timeline();
    let early = timeline.append("clock/s", json!({"n": 0})).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let middle = timeline.append("clock/s", json!({"n": 1})).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let late = timeline.append("clock/s", json!({"n": 2})).await.unwrap();
    let get = |q: TimelineQuery| async move { timeline.get("clock/", q).await.unwrap().items };
    let oldest = TimelineQuery::default().with_order(Order::OldestFirst);
    assert_eq!(
        get(oldest.clone()).await,
        vec![early.clone(), middle.clone(), late.clone()]
    );
    let since = oldest.clone().with_since(Some(middle.time));
    assert_eq!(
        get(since).await,
        vec![middle.clone(), late.clone()],
        "since is inclusive"
    );
    let until = TimelineQuery::default().with_until(Some(middle.time));
    assert_eq!(get(until).await, vec![early.clone()], "until is exclusive");
    let window = TimelineQuery::default()
        .with_since(Some(early.time))
        .with_until(Some(late.time));
    assert_eq!(get(window).await, vec![middle.clone(), early.clone()]);
    let mut paged = Vec::new();
    let mut query = oldest.with_limit(Some(1));
    loop {
        let page = timeline.get("clock/", query.clone()).await.unwrap();
        paged.extend(page.items);
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, vec![early, middle, late], "oldest-first paging");
}

pub async fn bad_timeline_input_is_rejected(mesh: &crate::TestMesh) {
    let timeline = mesh.timeline();
    for stream in ["", "/abs", "a//b", "a/", "a/../b", &"s/".repeat(20)] {
        let e = timeline.append(stream, json!({})).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{stream:?}: {e}");
        assert!(e.message.contains("timeline.append"), "{e}");
    }
    let e = timeline
        .append("big", json!({"x": "y".repeat(300_000)}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
    let e = timeline
        .get(
            "",
            TimelineQuery::default().with_cursor(Some("not-a-cursor".into())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    let e = timeline.get("", TimelineQuery::limit(0)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    assert!(
        timeline
            .get("never/", TimelineQuery::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
