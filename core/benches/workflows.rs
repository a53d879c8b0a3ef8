//! Workflow latency on the embedded engine: end to end (`start`, then `wait` until `SUCCEEDED`)
//! on a persisted `local://` mesh (a SQLite file in a temporary directory, default sync mode),
//! one execution after another on the default multi-threaded tokio runtime, for a 3-state
//! Pass/Choice definition and for 3 Task states served by in-process Rust handlers.
//!
//! `cargo bench -p agent-mesh --bench workflows` (set `BENCH_WF_OPS` to change the execution
//! count, 2000 by default). Besides the table, each row is printed as `ROW {json}` with `p50_ns`,
//! `p99_ns`, `per_sec`, and the `definition`, `input` and `output` of its executions, for
//! tests/bench/workflows.py, which runs the same definitions through Python and on moto.

use std::time::{Duration, Instant};

use agent_mesh::workflows::handler;
use agent_mesh::{ExecutionStatus, MeshClient, StartOptions};
use serde_json::{Value, json};

#[path = "common/latency.rs"]
mod latency;
use latency::{Stats, stats};

/// The 3-state Pass/Choice definition (tests/bench/workflows.py runs the same one on moto).
fn pass_choice() -> Value {
    json!({
        "Comment": "3 states: Pass, Choice, Pass",
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Result": "fast", "ResultPath": "$.route", "Next": "Route"},
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.route", "StringEquals": "fast", "Next": "Done"}],
                "Default": "Done"
            },
            "Done": {"Type": "Pass", "End": true}
        }
    })
}

/// Three Task states, each served by the handler `bench-step`.
fn three_tasks() -> Value {
    let task = |next: Option<&str>| {
        let mut state = json!({"Type": "Task", "Resource": "bench-step"});
        match next {
            Some(n) => state["Next"] = json!(n),
            None => state["End"] = json!(true),
        }
        state
    };
    json!({
        "Comment": "3 Task states, in-process handlers",
        "StartAt": "One",
        "States": {"One": task(Some("Two")), "Two": task(Some("Three")), "Three": task(None)}
    })
}

/// One row: a state machine, its input, and the output every execution must end with.
struct Case {
    name: &'static str,
    machine: &'static str,
    definition: Value,
    input: Value,
    output: Value,
}

/// Runs `ops` executions of the case one after another (after `ops / 10` to warm up), each
/// started and waited for; checks every one succeeded with the expected output.
async fn measure(mesh: &MeshClient, case: &Case, ops: usize) -> Stats {
    let wf = mesh.workflows();
    let once = || async {
        let run = wf
            .start(case.machine, case.input.clone(), StartOptions::default())
            .await
            .unwrap();
        let done = wf.wait(&run.arn, None).await.unwrap();
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(done.output.as_ref(), Some(&case.output));
    };
    for _ in 0..(ops / 10).max(10) {
        once().await;
    }
    let mut samples = Vec::with_capacity(ops);
    let all = Instant::now();
    for _ in 0..ops {
        let t = Instant::now();
        once().await;
        samples.push(t.elapsed());
    }
    stats(samples, all.elapsed())
}

fn row(case: &Case, s: &Stats) {
    println!(
        "{:<32} p50 {:>8.3} ms   p99 {:>8.3} ms   {:>8.0} executions/s",
        case.name,
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3,
        s.per_sec
    );
    let machine_readable = json!({
        "name": case.name,
        "p50_ns": s.p50.as_nanos() as u64,
        "p99_ns": s.p99.as_nanos() as u64,
        "per_sec": s.per_sec,
        "definition": case.definition,
        "input": case.input,
        "output": case.output,
    });
    println!("ROW {machine_readable}");
}

fn main() {
    let ops: usize = std::env::var("BENCH_WF_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mesh = MeshClient::connect(&format!("local://{}", dir.path().display()))
            .await
            .unwrap();
        let wf = mesh.workflows();
        wf.register(
            "bench-step",
            handler(|task| async move {
                let n = task.input["n"].as_i64().unwrap_or(0);
                Ok(json!({"n": n + 1}))
            }),
        )
        .unwrap();
        let cases = [
            Case {
                name: "Rust: Pass/Choice (3 states)",
                machine: "bench-pass-choice",
                definition: pass_choice(),
                input: json!({"n": 1}),
                output: json!({"n": 1, "route": "fast"}),
            },
            Case {
                name: "Rust: 3 Tasks, Rust handlers",
                machine: "bench-tasks",
                definition: three_tasks(),
                input: json!({"n": 1}),
                output: json!({"n": 4}),
            },
        ];
        println!(
            "workflows on a persisted local:// mesh (SQLite, default sync), {ops} sequential executions per row, start + wait until SUCCEEDED"
        );
        let mut p50s = Vec::new();
        for case in &cases {
            wf.create(case.machine, case.definition.clone())
                .await
                .unwrap();
            let stats = measure(&mesh, case, ops).await;
            row(case, &stats);
            p50s.push(stats.p50);
        }
        // The target is about the first case, the 3-step Pass/Choice workflow.
        let pass_choice_p50 = p50s[0];
        let verdict = if pass_choice_p50 < Duration::from_millis(1) {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "  target: a 3-step workflow under 1 ms end to end, persisted: {verdict} (Pass/Choice p50 {:.3} ms)",
            pass_choice_p50.as_secs_f64() * 1e3
        );
    });
}
