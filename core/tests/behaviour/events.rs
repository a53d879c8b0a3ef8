//! Event cases of the behaviour suite.

use std::collections::BTreeSet;
use std::time::Duration;

use agent_mesh::{ErrorKind, Event, MeshConfig, ReceivedEvent, SubscribeOptions, Subscription};
use serde_json::json;

/// How long a case waits for an event that must arrive (SQS delivery on moto takes a while).
const ARRIVES: Duration = Duration::from_secs(20);
/// How long a case waits to be sure an event does not arrive.
fn quiet(mesh: &crate::TestMesh) -> Duration {
    if is_aws(mesh) {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(300)
    }
}

fn is_aws(mesh: &crate::TestMesh) -> bool {
    matches!(mesh.config(), MeshConfig::Aws(_))
}

async fn receive(sub: &mut Subscription) -> ReceivedEvent {
    sub.next_timeout(ARRIVES)
        .await
        .unwrap()
        .expect("an event that was sent did not arrive")
}

/// A name unique to this run (durable subscriptions outlive a test on a shared backend).
fn unique(name: &str) -> String {
    format!("{name}-{}", crate::uuid_like())
}

pub async fn subscription_receives_exactly_matching_events(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let pattern = json!({
        "source": ["orders"],
        "detail-type": ["OrderCreated"],
        "detail": {"total": [{"numeric": [">", 100]}], "region": [{"anything-but": "test"}]}
    });
    let mut sub = events.subscribe(&pattern).await.unwrap();
    let other_source =
        Event::new("OrderCreated", json!({"total": 500, "region": "eu"})).with_source("billing");
    let too_small =
        Event::new("OrderCreated", json!({"total": 50, "region": "eu"})).with_source("orders");
    let excluded =
        Event::new("OrderCreated", json!({"total": 500, "region": "test"})).with_source("orders");
    let matching = Event::new(
        "OrderCreated",
        json!({"total": 250, "region": "eu", "items": [1, 2]}),
    )
    .with_source("orders")
    .with_resources(vec!["arn:aws:orders:o-1".into()]);
    for e in [other_source, too_small, excluded] {
        events.send(e).await.unwrap();
    }
    let id = events.send(matching).await.unwrap();
    let got = receive(&mut sub).await;
    assert_eq!(got.id, id);
    assert_eq!(got.source, "orders");
    assert_eq!(got.detail_type, "OrderCreated");
    assert_eq!(
        got.detail,
        json!({"total": 250, "region": "eu", "items": [1, 2]})
    );
    assert_eq!(got.resources, vec!["arn:aws:orders:o-1".to_owned()]);
    assert!(
        (chrono::Utc::now() - got.time).num_seconds().abs() < 120,
        "{:?}",
        got.time
    );
    let envelope = got.to_json();
    assert_eq!(envelope["detail-type"], "OrderCreated");
    assert!(agent_mesh::test_event_pattern(&pattern, &envelope).unwrap());
    assert_eq!(sub.next_timeout(quiet(mesh)).await.unwrap(), None);
    sub.close().await.unwrap();
}

pub async fn subscription_starts_when_opened(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let pattern = json!({"detail-type": ["Tick"]});
    events
        .send(Event::new("Tick", json!({"n": 1})))
        .await
        .unwrap();
    let mut sub = events.subscribe(&pattern).await.unwrap();
    events
        .send(Event::new("Tick", json!({"n": 2})))
        .await
        .unwrap();
    assert_eq!(receive(&mut sub).await.detail, json!({"n": 2}));
    assert_eq!(sub.next_timeout(quiet(mesh)).await.unwrap(), None);
    sub.close().await.unwrap();
}

/// A subscription used as a `futures::Stream` yields the matching events: in send order on the
/// embedded backends (SQS standard queues do not keep order on AWS).
pub async fn subscription_as_a_stream_yields_events_in_order(mesh: &crate::TestMesh) {
    use futures::StreamExt;
    let events = mesh.events();
    let kind = unique("Streamed");
    let sub = events
        .subscribe(&json!({"detail-type": [kind.as_str()]}))
        .await
        .unwrap();
    let mut stream = Box::pin(sub.into_stream());
    for n in 0..3 {
        events
            .send(Event::new(&kind, json!({"n": n})))
            .await
            .unwrap();
    }
    events
        .send(Event::new("Unrelated", json!({"n": 9})))
        .await
        .unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        let next = tokio::time::timeout(ARRIVES, stream.next())
            .await
            .expect("an event that was sent did not arrive")
            .expect("the stream does not end while the subscription is open");
        got.push(next.unwrap().detail["n"].clone());
    }
    if is_aws(mesh) {
        got.sort_by_key(|n| n.as_u64());
    }
    assert_eq!(got, vec![json!(0), json!(1), json!(2)]);
}

pub async fn send_batch_reports_each_entry_and_delivers_all(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let mut sub = events
        .subscribe(&json!({"detail-type": ["Batch"]}))
        .await
        .unwrap();
    let batch: Vec<Event> = (0..25)
        .map(|i| Event::new("Batch", json!({"i": i})).with_source("batcher"))
        .collect();
    let results = events.send_batch(batch).await.unwrap();
    assert_eq!(results.len(), 25);
    let ids: Vec<String> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        25,
        "ids are distinct"
    );
    let mut received = Vec::new();
    for _ in 0..25 {
        let e = receive(&mut sub).await;
        received.push((e.id, e.detail["i"].as_i64().unwrap()));
    }
    if is_aws(mesh) {
        // SQS standard queues do not keep order.
        received.sort_by_key(|(_, i)| *i);
    }
    let expected: Vec<(String, i64)> = ids.into_iter().zip(0..).collect();
    assert_eq!(received, expected);
    assert_eq!(sub.next_timeout(quiet(mesh)).await.unwrap(), None);
    sub.close().await.unwrap();
}

