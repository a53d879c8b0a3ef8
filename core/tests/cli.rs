//! The `agent-mesh workflow run` command, run as a real child process.

use std::process::Command;

const CLI: &str = env!("CARGO_BIN_EXE_agent-mesh");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(CLI)
        .args(args)
        .output()
        .expect("run agent-mesh");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn runs_a_definition_file_and_prints_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("def.json");
    std::fs::write(
        &file,
        r#"{"StartAt": "Greet", "States": {
            "Greet": {"Type": "Pass", "Parameters": {"msg.$": "States.Format('Hello, {}!', $.name)"}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.msg", "StringMatches": "Hello*", "Next": "Done"}], "Default": "Bad"},
            "Bad": {"Type": "Fail", "Error": "Unexpected", "Cause": "no greeting"},
            "Done": {"Type": "Succeed"}}}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = run(&[
        "workflow",
        "run",
        file.to_str().unwrap(),
        "--input",
        r#"{"name": "Ada"}"#,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap(),
        serde_json::json!({"msg": "Hello, Ada!"})
    );

    std::fs::write(&file, r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}}}"#).unwrap();
    let (code, _, stderr) = run(&["workflow", "run", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("FAILED: Boom: on purpose"), "{stderr}");

    std::fs::write(
        &file,
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Gone"}}}"#,
    )
    .unwrap();
    let (code, _, stderr) = run(&["workflow", "run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/States/A/Next"), "{stderr}");
}
