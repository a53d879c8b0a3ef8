//! Workflows on the `aws://` backend against moto's executing Step Functions (run through
//! `tests/with-moto.sh`, compiled with `--features moto-tests`): the conformance corpus through
//! our Step Functions backend, the execution lifecycle (create, update, start, describe, wait,
//! history, stop, list), errors, and the DynamoDB integration on the KV table.
//!
//! moto has no `GetActivityTask`: the activity worker is tested with the AWS SDK's replay
//! client in `core/src/aws/workflow_replay_tests.rs`.

mod corpus;

use std::time::Duration;

use agent_mesh::{
    AwsNames, ErrorKind, ExecutionStatus, ListExecutionsOptions, ListOptions, MeshClient,
    StartOptions,
};
use futures::StreamExt;
use serde_json::{Value, json};

fn endpoint() -> String {
    std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT")
        .expect("AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
}

/// A mesh with its own resource names (`<name><random>-agent-mesh-dev-...`), provisioned.
async fn fresh(name: &str) -> (MeshClient, AwsNames) {
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
    let agent_mesh::MeshConfig::Aws(options) = agent_mesh::MeshConfig::parse(&url).unwrap() else {
        unreachable!("an aws:// URL")
    };
    (mesh, AwsNames::resolve(&options))
}

/// Moto executes state machines only once this is set (tests/with-moto.sh sets it too).
async fn enable_execution() {
    let body = r#"{"stepfunctions": {"execute_state_machine": true}}"#;
    let url = format!("{}/moto-api/config", endpoint());
    let status = std::process::Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            &url,
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
        ])
        .status()
        .expect("curl runs");
    assert!(status.success(), "POST {url} failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aws_corpus_runs_on_step_functions_through_the_aws_backend() {
    enable_execution().await;
    let (mesh, names) = fresh("wfc").await;
    let cases: Vec<_> = corpus::cases()
        .into_iter()
        .enumerate()
        .filter(|(_, c)| c.case["moto"] == json!(true))
        .collect();
    assert!(
        cases.len() >= 60,
        "only {} corpus cases run on moto",
        cases.len()
    );
    let count = cases.len();
    let failures: Vec<String> = futures::stream::iter(cases)
        .map(|(i, corpus::Case { name, case })| {
            let (mesh, names) = (mesh.clone(), names.clone());
            async move {
                let machine = case["state_machine_name"]
                    .as_str()
                    .map_or_else(|| format!("c{i:03}"), str::to_owned);
                let definition = corpus::substitute(&case["definition"], &names.kv_table);
                let info = match mesh.workflows().create(&machine, definition).await {
                    Ok(info) => info,
                    Err(e) => return vec![format!("{name}: create failed: {e}")],
                };
                // The case reads $$.StateMachine.Name: on AWS that is the prefixed name.
                let full_name = info.arn.rsplit(':').next().unwrap().to_owned();
                let expected = case.get("moto_expected").unwrap_or(&case["expected"]);
                let expected: Value = serde_json::from_str(
                    &expected
                        .to_string()
                        .replace(&format!("\"{machine}\""), &format!("\"{full_name}\"")),
                )
                .unwrap();
                let timeout = Duration::from_secs(60);
                corpus::run(&mesh, &name, &machine, &case["input"], &expected, timeout).await
            }
        })
        .buffer_unordered(6)
        .concat()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {count} corpus cases differ on moto through aws://:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const PIPELINE: &str = r#"{
  "StartAt": "Tag",
  "States": {
    "Tag": {"Type": "Pass", "Parameters": {"n.$": "$.n", "label.$": "States.Format('item-{}', $.n)"}, "Next": "Big?"},
    "Big?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Pause"}], "Default": "Small"},
    "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Big"},
    "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": true},
    "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": true}
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_execution_lifecycle_maps_onto_step_functions() {
    enable_execution().await;
    let (mesh, names) = fresh("wfl").await;
    let wf = mesh.workflows();
    let info = wf
        .create("pipeline", serde_json::from_str(PIPELINE).unwrap())
        .await
        .unwrap();
    assert_eq!(info.name, "pipeline");
    assert!(
        info.arn.ends_with(&format!(
            ":stateMachine:{}pipeline",
            names.state_machine_prefix
        )),
        "{}",
        info.arn
    );

    // Both Choice branches; describe while the Wait runs, then wait.
    let big = wf
        .start("pipeline", json!({"n": 42}), StartOptions::named("big"))
        .await
        .unwrap();
    let running = wf.describe(&big.arn).await.unwrap();
    assert_eq!(running.status, ExecutionStatus::Running);
    assert_eq!(running.input, json!({"n": 42}));
    assert_eq!(running.state_machine, "pipeline");
    assert_eq!(running.name, "big");
    let done = wf.wait(&big.arn, None).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(
        done.output,
        Some(json!({"n": 42, "label": "item-42", "size": "big"}))
    );
    assert!(done.stop_date.unwrap() >= done.start_date);
    let small = wf
        .start("pipeline", json!({"n": 1}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&small.arn, None).await.unwrap();
    assert_eq!(
        done.output,
        Some(json!({"n": 1, "label": "item-1", "size": "small"}))
    );

    // History: Step Functions' event names and details, ids 1..n.
    let history = wf.history(&big.arn).await.unwrap();
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    for wanted in [
        "PassStateEntered",
        "ChoiceStateEntered",
        "WaitStateEntered",
        "WaitStateExited",
    ] {
        assert!(types.contains(&wanted), "{wanted} missing from {types:?}");
    }
    let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=history.len() as u64).collect::<Vec<_>>());
    let started_input: Value =
        serde_json::from_str(history[0].details["input"].as_str().unwrap()).unwrap();
    assert_eq!(started_input, json!({"n": 42}));
    let entered = history
        .iter()
        .find(|e| e.event_type == "WaitStateEntered")
        .unwrap();
    assert_eq!(entered.details["name"], json!("Pause"));

    // Idempotent start: the same name and input is the same execution; another input conflicts.
    let again = wf
        .start("pipeline", json!({"n": 42}), StartOptions::named("big"))
        .await
        .unwrap();
    assert_eq!(again.arn, big.arn);
    let conflict = wf
        .start("pipeline", json!({"n": 43}), StartOptions::named("big"))
        .await
        .unwrap_err();
    assert_eq!(conflict.kind, ErrorKind::Conflict, "{conflict}");
    assert!(
        conflict.message.contains("ExecutionAlreadyExists"),
        "{conflict}"
    );

    // create again replaces the definition.
    let changed = PIPELINE.replace("\"small\"", "\"tiny\"");
    wf.create("pipeline", serde_json::from_str(&changed).unwrap())
        .await
        .unwrap();
    let tiny = wf
        .start("pipeline", json!({"n": 2}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&tiny.arn, None).await.unwrap();
    assert_eq!(done.output.unwrap()["size"], json!("tiny"));

    // stop: ABORTED; stopping again changes nothing.
    let slow = PIPELINE.replace("\"Seconds\": 1", "\"Seconds\": 60");
    wf.create("slow", serde_json::from_str(&slow).unwrap())
        .await
        .unwrap();
    let run = wf
        .start("slow", json!({"n": 99}), StartOptions::named("slow-1"))
        .await
        .unwrap();
    let still = wf
        .wait(&run.arn, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(still.status, ExecutionStatus::Running);
    let stopped = wf
        .stop(&run.arn, Some("Cancelled"), Some("by the test"))
        .await
        .unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert!(stopped.stop_date.is_some());
    let again = wf.stop(&run.arn, None, None).await.unwrap();
    assert_eq!(again.status, ExecutionStatus::Aborted);
    assert_eq!(again.stop_date, stopped.stop_date);
    let history = wf.history(&run.arn).await.unwrap();
    assert_eq!(history.last().unwrap().event_type, "ExecutionAborted");

    // list_executions: newest first, paged, filtered, with input and output.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = wf
            .list_executions(
                "pipeline",
                ListExecutionsOptions::default()
                    .with_page(ListOptions::limit(2).with_cursor(cursor)),
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let arns: Vec<&str> = seen.iter().map(|e| e.arn.as_str()).collect();
    assert_eq!(
        arns,
        [tiny.arn.as_str(), small.arn.as_str(), big.arn.as_str()]
    );
    assert!(
        seen.iter()
            .all(|e| e.status == ExecutionStatus::Succeeded && e.output.is_some())
    );
    assert_eq!(seen[2].input, json!({"n": 42}));
    let aborted = wf
        .list_executions(
            "slow",
            ListExecutionsOptions::default().with_status(Some(ExecutionStatus::Aborted)),
        )
        .await
        .unwrap();
    assert_eq!(aborted.items.len(), 1);
    assert_eq!(aborted.items[0].name, "slow-1");
    let none_running = wf
        .list_executions(
            "slow",
            ListExecutionsOptions::default().with_status(Some(ExecutionStatus::Running)),
        )
        .await
        .unwrap();
    assert!(none_running.items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_workflow_errors_name_the_resource_and_the_fix() {
    let (mesh, _) = fresh("wfe").await;
    let wf = mesh.workflows();
    let e = wf
        .start("never-created", json!({}), StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(
        e.message.contains("never-created") && e.message.contains("workflows.create"),
        "{e}"
    );
    let missing = "arn:aws:states:us-east-1:123456789012:execution:nope:nope";
    let e = wf.describe(missing).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    assert!(e.message.contains(missing), "{e}");
    // Validation happens before any AWS call, with the same messages as locally.
    let e = wf
        .create(
            "bad",
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.contains("/States/A/Next"), "{e}");
    // Names too long once prefixed are refused before Step Functions sees them.
    let e = wf
        .create(
            &"n".repeat(79),
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.contains("at most"), "{e}");
    let e = wf
        .register(
            "fn",
            agent_mesh::workflows::handler(|_| async { Ok(json!(1)) }),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e.message.contains("worker"), "{e}");
    // Activities: created idempotently, under the name given.
    let first = wf.create_activity("review").await.unwrap();
    let second = wf.create_activity("review").await.unwrap();
    assert_eq!(first, second);
    assert!(first.ends_with(":activity:review"), "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_dynamodb_integration_reads_and_writes_the_kv() {
    enable_execution().await;
    let (mesh, names) = fresh("wfd").await;
    mesh.kv()
        .set("profile:ann", json!({"tz": "PST"}), Default::default())
        .await
        .unwrap();
    let definition = json!({
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {
                    "TableName": names.kv_table,
                    "Item": {"key": {"S": "profile:bob"}, "value": {"S.$": "States.JsonToString($.profile)"}}
                },
                "ResultPath": null,
                "Next": "Get"
            },
            "Get": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": names.kv_table, "Key": {"key": {"S": "profile:ann"}}},
                "ResultSelector": {"value.$": "States.StringToJson($.Item.value.S)"},
                "End": true
            }
        }
    });
    mesh.workflows()
        .create("kv-sync", definition)
        .await
        .unwrap();
    let run = mesh
        .workflows()
        .start(
            "kv-sync",
            json!({"profile": {"tz": "CET"}}),
            StartOptions::default(),
        )
        .await
        .unwrap();
    let done = mesh.workflows().wait(&run.arn, None).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(done.output, Some(json!({"value": {"tz": "PST"}})));
    let bob = mesh
        .kv()
        .get("profile:bob")
        .await
        .unwrap()
        .expect("the workflow wrote it");
    assert_eq!(bob.value, json!({"tz": "CET"}));
}
