//! Workflows on the embedded engine (local backend): the seed's content-moderation definition
//! with Rust handlers, validation, Task resolution, Retry/Catch with handler errors, activities,
//! task tokens, heartbeats, stop, listing, history and the mesh integrations.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use agent_mesh::workflows::handler;
use agent_mesh::{
    AwsNames, ErrorKind, Execution, ExecutionStatus, ListExecutionsOptions, ListOptions,
    MeshClient, StartOptions, TaskError, Workflows,
};
use serde_json::{Value, json};

async fn local_mesh() -> (tempfile::TempDir, MeshClient) {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    (dir, mesh)
}

fn content_moderation() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/workflows/content-moderation.json"
    );
    serde_json::from_str(
        &std::fs::read_to_string(path).expect("examples/workflows/content-moderation.json"),
    )
    .unwrap()
}

const WAIT: Option<Duration> = Some(Duration::from_secs(20));

/// The first task token a handler recorded in `tokens`, once there is one.
async fn first_token(tokens: &std::sync::Mutex<Vec<String>>) -> String {
    loop {
        if let Some(t) = tokens.lock().unwrap().first().cloned() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts the state machine `name` with `input` and waits for the execution to end.
async fn run_to_end(wf: &Workflows, name: &str, input: Value) -> Execution {
    let run = wf
        .start(name, input, StartOptions::default())
        .await
        .unwrap();
    wf.wait(&run.arn, WAIT).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_moderation_runs_with_rust_handlers_and_takes_both_branches() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let extracted = Arc::new(AtomicU32::new(0));
    let counter = extracted.clone();
    wf.register(
        "content-extractor",
        handler(move |task| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                let input = &task.input["Input"];
                Ok(json!({"content_id": input["content_id"], "words": input["text"].as_str().unwrap_or("").split(' ').count()}))
            }
        }),
    )
    .unwrap();
    // The policy checker gets only {"TaskDefinition": ...}: it reads the text from the context.
    wf.register(
        "policy-checker",
        handler(|task| async move {
            let text = task.context["Execution"]["Input"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let verdict = if text.contains("spam") {
                "unsafe"
            } else {
                "safe"
            };
            Ok(json!({"policy_result": verdict}))
        }),
    )
    .unwrap();
    wf.create("content-moderation", content_moderation())
        .await
        .unwrap();
    for (text, status) in [("hello world", "published"), ("buy spam now", "flagged")] {
        let run = wf
            .start(
                "content-moderation",
                json!({"content_id": "c1", "text": text}),
                StartOptions::default(),
            )
            .await
            .unwrap();
        let done = wf.wait(&run.arn, WAIT).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(done.output.unwrap()["status"], status);
        let types: Vec<String> = wf
            .history(&run.arn)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.event_type)
            .collect();
        assert_eq!(types.first().map(String::as_str), Some("ExecutionStarted"));
        assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
        assert_eq!(
            types.iter().filter(|t| *t == "TaskSucceeded").count(),
            2,
            "{types:?}"
        );
        assert!(types.contains(&"ChoiceStateExited".to_owned()));
    }
    assert_eq!(extracted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn bad_definitions_are_rejected_at_create_naming_state_and_field() {
    let (_dir, mesh) = local_mesh().await;
    let cases = [
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}),
            "/States/A/Next",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "B": {"Type": "Pass", "End": true}}}),
            "/States/B: the state is unreachable",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}),
            "/States/A: has neither Next nor End",
        ),
        (
            json!({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": true}}}),
            "/StartAt",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[", "End": true}}}),
            "/States/A/InputPath",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Nope(1)"}, "End": true}}}),
            "/States/A/Parameters",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.ArrayLength()"}, "End": true}}}),
            "/States/A/Parameters",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}),
            "/States/A/Resource",
        ),
        (
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Resullt": 1, "End": true}}}),
            "/States/A/Resullt",
        ),
    ];
    for (definition, expected) in cases {
        let err = mesh
            .workflows()
            .create("bad", definition.clone())
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{definition}");
        assert!(
            err.message.contains(expected),
            "{expected:?} not in {:?}",
            err.message
        );
    }
    let err = mesh
        .workflows()
        .create("bad", json!("{not json"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    let err = mesh
        .workflows()
        .start("never-created", json!({}), StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    mesh.workflows()
        .create(
            "ok",
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}),
        )
        .await
        .unwrap();
    let big = json!({"blob": "x".repeat(300 * 1024)});
    let err = mesh
        .workflows()
        .start("ok", big, StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge);
}

