//! AWS-only hardening checks on the moto server of `tests/with-moto.sh` (compiled with
//! `--features moto-tests`): `delete_subscription` removes the rule, its target and the queue;
//! task tokens and endpoint credentials stay out of error messages.

use agent_mesh::{ErrorKind, MeshClient, SubscribeOptions};
use serde_json::json;

fn endpoint() -> String {
    std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT")
        .expect("AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
}

/// A provisioned mesh with resource names of its own, and its name prefix.
async fn fresh(name: &str) -> (MeshClient, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("{name}{:x}-", nanos & 0xffff_ffff);
    let url = format!(
        "aws://?region=us-east-1&endpoint={}&prefix={prefix}",
        endpoint()
    );
    let mesh = MeshClient::connect(&url).await.unwrap();
    mesh.provision().await.unwrap();
    (mesh, prefix)
}

async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .load()
        .await
}

/// The subscription rules (with their target counts) and queue URLs of `prefix`.
async fn subscription_resources(prefix: &str) -> (Vec<(String, usize)>, Vec<String>) {
    let sdk = sdk().await;
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let bus = format!("{prefix}agent-mesh-dev");
    let rules = events
        .list_rules()
        .event_bus_name(&bus)
        .name_prefix(format!("{prefix}agent-mesh-dev-sub-"))
        .send()
        .await
        .unwrap()
        .rules
        .unwrap_or_default();
    let mut with_targets = Vec::new();
    for rule in rules.into_iter().filter_map(|r| r.name) {
        let targets = events
            .list_targets_by_rule()
            .rule(&rule)
            .event_bus_name(&bus)
            .send()
            .await
            .unwrap()
            .targets
            .unwrap_or_default()
            .len();
        with_targets.push((rule, targets));
    }
    let queues = aws_sdk_sqs::Client::new(&sdk)
        .list_queues()
        .queue_name_prefix(format!("{prefix}agent-mesh-dev-sub-"))
        .send()
        .await
        .unwrap()
        .queue_urls
        .unwrap_or_default();
    (with_targets, queues)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_delete_subscription_removes_rule_target_and_queue() {
    let (mesh, prefix) = fresh("ds").await;
    let events = mesh.events();
    for name in ["keep", "gone"] {
        events
            .subscribe_with(&json!({"source": [name]}), SubscribeOptions::named(name))
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
    }
    let (rules, queues) = subscription_resources(&prefix).await;
    assert_eq!((rules.len(), queues.len()), (2, 2), "{rules:?} {queues:?}");
    assert!(rules.iter().all(|(_, targets)| *targets == 1), "{rules:?}");
    assert!(events.delete_subscription("gone").await.unwrap());
    let (rules, queues) = subscription_resources(&prefix).await;
    assert_eq!(
        rules,
        vec![(format!("{prefix}agent-mesh-dev-sub-keep"), 1)],
        "only the other subscription's rule is left"
    );
    assert_eq!(queues.len(), 1, "{queues:?}");
    assert!(queues[0].ends_with("agent-mesh-dev-sub-keep"), "{queues:?}");
    assert!(!events.delete_subscription("gone").await.unwrap());
    // A rule left without its queue (a subscription cut short) is deleted too, and counts.
    let sdk = sdk().await;
    aws_sdk_sqs::Client::new(&sdk)
        .delete_queue()
        .queue_url(&queues[0])
        .send()
        .await
        .unwrap();
    assert!(events.delete_subscription("keep").await.unwrap());
    assert_eq!(subscription_resources(&prefix).await, (vec![], vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_task_tokens_stay_out_of_errors() {
    let (mesh, _) = fresh("tt").await;
    let token = "AAAAKgAAAAIAAAAAsecret-task-token-0123456789";
    let attempts = [
        mesh.workflows().send_task_success(token, json!({})).await,
        mesh.workflows().send_task_failure(token, "E", "c").await,
        mesh.workflows().send_task_heartbeat(token).await,
    ];
    for result in attempts {
        let e = result.unwrap_err();
        assert_ne!(e.kind, ErrorKind::Internal, "{e}");
        let shown = format!("{e:?}");
        assert!(!shown.contains("secret-task-token"), "{shown}");
        assert!(shown.contains("task token sha256:"), "{shown}");
    }
}