pub async fn invalid_events_are_rejected_before_sending(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let cases = [
        (
            Event::new("", json!({})),
            ErrorKind::InvalidInput,
            "detail_type is empty",
        ),
        (
            Event::new("X", json!([1])),
            ErrorKind::InvalidInput,
            "JSON object",
        ),
        (
            Event::new("X", json!({})).with_source("aws.s3"),
            ErrorKind::InvalidInput,
            "aws.",
        ),
        (
            Event::new("X", json!({"blob": "x".repeat(256 * 1024)})),
            ErrorKind::TooLarge,
            "262144",
        ),
        (
            Event::new("X", json!({})).with_stream("a//b"),
            ErrorKind::InvalidInput,
            "empty path segment",
        ),
    ];
    for (event, kind, text) in cases {
        let e = events.send(event.clone()).await.unwrap_err();
        assert_eq!(e.kind, kind, "{e}");
        assert!(
            e.message.contains(text) && e.message.contains("events.send"),
            "{e}"
        );
        // One bad event fails the whole batch before anything is sent.
        let good = Event::new("X", json!({"ok": true})).with_stream("rejected/batch");
        let e = events.send_batch(vec![good, event]).await.unwrap_err();
        assert!(e.message.contains("event 1"), "{e}");
    }
    let sent = mesh
        .timeline()
        .get("rejected/", Default::default())
        .await
        .unwrap();
    assert!(
        sent.items.is_empty(),
        "nothing of a rejected batch was sent"
    );
    let e = events
        .subscribe(&json!({"detail": {"amount": 5}}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    let e = events
        .subscribe_with(
            &json!({"source": ["a"]}),
            SubscribeOptions::named("bad name!"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
}

pub async fn named_subscription_resumes_after_close(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let name = unique("resume");
    let pattern = json!({"detail-type": ["Step"]});
    let mut sub = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    events
        .send(Event::new("Step", json!({"n": 1})))
        .await
        .unwrap();
    assert_eq!(receive(&mut sub).await.detail, json!({"n": 1}));
    events
        .send(Event::new("Step", json!({"n": 2})))
        .await
        .unwrap();
    sub.close().await.unwrap();
    events
        .send(Event::new("Step", json!({"n": 3})))
        .await
        .unwrap();
    let mut sub = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    let mut got = vec![
        receive(&mut sub).await.detail,
        receive(&mut sub).await.detail,
    ];
    got.sort_by_key(|d| d["n"].as_i64());
    assert_eq!(
        got,
        vec![json!({"n": 2}), json!({"n": 3})],
        "resumes after the acknowledged event"
    );
    assert_eq!(sub.next_timeout(quiet(mesh)).await.unwrap(), None);
    sub.close().await.unwrap();
}

pub async fn sent_events_are_appended_to_the_timeline(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let id = events
        .send(
            Event::new("Uploaded", json!({"doc": "d-1"}))
                .with_source("docs")
                .with_stream("docs/d-1"),
        )
        .await
        .unwrap();
    let default_id = events
        .send(Event::new("Uploaded", json!({"doc": "d-2"})).with_source("docs"))
        .await
        .unwrap();
    let page = mesh
        .timeline()
        .get("docs/d-1", Default::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let entry = &page.items[0];
    assert_eq!(entry.stream, "docs/d-1");
    assert_eq!(entry.data["id"], id.as_str());
    assert_eq!(entry.data["detail"], json!({"doc": "d-1"}));
    assert_eq!(entry.data["detail-type"], "Uploaded");
    let page = mesh
        .timeline()
        .get("events/docs/Uploaded", Default::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].data["id"], default_id.as_str());
}

/// `put_back` (what a binding does when an await was cancelled after the event arrived): the
/// next call hands the event out again, a close before that does not acknowledge it (a named
/// subscription resumes with it), and an event other than the last one handed out is ignored.
pub async fn a_put_back_event_is_handed_out_again_and_not_acknowledged(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let kind = unique("PutBack");
    let name = unique("put-back");
    let pattern = json!({"detail-type": [kind.as_str()]});
    let mut sub = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    for n in 0..2 {
        events
            .send(Event::new(&kind, json!({"n": n})))
            .await
            .unwrap();
    }
    let first = receive(&mut sub).await;
    sub.put_back(first.clone());
    let again = receive(&mut sub).await;
    assert_eq!(again.id, first.id, "the event put back is handed out again");
    let second = receive(&mut sub).await;
    assert_ne!(second.id, first.id);
    // Not the event handed out last: ignored.
    sub.put_back(first.clone());
    sub.put_back(second.clone());
    sub.close().await.unwrap();
    let mut resumed = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    let after = receive(&mut resumed).await;
    assert_eq!(
        after.id, second.id,
        "a close after put_back did not acknowledge the event"
    );
    assert_eq!(resumed.next_timeout(quiet(mesh)).await.unwrap(), None);
    resumed.close().await.unwrap();
    events.delete_subscription(&name).await.unwrap();
}
