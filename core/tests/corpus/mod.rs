//! The ASL conformance corpus (`tests/asl/corpus/*.json`), shared by the embedded-engine run
//! (`asl_corpus.rs`) and the Step Functions run on moto (`aws_workflows.rs`): loading the cases
//! and checking an execution against a case's expectation.

use std::path::PathBuf;

use std::time::Duration;

use agent_mesh::{Execution, ExecutionStatus, HistoryEvent, MeshClient, MeshConfig, StartOptions};
use serde_json::Value;

/// One corpus file: its name (without `.json`) and contents.
pub struct Case {
    pub name: String,
    pub case: Value,
}

/// Every case, in file order.
pub fn cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/asl/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/asl/corpus exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| Case {
            name: file.file_stem().unwrap().to_string_lossy().to_string(),
            case: serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap(),
        })
        .collect()
}

/// The definition with `${KV_TABLE}` replaced by the KV table's name.
pub fn substitute(definition: &Value, kv_table: &str) -> Value {
    let text = definition.to_string().replace("${KV_TABLE}", kv_table);
    serde_json::from_str(&text).expect("substituted definition is JSON")
}

/// How `done` differs from `expected` (`{"status", "output" | "output_raw", "error",
/// "cause_contains"}`), one line per difference.
pub fn differences(name: &str, expected: &Value, done: &Execution) -> Vec<String> {
    let mut failures = Vec::new();
    let status = expected["status"].as_str().unwrap();
    if done.status.as_str() != status {
        failures.push(format!(
            "{name}: status {} (error {:?}, cause {:?}, output {:?}), expected {status}",
            done.status, done.error, done.cause, done.output
        ));
        return failures;
    }
    if done.status == ExecutionStatus::Succeeded {
        // `output_raw` is an output text that is not JSON: the execution keeps it as a string.
        let wanted = expected.get("output").cloned().or_else(|| {
            expected["output_raw"].as_str().map(|raw| {
                serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
            })
        });
        if let Some(output) = wanted
            && done.output.as_ref() != Some(&output)
        {
            failures.push(format!(
                "{name}: output {}\n    expected {output}",
                done.output.clone().unwrap_or_default()
            ));
        }
    } else {
        if let Some(error) = expected.get("error").and_then(Value::as_str)
            && done.error.as_deref() != Some(error)
        {
            failures.push(format!(
                "{name}: error {:?} (cause {:?}), expected {error}",
                done.error, done.cause
            ));
        }
        if let Some(part) = expected.get("cause_contains").and_then(Value::as_str)
            && !done.cause.as_deref().unwrap_or_default().contains(part)
        {
            failures.push(format!(
                "{name}: cause {:?} does not contain {part:?}",
                done.cause
            ));
        }
    }
    failures
}

/// A finished execution's history runs from `ExecutionStarted` (id 1) to the end event matching
/// its status, with ids 1..n. `on_moto`: moto's Map threads may append an iteration's last
/// `MapIteration*` event after the end event (seen in 4 of 30 runs of case 057); such trailing
/// events are set aside there, and only there.
pub fn history_differences(
    name: &str,
    done: &Execution,
    history: &[HistoryEvent],
    on_moto: bool,
) -> Vec<String> {
    let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
    let expected_ids: Vec<u64> = (1..=history.len() as u64).collect();
    let end = match done.status {
        ExecutionStatus::Succeeded => "ExecutionSucceeded",
        ExecutionStatus::Failed => "ExecutionFailed",
        ExecutionStatus::TimedOut => "ExecutionTimedOut",
        ExecutionStatus::Aborted => "ExecutionAborted",
        ExecutionStatus::Running => "(running)",
        other => panic!("an execution status this corpus does not know: {other}"),
    };
    let mut ordered = history;
    while let Some((last, rest)) = ordered.split_last()
        && on_moto
        && last.event_type.starts_with("MapIteration")
        && rest.iter().any(|e| e.event_type == end)
    {
        ordered = rest;
    }
    let first = ordered.first().map(|e| e.event_type.as_str());
    let last = ordered.last().map(|e| e.event_type.as_str());
    if ids != expected_ids || first != Some("ExecutionStarted") || last != Some(end) {
        vec![format!(
            "{name}: history ids {ids:?}, first {first:?}, last {last:?}: expected ids 1..n from ExecutionStarted to {end}"
        )]
    } else {
        Vec::new()
    }
}

/// Runs the created state machine `machine` with `input` (execution `run`), waits up to
/// `timeout`, and returns how the execution and its history differ from `expected`.
pub async fn run(
    mesh: &MeshClient,
    name: &str,
    machine: &str,
    input: &Value,
    expected: &Value,
    timeout: Duration,
) -> Vec<String> {
    let run = mesh
        .workflows()
        .start(machine, input.clone(), StartOptions::named("run"))
        .await
        .unwrap();
    let done = mesh
        .workflows()
        .wait(&run.arn, Some(timeout))
        .await
        .unwrap();
    let mut failures = differences(name, expected, &done);
    let history = mesh.workflows().history(&run.arn).await.unwrap();
    let on_moto = matches!(mesh.config(), MeshConfig::Aws(_));
    failures.extend(history_differences(name, &done, &history, on_moto));
    failures
}
