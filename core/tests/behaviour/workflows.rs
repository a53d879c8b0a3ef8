//! Workflow behaviour cases, on every backend (aws:// on moto's executing Step Functions): the
//! same cases as `test_workflows.py` (its `any_mesh` tests) and `workflows.test.js` (its
//! `behaviour` cases), listed in tests/behaviour/cases.json. Task handlers are not here: they
//! need the embedded engine (core/tests/workflows.rs).

use std::time::Duration;

use agent_mesh::{
    ErrorKind, ExecutionStatus, ListExecutionsOptions, ListOptions, MeshConfig, StartOptions,
};
use serde_json::{Value, json};

/// How long a short execution may take to finish (moto runs them on a thread).
const FINISH: Duration = Duration::from_secs(20);

fn is_aws(mesh: &crate::TestMesh) -> bool {
    matches!(mesh.config(), MeshConfig::Aws(_))
}

fn pass_choice() -> Value {
    json!({
        "StartAt": "Stamp",
        "States": {
            "Stamp": {"Type": "Pass", "Result": {"by": "pass"}, "ResultPath": "$.stamp", "Next": "Size"},
            "Size": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
                "Default": "Small"
            },
            "Big": {"Type": "Pass", "Parameters": {"size": "big", "n.$": "$.n", "by.$": "$.stamp.by"}, "End": true},
            "Small": {"Type": "Pass", "Parameters": {"size": "small", "n.$": "$.n"}, "End": true}
        }
    })
}

fn sleepy() -> Value {
    json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}})
}

pub async fn pass_and_choice_output(mesh: &crate::TestMesh) {
    let wf = mesh.workflows();
    let info = wf.create("router", pass_choice()).await.unwrap();
    assert_eq!(info.name, "router");
    assert!(info.arn.contains(":stateMachine:") && info.arn.ends_with("router"));
    // JSON text is accepted too, and replaces the definition.
    wf.create("router", Value::String(pass_choice().to_string()))
        .await
        .unwrap();
    for (n, expected) in [
        (42, json!({"size": "big", "n": 42, "by": "pass"})),
        (3, json!({"size": "small", "n": 3})),
    ] {
        let name = format!("run-{n}");
        let started = wf
            .start("router", json!({"n": n}), StartOptions::named(&name))
            .await
            .unwrap();
        assert_eq!(started.name, name);
        let done = wf.wait(&started.arn, Some(FINISH)).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(done.output, Some(expected));
        assert_eq!(done.input, json!({"n": n}));
        assert_eq!(
            (done.arn.as_str(), done.name.as_str()),
            (started.arn.as_str(), name.as_str())
        );
        assert_eq!(done.state_machine, "router");
        assert_eq!((done.error.as_deref(), done.cause.as_deref()), (None, None));
        let stopped = done.stop_date.expect("a stop date");
        assert!(done.start_date <= stopped);
        assert_eq!(wf.describe(&started.arn).await.unwrap().output, done.output);
    }
}

