//! Tenant scopes on the embedded engine: a scoped state machine's service integrations stay in
//! its scope, and its definition may not name another scope's activity.

use std::time::Duration;

use agent_mesh::{AwsNames, ErrorKind, ExecutionStatus, MeshClient, StartOptions, TimelineQuery};
use serde_json::{Value, json};

const WAIT: Option<Duration> = Some(Duration::from_secs(20));

async fn local_mesh() -> (tempfile::TempDir, MeshClient) {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    (dir, mesh)
}

/// A one-Task state machine running `resource` with `parameters`.
fn task(resource: &str, parameters: Value) -> Value {
    json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": true}}})
}

/// Runs `definition` as `name` in `scope` to its end; the final status and error.
async fn run(
    scope: &MeshClient,
    name: &str,
    definition: Value,
) -> (ExecutionStatus, Option<String>) {
    let wf = scope.workflows();
    wf.create(name, definition).await.unwrap();
    let started = wf
        .start(name, json!({}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&started.arn, WAIT).await.unwrap();
    (done.status, done.error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integrations_of_a_scoped_machine_stay_in_its_scope() {
    let (_dir, mesh) = local_mesh().await;
    let table = AwsNames::resolve(&Default::default()).kv_table;
    let bucket = AwsNames::resolve(&Default::default()).artifacts_bucket;
    let t = mesh.scope("t").unwrap();
    let put = |key: &str| {
        task(
            "arn:aws:states:::dynamodb:putItem",
            json!({"TableName": table, "Item": {"key": {"S": key}, "value": {"S": "\"v\""}}}),
        )
    };
    let (status, _) = run(&t, "own", put("tenants/t/ok")).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert_eq!(t.kv().get("ok").await.unwrap().unwrap().value, json!("v"));

    mesh.scope("u")
        .unwrap()
        .kv()
        .set("secret", json!("u's"), Default::default())
        .await
        .unwrap();
    for (name, definition) in [
        ("other-tenant", put("tenants/u/x")),
        ("root-key", put("x")),
        // The key getItem reads is Key's; an Item beside it must not pass the check for it.
        (
            "decoy",
            task(
                "arn:aws:states:::dynamodb:getItem",
                json!({"TableName": table, "Item": {"key": {"S": "tenants/t/ok"}}, "Key": {"key": {"S": "tenants/u/secret"}}}),
            ),
        ),
        (
            "delete",
            task(
                "arn:aws:states:::dynamodb:deleteItem",
                json!({"TableName": table, "Key": {"key": {"S": "tenants/u/secret"}}}),
            ),
        ),
        (
            "s3",
            task(
                "arn:aws:states:::aws-sdk:s3:getObject",
                json!({"Bucket": bucket, "Key": "tenants/u/doc"}),
            ),
        ),
        (
            "events",
            task(
                "arn:aws:states:::events:putEvents",
                json!({"Entries": [{"DetailType": "Spy", "Source": "tenants/u/agent", "Detail": {}}]}),
            ),
        ),
    ] {
        let (status, error) = run(&t, name, definition).await;
        assert_eq!(status, ExecutionStatus::Failed, "{name}");
        assert!(
            error
                .as_deref()
                .unwrap_or("")
                .ends_with(".AccessDeniedException"),
            "{name}: {error:?}"
        );
    }
    assert_eq!(
        mesh.scope("u")
            .unwrap()
            .kv()
            .get("secret")
            .await
            .unwrap()
            .unwrap()
            .value,
        json!("u's"),
        "the other tenant's item is untouched"
    );
    // KV keys are not paths: `..` in one is just characters, inside the tenant.
    let (status, _) = run(&t, "dots", put("tenants/t/../u/x")).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    assert!(t.kv().get("../u/x").await.unwrap().is_some());
    assert!(
        mesh.scope("u")
            .unwrap()
            .kv()
            .get("x")
            .await
            .unwrap()
            .is_none()
    );
    // A nested scope is confined to itself, not to its tenant.
    let bot = t.scope("bot").unwrap();
    let (status, error) = run(&bot, "sibling", put("tenants/t/other-bot/x")).await;
    assert_eq!(
        (status, error.as_deref()),
        (
            ExecutionStatus::Failed,
            Some("DynamoDB.AccessDeniedException")
        )
    );
    let (status, _) = run(&bot, "own", put("tenants/t/bot/x")).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_a_tenant_workflow_land_on_the_tenant_timeline() {
    let (_dir, mesh) = local_mesh().await;
    let t = mesh.scope("t").unwrap();
    let send = task(
        "arn:aws:states:::events:putEvents",
        json!({"Entries": [{"DetailType": "Done", "Source": "tenants/t/flow", "Detail": {"n": 1}}]}),
    );
    let (status, _) = run(&t, "announce", send).await;
    assert_eq!(status, ExecutionStatus::Succeeded);
    let seen = t
        .timeline()
        .get("events/", TimelineQuery::default())
        .await
        .unwrap();
    assert_eq!(seen.items.len(), 1, "{:?}", seen.items);
    assert_eq!(seen.items[0].stream, "events/flow/Done");
    let root = mesh
        .timeline()
        .get("", TimelineQuery::default())
        .await
        .unwrap();
    assert!(root.items.is_empty(), "{:?}", root.items);
}

#[tokio::test]
async fn definitions_naming_another_scopes_activity_are_refused() {
    let (_dir, mesh) = local_mesh().await;
    let t = mesh.scope("t").unwrap();
    let u = mesh.scope("u").unwrap();
    let theirs = u.workflows().create_activity("review").await.unwrap();
    let root = mesh.workflows().create_activity("review").await.unwrap();
    let ours = t.workflows().create_activity("review").await.unwrap();
    for arn in [&theirs, &root] {
        // Nested in a Parallel branch too: every Task of the definition is checked.
        let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": arn, "End": true}}}]}}});
        let e = t.workflows().create("steal", definition).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput, "{arn}");
        assert!(e.message.contains("outside this scope"), "{e}");
    }
    let definition =
        json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": ours, "End": true}}});
    t.workflows().create("own", definition).await.unwrap();
}
