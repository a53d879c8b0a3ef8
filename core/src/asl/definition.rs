//! State machine definitions: ASL JSON parsed into typed states and validated before anything
//! runs, with errors that name the state and the field (`/States/Check/Next: ...`).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::choice::ChoiceRule;
use super::path::Path;
use super::payload::Template;
use super::retry::{Catcher, Retrier};

/// How a state reads and writes its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath` (the default).
    JsonPath,
    /// `Arguments`, `Output`, `{% %}` expressions and `$states`.
    Jsonata,
}

/// A validated state machine.
#[derive(Debug)]
pub struct StateMachine {
    /// The top-level states.
    pub block: Block,
    /// `TimeoutSeconds` of the whole execution.
    pub timeout_seconds: Option<u64>,
    /// The top-level query language.
    pub query_language: QueryLanguage,
}

/// A set of states with a start: the top level, a Parallel branch or a Map item processor.
#[derive(Debug)]
pub struct Block {
    /// `StartAt`.
    pub start_at: String,
    /// The states by name.
    pub states: HashMap<String, Arc<State>>,
}

impl Block {
    /// The state called `name` (validated to exist for every transition).
    pub fn state(&self, name: &str) -> Option<&Arc<State>> {
        self.states.get(name)
    }
}

/// A value that may be computed: a literal, a JSONPath (`SecondsPath`, `ErrorPath`, ...) or a
/// JSONata template.
#[derive(Debug, Clone)]
pub enum Dynamic {
    /// A literal value.
    Literal(Value),
    /// A reference path evaluated against the state input.
    Path(Path),
    /// An intrinsic function call (`ErrorPath`/`CausePath` accept them).
    Intrinsic(super::intrinsics::Intrinsic),
    /// A JSONata template (a value whose `{% %}` strings are evaluated).
    Jsonata(Value),
}

/// One state.
#[derive(Debug)]
pub struct State {
    /// The state's name.
    pub name: String,
    /// The query language in effect for this state.
    pub language: QueryLanguage,
    /// What kind of state it is, with its own fields.
    pub kind: Kind,
    /// The next state, or `None` for a terminal one.
    pub next: Option<String>,
    /// `InputPath` (`None` = `$`; `Some(None)` = JSON null, an empty object).
    pub input_path: Option<Option<Path>>,
    /// `OutputPath`, as `InputPath`.
    pub output_path: Option<Option<Path>>,
    /// `ResultPath` (`None` = `$`; `Some(None)` = discard the result).
    pub result_path: Option<Option<Path>>,
    /// `Parameters` (JSONPath mode).
    pub parameters: Option<Template>,
    /// `Arguments` in JSONata mode.
    pub arguments: Option<Value>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign`: a template (JSONPath) or JSONata template.
    pub assign: Option<Assign>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
}

/// An `Assign` block in either query language.
#[derive(Debug)]
pub enum Assign {
    /// JSONPath mode: keys ending `.$` are paths or intrinsics.
    JsonPath(Template),
    /// JSONata mode: `{% %}` strings are expressions.
    Jsonata(Value),
}

/// The kinds of states with their specific fields.
#[derive(Debug)]
pub enum Kind {
    /// Pass: `Result`.
    Pass {
        /// The fixed result, if any.
        result: Option<Value>,
    },
    /// Task.
    Task(Task),
    /// Choice.
    Choice {
        /// The rules in order.
        choices: Vec<Choice>,
        /// `Default`.
        default: Option<String>,
    },
    /// Wait.
    Wait(Wait),
    /// Succeed.
    Succeed,
    /// Fail.
    Fail {
        /// `Error` / `ErrorPath`.
        error: Option<Dynamic>,
        /// `Cause` / `CausePath`.
        cause: Option<Dynamic>,
    },
    /// Parallel.
    Parallel {
        /// The branches.
        branches: Vec<Block>,
    },
    /// Map (inline).
    Map(Box<MapState>),
}

/// A Task state's own fields.
#[derive(Debug)]
pub struct Task {
    /// `Resource`.
    pub resource: String,
    /// `TimeoutSeconds` / `TimeoutSecondsPath`.
    pub timeout: Option<Dynamic>,
    /// `HeartbeatSeconds` / `HeartbeatSecondsPath`.
    pub heartbeat: Option<Dynamic>,
}

/// One Choice rule with its target.
#[derive(Debug)]
pub struct Choice {
    /// The rule (JSONPath) or `Condition` (JSONata).
    pub rule: ChoiceTest,
    /// `Next`.
    pub next: String,
    /// `Assign` of the rule.
    pub assign: Option<Assign>,
    /// `Output` of the rule (JSONata).
    pub output: Option<Value>,
}

/// How a Choice rule decides.
#[derive(Debug)]
pub enum ChoiceTest {
    /// A JSONPath-mode rule.
    Rule(ChoiceRule),
    /// A JSONata `Condition`.
    Condition(Value),
}

/// How long a Wait state waits.
#[derive(Debug)]
pub enum Wait {
    /// `Seconds` / `SecondsPath` / a JSONata expression.
    Seconds(Dynamic),
    /// `Timestamp` / `TimestampPath` / a JSONata expression.
    Timestamp(Dynamic),
}

/// A Map state's own fields.
#[derive(Debug)]
pub struct MapState {
    /// `ItemProcessor` / `Iterator`.
    pub processor: Block,
    /// `ItemsPath` (JSONPath; default `$`).
    pub items_path: Option<Path>,
    /// `Items` (JSONata).
    pub items: Option<Value>,
    /// `ItemSelector` (or legacy `Parameters`), JSONPath mode.
    pub item_selector: Option<Template>,
    /// `ItemSelector`, JSONata mode.
    pub item_selector_jsonata: Option<Value>,
    /// `MaxConcurrency` (0 = unlimited).
    pub max_concurrency: Option<Dynamic>,
    /// `ToleratedFailurePercentage`.
    pub tolerated_percentage: Option<Dynamic>,
    /// `ToleratedFailureCount`.
    pub tolerated_count: Option<Dynamic>,
    /// `ProcessorConfig.Mode` is `DISTRIBUTED`: item failures count against the tolerated
    /// threshold (0 by default) and exceed it with `States.ExceedToleratedFailureThreshold`.
    pub distributed: bool,
}

impl StateMachine {
    /// Parses and validates a definition. On failure, the error lists every problem found, each
    /// with its location (`/States/<name>/<field>`).
    pub fn parse(definition: &Value) -> Result<StateMachine, Vec<String>> {
        super::parse::definition(definition)
    }

    /// Every `Resource` of a Task state, at any depth.
    pub fn resources(&self) -> Vec<&str> {
        let mut out = Vec::new();
        collect_resources(&self.block, &mut out);
        out
    }
}

fn collect_resources<'a>(block: &'a Block, out: &mut Vec<&'a str>) {
    for state in block.states.values() {
        match &state.kind {
            Kind::Task(task) => out.push(&task.resource),
            Kind::Parallel { branches } => branches.iter().for_each(|b| collect_resources(b, out)),
            Kind::Map(map) => collect_resources(&map.processor, out),
            _ => {}
        }
    }
}
