//! The ASL conformance corpus (`tests/asl/corpus/*.json`) on the embedded engine: every case's
//! definition runs with its input and must end with the documented status and output (or
//! error and cause). The same files run on moto's Step Functions in `tests/asl/test_corpus_moto.py`.

use std::path::PathBuf;
use std::time::Duration;

use agent_mesh::{AwsNames, ExecutionStatus, MeshClient, StartOptions};
use serde_json::Value;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/asl/corpus")
}

fn substitute(definition: &Value, kv_table: &str) -> Value {
    let text = definition.to_string().replace("${KV_TABLE}", kv_table);
    serde_json::from_str(&text).expect("substituted definition is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_corpus_case_ends_as_documented_on_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    let kv_table = AwsNames::resolve(&Default::default()).kv_table;
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("tests/asl/corpus exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 60,
        "the corpus has {} cases; at least 60 expected",
        files.len()
    );
    let mut failures = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let case: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let machine = case["state_machine_name"]
            .as_str()
            .map_or_else(|| format!("corpus-{i:03}"), str::to_owned);
        let definition = substitute(&case["definition"], &kv_table);
        if let Err(e) = mesh.workflows().create(&machine, definition).await {
            failures.push(format!("{name}: create failed: {e}"));
            continue;
        }
        let run = mesh
            .workflows()
            .start(&machine, case["input"].clone(), StartOptions::named("run"))
            .await
            .unwrap();
        let done = mesh
            .workflows()
            .wait(&run.arn, Some(Duration::from_secs(30)))
            .await
            .unwrap();
        let expected = &case["expected"];
        let status = expected["status"].as_str().unwrap();
        if done.status.as_str() != status {
            failures.push(format!(
                "{name}: status {} (error {:?}, cause {:?}, output {:?}), expected {status}",
                done.status, done.error, done.cause, done.output
            ));
            continue;
        }
        if done.status == ExecutionStatus::Succeeded {
            if let Some(output) = expected.get("output")
                && done.output.as_ref() != Some(output)
            {
                failures.push(format!(
                    "{name}: output {}\n    expected {output}",
                    done.output.unwrap_or_default()
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
        // Every finished execution has an unbroken history from ExecutionStarted to its end.
        let history = mesh.workflows().history(&run.arn).await.unwrap();
        let ids: Vec<u64> = history.iter().map(|e| e.id).collect();
        let expected_ids: Vec<u64> = (1..=history.len() as u64).collect();
        if ids != expected_ids
            || history.first().map(|e| e.event_type.as_str()) != Some("ExecutionStarted")
        {
            failures.push(format!(
                "{name}: history ids {ids:?} are not 1..n starting with ExecutionStarted"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
