//! `agent-mesh workflow run <definition.json> [--input <json>|@<file>] [--mesh <url>]`: runs an
//! ASL definition on the embedded engine and prints the execution's output JSON, so a definition
//! can be tried before it is deployed to Step Functions. Exits 1 (printing error and cause) if
//! the execution fails, 2 on bad usage or an invalid definition.
//!
//! The mesh defaults to `memory://`; Task states can use the mesh integrations
//! (`events:putEvents`, DynamoDB on the KV table, S3 on the artifacts bucket), and activities
//! are served by workers of other processes when `--mesh local://<dir>` names a shared mesh.

use std::time::Duration;

use agent_mesh::{ExecutionStatus, MeshClient, StartOptions};
use serde_json::Value;

const USAGE: &str = "usage: agent-mesh workflow run <definition.json> [--input <json>|@<file>] [--mesh <url>] [--history]";

fn fail(code: i32, message: impl std::fmt::Display) -> ! {
    eprintln!("agent-mesh: {message}");
    std::process::exit(code)
}

fn read_json(what: &str, text: &str) -> Value {
    let text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| fail(2, format!("cannot read the {what} file {path}: {e}"))),
        None => text.to_owned(),
    };
    serde_json::from_str(&text)
        .unwrap_or_else(|e| fail(2, format!("the {what} is not valid JSON: {e}")))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some("workflow"), Some("run"), Some(file)) = (
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
        args.get(2),
    ) else {
        fail(2, USAGE);
    };
    let (mut input, mut url, mut history) = (
        Value::Object(Default::default()),
        "memory://".to_owned(),
        false,
    );
    let mut rest = args[3..].iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--input" => input = read_json("input", rest.next().unwrap_or_else(|| fail(2, USAGE))),
            "--mesh" => url = rest.next().unwrap_or_else(|| fail(2, USAGE)).clone(),
            "--history" => history = true,
            _ => fail(2, USAGE),
        }
    }
    let definition = read_json("definition", &format!("@{file}"));
    let mesh = MeshClient::connect(&url)
        .await
        .unwrap_or_else(|e| fail(2, e));
    let wf = mesh.workflows();
    wf.create("cli", definition)
        .await
        .unwrap_or_else(|e| fail(2, e));
    let run = wf
        .start("cli", input, StartOptions::default())
        .await
        .unwrap_or_else(|e| fail(2, e));
    let done = wf
        .wait(&run.arn, None::<Duration>)
        .await
        .unwrap_or_else(|e| fail(2, e));
    if history {
        for event in wf.history(&run.arn).await.unwrap_or_else(|e| fail(2, e)) {
            eprintln!("{:>4} {:<28} {}", event.id, event.event_type, event.details);
        }
    }
    match done.status {
        ExecutionStatus::Succeeded => println!("{}", done.output.unwrap_or(Value::Null)),
        status => fail(
            1,
            format!(
                "execution {status}: {}: {}",
                done.error.unwrap_or_default(),
                done.cause.unwrap_or_default()
            ),
        ),
    }
}