pub async fn invalid_definitions_raise_invalid_input(mesh: &crate::TestMesh) {
    let wf = mesh.workflows();
    let dangling =
        json!({"StartAt": "First", "States": {"First": {"Type": "Pass", "Next": "Nowhere"}}});
    let e = wf.create("broken", dangling).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    assert!(
        e.message.contains("First") && e.message.contains("Nowhere"),
        "{e}"
    );
    let e = wf
        .create("broken", json!("{\"StartAt\": "))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    let one_pass = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    let e = wf.create("bad name!", one_pass.clone()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    wf.create("ok", one_pass).await.unwrap();
    let e = wf
        .start("ok", json!({}), StartOptions::named("spaces are bad"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    let e = wf
        .start("missing", json!({}), StartOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    let e = wf
        .list_executions(
            "ok",
            ListExecutionsOptions::default().with_page(ListOptions::limit(0)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
}

pub async fn history_lists_events_in_order(mesh: &crate::TestMesh) {
    let wf = mesh.workflows();
    wf.create("router", pass_choice()).await.unwrap();
    let started = wf
        .start("router", json!({"n": 1}), StartOptions::default())
        .await
        .unwrap();
    wf.wait(&started.arn, Some(FINISH)).await.unwrap();
    let history = wf.history(&started.arn).await.unwrap();
    let types: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ]
    );
    let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<u64>>());
    // moto reports previousEventId 0 for every event; Step Functions and the engine chain them.
    if !is_aws(mesh) {
        let previous: Vec<u64> = history.iter().map(|e| e.previous_event_id).collect();
        assert_eq!(previous, (0..8).collect::<Vec<u64>>());
    }
    assert!(history.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    assert_eq!(history[1].details["name"], "Stamp");
    assert_eq!(history[5].details["name"], "Small");
}

pub async fn wait_timeout_and_stop(mesh: &crate::TestMesh) {
    let wf = mesh.workflows();
    wf.create("slow", sleepy()).await.unwrap();
    let started = wf
        .start("slow", json!({"x": 1}), StartOptions::default())
        .await
        .unwrap();
    let clock = std::time::Instant::now();
    let running = wf
        .wait(&started.arn, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    assert_eq!(running.status, ExecutionStatus::Running);
    assert!(running.stop_date.is_none());
    assert!(
        clock.elapsed() >= Duration::from_millis(250),
        "{:?}",
        clock.elapsed()
    );
    let stopped = wf
        .stop(
            &started.arn,
            Some("Operator.Cancelled"),
            Some("not needed any more"),
        )
        .await
        .unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
    // moto's DescribeExecution drops StopExecution's error and cause; the engine keeps them.
    if !is_aws(mesh) {
        assert_eq!(
            (stopped.error.as_deref(), stopped.cause.as_deref()),
            (Some("Operator.Cancelled"), Some("not needed any more"))
        );
    }
    let described = wf.describe(&started.arn).await.unwrap();
    assert_eq!(described.status, ExecutionStatus::Aborted);
    assert!(described.stop_date.is_some());
    let history = wf.history(&started.arn).await.unwrap();
    assert_eq!(history.last().unwrap().event_type, "ExecutionAborted");
    let other = wf
        .start("slow", json!({}), StartOptions::default())
        .await
        .unwrap();
    let stopped = wf.stop(&other.arn, None, None).await.unwrap();
    assert_eq!(stopped.status, ExecutionStatus::Aborted);
}

pub async fn list_executions_pages(mesh: &crate::TestMesh) {
    let wf = mesh.workflows();
    wf.create("sleepy", sleepy()).await.unwrap();
    let mut arns = Vec::new();
    for i in 0..5 {
        let started = wf
            .start(
                "sleepy",
                json!({"i": i}),
                StartOptions::named(format!("run-{i}")),
            )
            .await
            .unwrap();
        arns.push(started.arn);
        // Start dates one apart, so newest-first order is defined on every backend.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    wf.stop(&arns[0], None, None).await.unwrap();
    let mut seen = Vec::new();
    let mut options = ListExecutionsOptions::default().with_page(ListOptions::limit(2));
    loop {
        let page = wf.list_executions("sleepy", options.clone()).await.unwrap();
        assert!(page.items.len() <= 2);
        assert!(page.items.iter().all(|e| e.state_machine == "sleepy"));
        seen.extend(page.items.into_iter().map(|e| e.name));
        match page.next_cursor {
            Some(cursor) => options.page = ListOptions::limit(2).with_cursor(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, ["run-4", "run-3", "run-2", "run-1", "run-0"]);
    let aborted = wf
        .list_executions(
            "sleepy",
            ListExecutionsOptions::default().with_status(Some(ExecutionStatus::Aborted)),
        )
        .await
        .unwrap();
    let aborted: Vec<&str> = aborted.items.iter().map(|e| e.arn.as_str()).collect();
    assert_eq!(aborted, [arns[0].as_str()]);
    let running = wf
        .list_executions(
            "sleepy",
            ListExecutionsOptions::default().with_status(Some(ExecutionStatus::Running)),
        )
        .await
        .unwrap();
    assert_eq!(running.items.len(), 4);
    for arn in &arns[1..] {
        wf.stop(arn, None, None).await.unwrap();
    }
}
