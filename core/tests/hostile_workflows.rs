//! Hostile workflows on the embedded engine: state machines and tokens that would crash, hang or
//! fill the disk end as Step Functions ends them instead.
//! - a two-state Pass loop ends `FAILED` at the 25,000-event history quota, and `wait` returns;
//! - a Task handler that panics fails its execution with `States.Runtime`, the lease is released
//!   and `wait` returns;
//! - task tokens cannot be computed from what a caller knows (the execution ARN, the state), a
//!   forged token is `TaskDoesNotExist`, a replayed one `TaskTimedOut`;
//! - extreme `Wait` seconds and `Retry` numbers do not overflow.

use std::sync::Arc;
use std::time::Duration;

use agent_mesh::workflows::handler;
use agent_mesh::{ErrorKind, ExecutionStatus, MeshClient, StartOptions};
use serde_json::{Value, json};

async fn local_mesh() -> (tempfile::TempDir, MeshClient) {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    (dir, mesh)
}

const WAIT: Option<Duration> = Some(Duration::from_secs(120));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_loop_ends_failed_at_the_history_quota() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.create(
        "loop",
        json!({"StartAt": "Ping", "States": {
            "Ping": {"Type": "Pass", "Next": "Pong"},
            "Pong": {"Type": "Pass", "Next": "Ping"}
        }}),
    )
    .await
    .unwrap();
    let run = wf
        .start("loop", json!({}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("States.Runtime"));
    assert!(done.cause.as_deref().unwrap().contains("25000"), "{done:?}");
    let history = wf.history(&run.arn).await.unwrap();
    assert!(
        (25_000..=25_002).contains(&history.len()),
        "{} events",
        history.len()
    );
    assert_eq!(history.last().unwrap().event_type, "ExecutionFailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_all_cannot_outlive_the_history_quota() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.register(
        "fails",
        handler(|_| async { Err(agent_mesh::TaskError::new("Boom", "again")) }),
    )
    .unwrap();
    wf.create(
        "stubborn",
        json!({"StartAt": "Try", "States": {
            "Try": {"Type": "Task", "Resource": "fails",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 99999999, "IntervalSeconds": 1, "BackoffRate": 1, "MaxDelaySeconds": 1, "JitterStrategy": "FULL"}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Try"}],
                    "End": true}
        }}),
    )
    .await
    .unwrap();
    // With IntervalSeconds 1 this would take days to reach the quota; the test only checks that
    // the quota check sits inside the retry loop: the retry count is what grows the history.
    let run = wf
        .start("stubborn", json!({}), StartOptions::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let described = wf.describe(&run.arn).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Running);
    wf.stop(&run.arn, None, None).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_the_execution_with_states_runtime() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.register(
        "explodes",
        handler(|task| async move {
            if task.input["boom"] == json!(true) {
                panic!("the handler exploded");
            }
            Ok(json!("fine"))
        }),
    )
    .unwrap();
    wf.create(
        "panics",
        json!({"StartAt": "Go", "States": {"Go": {"Type": "Task", "Resource": "explodes", "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("panics", json!({"boom": true}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("States.Runtime"), "{done:?}");
    assert!(
        done.cause
            .as_deref()
            .unwrap()
            .contains("the handler exploded"),
        "{done:?}"
    );
    // The process goes on: the next execution runs.
    let run = wf
        .start("panics", json!({"boom": false}), StartOptions::default())
        .await
        .unwrap();
    assert_eq!(
        wf.wait(&run.arn, WAIT).await.unwrap().output,
        Some(json!("fine"))
    );
}

/// The token scheme of earlier versions: SHA-256 of what anyone who knows the ARN knows.
fn recomputed_token(arn: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{arn}\n\n0\n0").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_tokens_cannot_be_forged_or_replayed() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let tokens = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = tokens.clone();
    wf.register(
        "notify",
        handler(move |t| {
            let seen = seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(t.input["token"].as_str().unwrap().to_owned());
                Ok(Value::Null)
            }
        }),
    )
    .unwrap();
    wf.create(
        "callback",
        json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("callback", json!({}), StartOptions::default())
        .await
        .unwrap();
    let token = loop {
        if let Some(t) = tokens.lock().unwrap().first().cloned() {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(token.len() >= 32, "at least 128 bits: {token}");
    let forged = recomputed_token(&run.arn);
    assert_ne!(forged, token);
    let error = wf
        .send_task_success(&forged, json!("forged"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound, "{error}");
    assert!(error.message.contains("TaskDoesNotExist"), "{error}");
    assert!(
        !error.message.contains(&forged),
        "tokens never appear in messages: {error}"
    );
    wf.send_task_success(&token, json!("real")).await.unwrap();
    assert_eq!(
        wf.wait(&run.arn, WAIT).await.unwrap().output,
        Some(json!("real"))
    );
    let replayed = wf
        .send_task_success(&token, json!("again"))
        .await
        .unwrap_err();
    assert_eq!(replayed.kind, ErrorKind::Conflict, "{replayed}");
    assert!(replayed.message.contains("TaskTimedOut"), "{replayed}");

    // Another mesh's tokens for an execution of the same name differ (another secret).
    let (_dir2, other) = local_mesh().await;
    assert_ne!(
        other
            .workflows()
            .create(
                "callback",
                json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}})
            )
            .await
            .unwrap()
            .arn,
        ""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_wait_seconds_do_not_overflow() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.create(
        "sleepy",
        json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}}),
    )
    .await
    .unwrap();
    for seconds in [
        json!(9_223_372_036_854_775_807u64),
        json!(18_446_744_073_709_551_615u64),
    ] {
        let run = wf
            .start("sleepy", json!({"s": seconds}), StartOptions::default())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let described = wf.describe(&run.arn).await.unwrap();
        assert!(
            matches!(
                described.status,
                ExecutionStatus::Running | ExecutionStatus::Failed
            ),
            "{described:?}"
        );
        let stopped = wf.stop(&run.arn, None, None).await;
        assert!(stopped.is_ok() || described.status == ExecutionStatus::Failed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_at_the_depth_limit_is_readable_through_describe_and_history() {
    for url in ["memory://", "local"] {
        let (_dir, mesh) = local_mesh().await;
        let mesh = if url == "memory://" {
            MeshClient::connect(url).await.unwrap()
        } else {
            mesh
        };
        let wf = mesh.workflows();
        let mut deepest = json!(1);
        for _ in 0..agent_mesh::unstable::validate::MAX_VALUE_DEPTH {
            deepest = Value::Object(serde_json::Map::from_iter([("a".to_owned(), deepest)]));
        }
        wf.create(
            "echo",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        )
        .await
        .unwrap();
        let run = wf
            .start("echo", deepest.clone(), StartOptions::default())
            .await
            .unwrap();
        let done = wf.wait(&run.arn, WAIT).await.unwrap();
        assert_eq!(done.output.as_ref(), Some(&deepest), "{url}");
        assert_eq!(wf.describe(&run.arn).await.unwrap().input, deepest, "{url}");
        let history = wf.history(&run.arn).await.unwrap();
        assert_eq!(history.first().unwrap().event_type, "ExecutionStarted");
        let mut deeper = deepest;
        deeper = Value::Array(vec![deeper]);
        let error = wf
            .start("echo", deeper, StartOptions::default())
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{url}: {error}");
    }
}
