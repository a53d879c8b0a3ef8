//! The ASL conformance corpus (`tests/asl/corpus/*.json`) on the embedded engine: every case's
//! definition runs with its input and must end with the documented status and output (or
//! error and cause). The same files run on moto's Step Functions through the `aws://` backend
//! (`aws_workflows.rs`) and through boto3 (`tests/asl/test_corpus_moto.py`).

mod corpus;

use std::time::Duration;

use agent_mesh::{AwsNames, MeshClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_corpus_case_ends_as_documented_on_the_embedded_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
        .await
        .unwrap();
    let kv_table = AwsNames::resolve(&Default::default()).kv_table;
    let cases = corpus::cases();
    assert!(
        cases.len() >= 60,
        "the corpus has {} cases; at least 60 expected",
        cases.len()
    );
    let mut failures = Vec::new();
    for (i, corpus::Case { name, case }) in cases.iter().enumerate() {
        let machine = case["state_machine_name"]
            .as_str()
            .map_or_else(|| format!("corpus-{i:03}"), str::to_owned);
        let definition = corpus::substitute(&case["definition"], &kv_table);
        if let Err(e) = mesh.workflows().create(&machine, definition).await {
            failures.push(format!("{name}: create failed: {e}"));
            continue;
        }
        let timeout = Duration::from_secs(30);
        failures.extend(
            corpus::run(
                &mesh,
                name,
                &machine,
                &case["input"],
                &case["expected"],
                timeout,
            )
            .await,
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
