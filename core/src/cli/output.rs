//! Output of the `agent-mesh` command: human-readable lines by default, JSON with `--json`
//! (one document per command, one line per event for `tail`), and input helpers for JSON
//! arguments (`@FILE`, `-` for stdin).

use std::io::{IsTerminal, Read, Write};

use serde_json::{Value, json};

use super::exit::{CliResult, Failure};
use crate::tools::time;
use crate::workflows::{Execution, HistoryEvent};

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`: machine-readable output.
    pub json: bool,
}

/// A failed write to stdout: a reader that went away (`| head`) ends the command quietly.
fn write_failed(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::quiet(0)
    } else {
        Failure::from(crate::Error::internal("write to stdout", e))
    }
}

impl Output {
    /// Prints one line on stdout.
    pub fn line(&self, text: impl std::fmt::Display) -> CliResult {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")
            .and_then(|_| out.flush())
            .map_err(write_failed)
    }

    /// Prints `value` as one line of compact JSON.
    pub fn json_line(&self, value: &Value) -> CliResult {
        self.line(value)
    }

    /// Prints `value` with `--json`, else the human-readable `text`.
    pub fn either(&self, value: &Value, text: impl FnOnce() -> String) -> CliResult {
        if self.json {
            self.json_line(value)
        } else {
            self.line(text())
        }
    }

    /// Writes raw bytes to stdout.
    pub fn bytes(&self, data: &[u8]) -> CliResult {
        let mut out = std::io::stdout().lock();
        out.write_all(data)
            .and_then(|_| out.flush())
            .map_err(write_failed)
    }

    /// Prints rows as aligned columns under `header`.
    pub fn table(&self, header: &[&str], rows: &[Vec<String>]) -> CliResult {
        let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
        for row in rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let render = |cells: Vec<&str>| {
            let last = cells.len() - 1;
            cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == last {
                        (*c).to_owned()
                    } else {
                        format!("{c:<w$}", w = widths[i])
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        self.line(render(header.to_vec()))?;
        for row in rows {
            self.line(render(row.iter().map(String::as_str).collect()))?;
        }
        Ok(())
    }
}

/// Prints a note on stderr (progress, hints): never mixed into stdout.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// A JSON value as a human reads it: strings bare, everything else as compact JSON.
pub fn human_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `text` cut to `max` characters with an ellipsis.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Reads an argument that is JSON text, `@FILE` (the file's text) or `-` (stdin), for
/// `what` (`"the value"`, `"the input"`, ...).
pub fn read_text_arg(what: &str, arg: &str) -> CliResult<String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read {what} from stdin: {e}")))?;
        return Ok(text);
    }
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::usage(format!("cannot read {what} from the file {path:?}: {e}"))),
        None => Ok(arg.to_owned()),
    }
}

/// Parses an argument as JSON (see [`read_text_arg`]); the error says how to quote a string.
pub fn read_json_arg(what: &str, arg: &str) -> CliResult<Value> {
    let text = read_text_arg(what, arg)?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::usage(format!(
            "{what} is not valid JSON ({e}): pass JSON text such as '{{\"a\": 1}}' or '\"a string\"', @FILE, or - for stdin"
        ))
    })
}

/// Whether stdout is a terminal (human output may then differ, e.g. binary is refused).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// An execution as the CLI prints it with `--json` (the `mesh_workflow_status` shape).
pub fn execution_json(e: &Execution) -> Value {
    json!({
        "execution_arn": e.arn,
        "name": e.name,
        "state_machine": e.state_machine,
        "status": e.status.as_str(),
        "input": e.input,
        "output": e.output,
        "error": e.error,
        "cause": e.cause,
        "start_date": time(e.start_date),
        "stop_date": e.stop_date.map(time),
    })
}

/// A history event as the CLI prints it with `--json`.
pub fn history_json(e: &HistoryEvent) -> Value {
    json!({
        "id": e.id,
        "previous_event_id": e.previous_event_id,
        "timestamp": time(e.timestamp),
        "type": e.event_type,
        "details": e.details,
    })
}

/// An execution in a few human lines.
pub fn execution_text(e: &Execution) -> String {
    let mut text = format!(
        "{}  {}\n  state machine: {}\n  arn: {}\n  started: {}",
        e.name,
        e.status,
        e.state_machine,
        e.arn,
        human_value(&time(e.start_date))
    );
    if let Some(stop) = e.stop_date {
        text.push_str(&format!("\n  stopped: {}", human_value(&time(stop))));
    }
    if let Some(output) = &e.output {
        text.push_str(&format!("\n  output: {output}"));
    }
    if let Some(error) = &e.error {
        text.push_str(&format!(
            "\n  error: {error}: {}",
            e.cause.as_deref().unwrap_or("")
        ));
    }
    text
}
