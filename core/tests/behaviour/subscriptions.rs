//! Deleting durable subscriptions (`events().delete_subscription`), on every backend.

use std::time::Duration;

use agent_mesh::{ErrorKind, Event, MeshConfig, SubscribeOptions};
use serde_json::json;

/// How long a case waits for an event that must arrive (SQS delivery on moto takes a while).
const ARRIVES: Duration = Duration::from_secs(20);

fn quiet(mesh: &crate::TestMesh) -> Duration {
    if matches!(mesh.config(), MeshConfig::Aws(_)) {
        Duration::from_secs(3)
    } else {
        Duration::from_millis(300)
    }
}

pub async fn deleted_subscription_starts_afresh(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let name = format!("del-{}", crate::uuid_like());
    let pattern = json!({"detail-type": ["Deleted"]});
    assert!(
        !events.delete_subscription(&name).await.unwrap(),
        "never created"
    );
    let sub = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    sub.close().await.unwrap();
    events
        .send(Event::new("Deleted", json!({"n": "before"})))
        .await
        .unwrap();
    assert!(events.delete_subscription(&name).await.unwrap(), "existed");
    assert!(
        !events.delete_subscription(&name).await.unwrap(),
        "deleted already"
    );
    // The same name again: a new subscription from now on, without the event it had kept.
    let mut sub = events
        .subscribe_with(&pattern, SubscribeOptions::named(&name))
        .await
        .unwrap();
    events
        .send(Event::new("Deleted", json!({"n": "after"})))
        .await
        .unwrap();
    let got = sub.next_timeout(ARRIVES).await.unwrap().expect("an event");
    assert_eq!(got.detail, json!({"n": "after"}));
    assert_eq!(sub.next_timeout(quiet(mesh)).await.unwrap(), None);
    sub.close().await.unwrap();
    assert!(events.delete_subscription(&name).await.unwrap());
}

pub async fn a_stream_open_on_a_deleted_subscription_fails(mesh: &crate::TestMesh) {
    let events = mesh.events();
    let name = format!("open-{}", crate::uuid_like());
    let mut sub = events
        .subscribe_with(
            &json!({"detail-type": ["Open"]}),
            SubscribeOptions::named(&name),
        )
        .await
        .unwrap();
    events
        .send(Event::new("Open", json!({"n": 1})))
        .await
        .unwrap();
    let got = sub.next_timeout(ARRIVES).await.unwrap().expect("an event");
    assert_eq!(got.detail, json!({"n": 1}));
    assert!(events.delete_subscription(&name).await.unwrap());
    let e = sub.next_timeout(quiet(mesh)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains("subscribe again"), "{e}");
    sub.close().await.unwrap();
}

pub async fn delete_subscription_checks_the_name(mesh: &crate::TestMesh) {
    for bad in ["", "has space", "a/b", &"x".repeat(41)] {
        let e = mesh.events().delete_subscription(bad).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad:?}: {e}");
        assert!(e.message.contains("events.delete_subscription"), "{e}");
    }
}