#[tokio::test]
async fn tasks_resolve_by_function_name_and_fail_clearly_without_a_handler() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.register(
        "double",
        handler(|t| async move { Ok(json!(t.input["n"].as_i64().unwrap() * 2)) }),
    )
    .unwrap();
    wf.create(
        "lambda",
        json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:double:live", "Payload": {"n.$": "$.n"}},
            "ResultSelector": {"value.$": "$.Payload", "code.$": "$.StatusCode"}, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("lambda", json!({"n": 21}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.output, Some(json!({"value": 42, "code": 200})));

    wf.create("orphan", json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "summarise", "End": true}}})).await.unwrap();
    let run = wf
        .start("orphan", json!({}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.TaskFailed"));
    assert!(done.cause.unwrap().contains("'summarise'"));
}

#[tokio::test]
async fn handler_errors_are_retried_then_caught_by_name() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    wf.register(
        "flaky",
        handler(move |_| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err::<Value, _>(TaskError::new("Flaky.Error", "always fails"))
            }
        }),
    )
    .unwrap();
    wf.create(
        "retry",
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "flaky",
                  "Retry": [{"ErrorEquals": ["Flaky.Error"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1, "MaxDelaySeconds": 1}],
                  "Catch": [{"ErrorEquals": ["Flaky.Error"], "ResultPath": "$.err", "Next": "Recovered"}], "End": true},
            "Recovered": {"Type": "Pass", "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("retry", json!({"k": 1}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one call and two retries");
    assert_eq!(
        done.output,
        Some(json!({"k": 1, "err": {"Error": "Flaky.Error", "Cause": "always fails"}}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activities_task_tokens_and_heartbeats() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let arn = wf.create_activity("review").await.unwrap();
    let _worker = wf
        .worker(
            &arn,
            handler(
                |t| async move { Ok(json!({"approved": t.input["score"].as_i64() > Some(5)})) },
            ),
        )
        .await
        .unwrap();
    // The definition names the activity with a real AWS ARN: matched by name.
    wf.create(
        "activity",
        json!({"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:review", "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("activity", json!({"score": 9}), StartOptions::default())
        .await
        .unwrap();
    assert_eq!(
        wf.wait(&run.arn, WAIT).await.unwrap().output,
        Some(json!({"approved": true}))
    );

    // Callback: the handler hands the token on; send_task_success completes the task.
    let tokens = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let t2 = tokens.clone();
    wf.register(
        "notify",
        handler(move |t| {
            let t2 = t2.clone();
            async move {
                t2.lock()
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
    let token = first_token(&tokens).await;
    assert_eq!(
        wf.describe(&run.arn).await.unwrap().status,
        ExecutionStatus::Running
    );
    wf.send_task_heartbeat(&token).await.unwrap();
    wf.send_task_success(&token, json!({"answer": "yes"}))
        .await
        .unwrap();
    assert_eq!(
        wf.wait(&run.arn, WAIT).await.unwrap().output,
        Some(json!({"answer": "yes"}))
    );
    let again = wf.send_task_success(&token, json!(1)).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::Conflict);
    assert_eq!(
        wf.send_task_success("no-such-token", json!(1))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );

    // No heartbeat within HeartbeatSeconds: States.HeartbeatTimeout.
    wf.create(
        "silent",
        json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "HeartbeatSeconds": 1, "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("silent", json!({}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(
        done.error.as_deref(),
        Some("States.HeartbeatTimeout"),
        "{done:?}"
    );
}

/// A handler of this process keeps a `HeartbeatSeconds` task alive with `send_task_heartbeat`
/// and its task token (what Python and Node handlers call); one that sends none times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_heartbeat_with_send_task_heartbeat() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let beats = Arc::new(AtomicU32::new(0));
    let tokens = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (mesh2, beats2, tokens2) = (mesh.clone(), beats.clone(), tokens.clone());
    wf.register(
        "slow",
        handler(move |t| {
            let (mesh, beats) = (mesh2.clone(), beats2.clone());
            tokens2.lock().unwrap().push(t.token.clone());
            async move {
                assert_eq!(t.context["Task"]["Token"].as_str(), Some(t.token.as_str()));
                if let Some(token) = t.input["token"].as_str() {
                    // A mesh error passed on with `?` fails the task under its kind's name.
                    mesh.workflows().send_task_heartbeat(token).await?;
                }
                for _ in 0..8 {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if t.input["beat"] == json!(true) {
                        mesh.workflows().send_task_heartbeat(&t.token).await?;
                        beats.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Ok(json!("done"))
            }
        }),
    )
    .unwrap();
    wf.create(
        "beating",
        json!({"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": "slow", "HeartbeatSeconds": 1, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("beating", json!({"beat": true}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(done.output, Some(json!("done")));
    assert_eq!(beats.load(Ordering::SeqCst), 8);

    let run = wf
        .start("beating", json!({"beat": false}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(
        done.error.as_deref(),
        Some("States.HeartbeatTimeout"),
        "{done:?}"
    );
    let run = wf
        .start(
            "beating",
            json!({"token": "bogus"}),
            StartOptions::default(),
        )
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.error.as_deref(), Some("NotFound"), "{done:?}");
    // The token is named by its fingerprint, never in full (tokens are credentials).
    let cause = done.cause.as_deref().unwrap_or_default();
    assert!(
        cause.contains(&agent_mesh::unstable::redact::token_label("bogus"))
            && !cause.contains("bogus"),
        "{done:?}"
    );
    // Once its handler has ended, a token takes no more heartbeats.
    let first = tokens.lock().unwrap()[0].clone();
    let late = wf.send_task_heartbeat(&first).await.unwrap_err();
    assert_eq!(late.kind, ErrorKind::NotFound, "{late}");
}

#[tokio::test]
async fn stop_list_and_history() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    wf.create(
        "sleepy",
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}),
    )
    .await
    .unwrap();
    let mut arns = Vec::new();
    for i in 0..5 {
        arns.push(
            wf.start(
                "sleepy",
                json!({"i": i}),
                StartOptions::named(format!("run-{i}")),
            )
            .await
            .unwrap()
            .arn,
        );
    }
    // Same name and input: the same execution; another input: a conflict.
    let again = wf
        .start("sleepy", json!({"i": 0}), StartOptions::named("run-0"))
        .await
        .unwrap();
    assert_eq!(again.arn, arns[0]);
    assert_eq!(
        wf.start("sleepy", json!({"i": 9}), StartOptions::named("run-0"))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    let stopped = wf
        .stop(&arns[0], Some("Manual"), Some("stopped by the test"))
        .await
        .unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    assert_eq!(stopped.error.as_deref(), Some("Manual"));
    let history = wf.history(&arns[0]).await.unwrap();
    assert_eq!(history.last().unwrap().event_type, "ExecutionAborted");
    assert_eq!(
        history.iter().map(|e| e.id).collect::<Vec<_>>(),
        (1..=history.len() as u64).collect::<Vec<_>>()
    );

    let mut seen = Vec::new();
    let mut options = ListExecutionsOptions::default().with_page(ListOptions::limit(2));
    loop {
        let page = wf.list_executions("sleepy", options.clone()).await.unwrap();
        seen.extend(page.items.into_iter().map(|e| e.name));
        match page.next_cursor {
            Some(c) => options.page.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec!["run-4", "run-3", "run-2", "run-1", "run-0"]);
    let aborted = wf
        .list_executions(
            "sleepy",
            ListExecutionsOptions::default().with_status(Some(ExecutionStatus::Aborted)),
        )
        .await
        .unwrap();
    assert_eq!(aborted.items.len(), 1);
    for arn in &arns[1..] {
        wf.stop(arn, None, None).await.unwrap();
    }
}

#[tokio::test]
async fn integrations_use_the_mesh_kv_and_events() {
    let (_dir, mesh) = local_mesh().await;
    let table = AwsNames::resolve(&Default::default()).kv_table;
    let wf = mesh.workflows();
    wf.create(
        "store",
        json!({"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                    "Parameters": {"TableName": table, "Item": {"key": {"S.$": "$.key"}, "value": {"S.$": "States.JsonToString($.doc)"}}},
                    "ResultPath": null, "Next": "Announce"},
            "Announce": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                    "Parameters": {"Entries": [{"DetailType": "DocStored", "Source": "workflow", "Detail": {"key.$": "$.key"}}]},
                    "ResultSelector": {"failed.$": "$.FailedEntryCount"}, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start(
            "store",
            json!({"key": "doc:1", "doc": {"pages": 3}}),
            StartOptions::default(),
        )
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.output, Some(json!({"failed": 0})), "{done:?}");
    assert_eq!(
        mesh.kv().get("doc:1").await.unwrap().unwrap().value,
        json!({"pages": 3})
    );
    let events = mesh
        .timeline()
        .get("events/workflow/", Default::default())
        .await
        .unwrap();
    assert_eq!(events.items.len(), 1);
    assert_eq!(events.items[0].data["detail"], json!({"key": "doc:1"}));
}

/// A Task over its `TimeoutSeconds` (or `TimeoutSecondsPath`) fails with `States.Timeout`,
/// recorded as `TaskTimedOut` and caught by name; `HeartbeatSecondsPath` reads the input; a
/// path to a value that is not a non-negative integer fails with `States.Runtime` naming the
/// state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_timeouts_fail_with_states_timeout_and_are_caught() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    wf.register(
        "sleepy",
        handler(move |t| {
            c.fetch_add(1, Ordering::SeqCst);
            async move {
                let ms = t.input["sleep_ms"].as_u64().unwrap_or(3000);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(json!("woke"))
            }
        }),
    )
    .unwrap();
    wf.create(
        "fixed",
        json!({"StartAt": "Slow", "States": {
            "Slow": {"Type": "Task", "Resource": "sleepy", "TimeoutSeconds": 1, "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("fixed", json!({}), StartOptions::default())
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(done.status, ExecutionStatus::Failed, "{done:?}");
    assert_eq!(done.error.as_deref(), Some("States.Timeout"), "{done:?}");
    assert!(
        done.cause.as_deref().unwrap_or_default().contains("Slow"),
        "{done:?}"
    );
    let history = wf.history(&run.arn).await.unwrap();
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert!(types.contains(&"TaskTimedOut"), "{types:?}");
    assert!(!types.contains(&"TaskSucceeded"), "{types:?}");

    wf.create(
        "from-input",
        json!({"StartAt": "Slow", "States": {
            "Slow": {"Type": "Task", "Resource": "sleepy", "TimeoutSecondsPath": "$.limit",
                     "HeartbeatSecondsPath": "$.beat",
                     "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "TimedOut"}],
                     "End": true},
            "TimedOut": {"Type": "Pass", "End": true}}}),
    )
    .await
    .unwrap();
    let caught = run_to_end(wf, "from-input", json!({"limit": 1, "beat": 30})).await;
    assert_eq!(caught.status, ExecutionStatus::Succeeded, "{caught:?}");
    assert_eq!(
        caught.output.unwrap()["err"]["Error"],
        json!("States.Timeout")
    );
    let in_time = run_to_end(
        wf,
        "from-input",
        json!({"limit": 5, "beat": 30, "sleep_ms": 10}),
    )
    .await;
    assert_eq!(in_time.output, Some(json!("woke")), "{in_time:?}");
    let no_beat = run_to_end(wf, "from-input", json!({"limit": 30, "beat": 1})).await;
    assert_eq!(
        no_beat.error.as_deref(),
        Some("States.HeartbeatTimeout"),
        "{no_beat:?}"
    );
    let calls_before = calls.load(Ordering::SeqCst);
    let bad = run_to_end(wf, "from-input", json!({"limit": "soon", "beat": 30})).await;
    assert_eq!(bad.error.as_deref(), Some("States.Runtime"), "{bad:?}");
    let cause = bad.cause.unwrap_or_default();
    assert!(
        cause.contains("'Slow'") && cause.contains("soon"),
        "{cause}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        calls_before,
        "the task never ran"
    );
}

/// `aws-sdk:s3:putObject`/`getObject` on the mesh's artifacts bucket read and write the mesh's
/// artifacts; a missing key and another bucket fail with S3's error names.
#[tokio::test]
async fn s3_integrations_use_the_mesh_artifacts() {
    let (_dir, mesh) = local_mesh().await;
    let bucket = AwsNames::resolve(&Default::default()).artifacts_bucket;
    let wf = mesh.workflows();
    wf.create(
        "objects",
        json!({"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                    "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.key", "Body.$": "$.body", "ContentType": "text/plain"},
                    "ResultPath": "$.put", "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket.$": "$.bucket", "Key.$": "$.read"},
                    "ResultSelector": {"body.$": "$.Body", "type.$": "$.ContentType", "length.$": "$.ContentLength"},
                    "Catch": [{"ErrorEquals": ["S3.NoSuchKeyException"], "ResultPath": "$.err", "Next": "Missing"}],
                    "End": true},
            "Missing": {"Type": "Pass", "OutputPath": "$.err", "End": true}}}),
    )
    .await
    .unwrap();
    let done = run_to_end(
        wf,
        "objects",
        json!({"bucket": bucket, "key": "notes/a.txt", "body": "hello", "read": "notes/a.txt"}),
    )
    .await;
    assert_eq!(
        done.output,
        Some(json!({"body": "hello", "type": "text/plain", "length": 5})),
        "{done:?}"
    );
    let stored = mesh.artifacts().get("notes/a.txt").await.unwrap().unwrap();
    assert_eq!(
        (&stored.data[..], stored.meta.content_type.as_str()),
        (&b"hello"[..], "text/plain")
    );
    let missing = run_to_end(
        wf,
        "objects",
        json!({"bucket": bucket, "key": "notes/b.txt", "body": "x", "read": "notes/none"}),
    )
    .await;
    assert_eq!(
        missing.output.unwrap()["Error"],
        json!("S3.NoSuchKeyException")
    );
    let other = run_to_end(
        wf,
        "objects",
        json!({"bucket": "someone-elses", "key": "k", "body": "x", "read": "k"}),
    )
    .await;
    assert_eq!(
        other.error.as_deref(),
        Some("S3.NoSuchBucketException"),
        "{other:?}"
    );
    assert!(
        other.cause.unwrap_or_default().contains("someone-elses"),
        "the cause names the bucket"
    );
    assert_eq!(mesh.artifacts().get("k").await.unwrap(), None);
}

/// Stopping a worker is graceful: the task it is handling is still completed and reported,
/// and once `stopped()` resolves it takes no new task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_completes_the_task_in_hand_and_takes_no_more() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let arn = wf.create_activity("slow-review").await.unwrap();
    wf.create(
        "reviewed",
        json!({"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": arn, "End": true}}}),
    )
    .await
    .unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let began = started.clone();
    let worker = wf
        .worker(
            "slow-review",
            handler(move |t| {
                began.notify_one();
                async move {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    Ok(json!({"reviewed": t.input["doc"]}))
                }
            }),
        )
        .await
        .unwrap();
    let first = wf
        .start("reviewed", json!({"doc": 1}), StartOptions::default())
        .await
        .unwrap();
    started.notified().await;
    worker.stop();
    tokio::time::timeout(Duration::from_secs(10), worker.stopped())
        .await
        .expect("the worker stops within its poll and the task in hand");
    let done = wf.describe(&first.arn).await.unwrap();
    let done = match done.status {
        ExecutionStatus::Running => wf.wait(&first.arn, WAIT).await.unwrap(),
        _ => done,
    };
    assert_eq!(done.output, Some(json!({"reviewed": 1})), "{done:?}");

    let second = wf
        .start("reviewed", json!({"doc": 2}), StartOptions::default())
        .await
        .unwrap();
    let waiting = wf
        .wait(&second.arn, Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    assert_eq!(
        waiting.status,
        ExecutionStatus::Running,
        "no worker took it"
    );
    let _again = wf
        .worker(
            &arn,
            handler(|t| async move { Ok(json!({"reviewed": t.input["doc"]})) }),
        )
        .await
        .unwrap();
    assert_eq!(
        wf.wait(&second.arn, WAIT).await.unwrap().output,
        Some(json!({"reviewed": 2}))
    );
}

/// `send_task_failure` fails a `.waitForTaskToken` task with the given error and cause, which
/// `Catch` matches by name; the token takes no second completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_task_failure_fails_the_waiting_task_by_name() {
    let (_dir, mesh) = local_mesh().await;
    let wf = mesh.workflows();
    let tokens = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = tokens.clone();
    wf.register(
        "ask",
        handler(move |t| {
            seen.lock().unwrap().push(t.token.clone());
            async move { Ok(Value::Null) }
        }),
    )
    .unwrap();
    wf.create(
        "approval",
        json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "Parameters": {"FunctionName": "ask", "Payload": {}},
                    "Catch": [{"ErrorEquals": ["Approval.Denied"], "ResultPath": "$.denied", "Next": "Denied"}],
                    "End": true},
            "Denied": {"Type": "Pass", "End": true}}}),
    )
    .await
    .unwrap();
    let run = wf
        .start("approval", json!({"doc": 7}), StartOptions::default())
        .await
        .unwrap();
    let token = first_token(&tokens).await;
    wf.send_task_failure(&token, "Approval.Denied", "not today")
        .await
        .unwrap();
    let done = wf.wait(&run.arn, WAIT).await.unwrap();
    assert_eq!(
        done.output,
        Some(json!({"doc": 7, "denied": {"Error": "Approval.Denied", "Cause": "not today"}})),
        "{done:?}"
    );
    let again = wf
        .send_task_failure(&token, "Approval.Denied", "twice")
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Conflict, "{again}");
}
