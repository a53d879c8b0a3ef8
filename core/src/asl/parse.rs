//! Parsing and validating ASL definitions into the types of [`super::definition`]: every
//! problem is collected with its location (`/States/<name>/<field>`) before anything runs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::definition::{Block, Dynamic, Kind, QueryLanguage, State, StateMachine};
use super::jsonata;
use super::limits::{
    Exceeded, MAX_BLOCK_NESTING, MAX_DEFINITION_BYTES, MAX_DEFINITION_DEPTH, Unit, measure,
};
use super::path::Path;
use super::payload::Template;
use state::parse_state;

mod state;

/// Collects every problem of a definition, each with its location; also counts how deeply the
/// block being parsed is nested in `Parallel` branches and `Map` item processors.
struct Problems {
    /// Each problem found, as `<location>: <message>`.
    messages: Vec<String>,
    /// How many blocks enclose the one being parsed.
    nesting: usize,
}

impl Problems {
    fn add(&mut self, at: &str, message: impl std::fmt::Display) {
        self.messages.push(format!("{at}: {message}"));
    }
}

const TYPES: &[&str] = &[
    "Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

/// The fields each state type accepts, in either query language.
#[rustfmt::skip]
fn allowed_fields(kind: &str, language: QueryLanguage) -> &'static [&'static str] {
    use QueryLanguage::*;
    match (kind, language) {
        ("Pass", JsonPath) => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
            "ResultPath", "Result", "Assign", "QueryLanguage"
        ],
        ("Pass", Jsonata) => &[
            "Type", "Comment", "Next", "End", "Output", "Assign", "QueryLanguage"
        ],
        ("Task", JsonPath) => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
            "ResultSelector", "ResultPath", "Retry", "Catch", "Resource", "TimeoutSeconds",
            "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Assign",
            "Credentials", "QueryLanguage"
        ],
        ("Task", Jsonata) => &[
            "Type", "Comment", "Next", "End", "Arguments", "Output", "Retry", "Catch", "Resource",
            "TimeoutSeconds", "HeartbeatSeconds", "Assign", "Credentials", "QueryLanguage"
        ],
        ("Choice", JsonPath) => &[
            "Type", "Comment", "InputPath", "OutputPath", "Choices", "Default", "Assign",
            "QueryLanguage"
        ],
        ("Choice", Jsonata) => &[
            "Type", "Comment", "Output", "Choices", "Default", "Assign", "QueryLanguage"
        ],
        ("Wait", JsonPath) => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath",
            "Timestamp", "TimestampPath", "Assign", "QueryLanguage"
        ],
        ("Wait", Jsonata) => &[
            "Type", "Comment", "Next", "End", "Output", "Seconds", "Timestamp", "Assign",
            "QueryLanguage"
        ],
        ("Succeed", JsonPath) => &[
            "Type", "Comment", "InputPath", "OutputPath", "QueryLanguage"
        ],
        ("Succeed", Jsonata) => &[
            "Type", "Comment", "Output", "QueryLanguage"
        ],
        ("Fail", JsonPath) => &[
            "Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath", "QueryLanguage"
        ],
        ("Fail", Jsonata) => &[
            "Type", "Comment", "Error", "Cause", "QueryLanguage"
        ],
        ("Parallel", JsonPath) => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
            "ResultSelector", "ResultPath", "Retry", "Catch", "Branches", "Assign",
            "QueryLanguage"
        ],
        ("Parallel", Jsonata) => &[
            "Type", "Comment", "Next", "End", "Arguments", "Output", "Retry", "Catch", "Branches",
            "Assign", "QueryLanguage"
        ],
        ("Map", JsonPath) => &[
            "Type", "Comment", "Next", "End", "InputPath", "OutputPath", "Parameters",
            "ItemSelector", "ItemsPath", "ItemProcessor", "Iterator", "MaxConcurrency",
            "MaxConcurrencyPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath",
            "ToleratedFailureCount", "ToleratedFailureCountPath", "ResultSelector", "ResultPath",
            "Retry", "Catch", "Assign", "Label", "QueryLanguage"
        ],
        (_, _) => &[
            "Type", "Comment", "Next", "End", "Output", "Items", "ItemSelector", "ItemProcessor",
            "MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount", "Retry",
            "Catch", "Assign", "Label", "Arguments", "QueryLanguage"
        ],
    }
}

/// Parses and validates a definition (see [`StateMachine::parse`]).
pub(super) fn definition(definition: &Value) -> Result<StateMachine, Vec<String>> {
    let mut problems = Problems {
        messages: Vec::new(),
        nesting: 0,
    };
    let Some(top) = definition.as_object() else {
        return Err(vec![
            "/: a state machine definition must be a JSON object".into(),
        ]);
    };
    // Bounded before anything recursive walks the definition.
    match measure(
        definition,
        MAX_DEFINITION_BYTES,
        MAX_DEFINITION_DEPTH,
        Unit::Bytes,
    ) {
        Ok(_) => {}
        Err(Exceeded::Size) => {
            return Err(vec![format!(
                "/: the definition is larger than {MAX_DEFINITION_BYTES} bytes as JSON (Step Functions' state machine definition size quota); split it into several state machines"
            )]);
        }
        Err(Exceeded::Depth) => {
            return Err(vec![format!(
                "/: the definition nests objects and arrays deeper than {MAX_DEFINITION_DEPTH} levels; flatten it"
            )]);
        }
    }
    check_fields(
        top,
        &[
            "Comment",
            "StartAt",
            "States",
            "Version",
            "TimeoutSeconds",
            "QueryLanguage",
        ],
        "",
        &mut problems,
    );
    let language = match top.get("QueryLanguage") {
        None => QueryLanguage::JsonPath,
        Some(v) => {
            parse_language(v, "/QueryLanguage", &mut problems).unwrap_or(QueryLanguage::JsonPath)
        }
    };
    let timeout_seconds = match top.get("TimeoutSeconds") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Some(n),
            _ => {
                problems.add("/TimeoutSeconds", "must be a positive integer");
                None
            }
        },
    };
    let block = parse_block(top, "", language, &mut problems);
    match block {
        Some(block) if problems.messages.is_empty() => Ok(StateMachine {
            block,
            timeout_seconds,
            query_language: language,
        }),
        _ => Err(problems.messages),
    }
}

fn parse_language(v: &Value, at: &str, problems: &mut Problems) -> Option<QueryLanguage> {
    match v.as_str() {
        Some("JSONPath") => Some(QueryLanguage::JsonPath),
        Some("JSONata") => Some(QueryLanguage::Jsonata),
        _ => {
            problems.add(at, "must be \"JSONPath\" or \"JSONata\"");
            None
        }
    }
}

fn check_fields(obj: &Map<String, Value>, allowed: &[&str], at: &str, problems: &mut Problems) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            problems.add(
                &format!("{at}/{key}"),
                "this field is not supported here (check its spelling and the state's Type and QueryLanguage)",
            );
        }
    }
}

/// Parses a block (the top level, a branch or an item processor), nested at most
/// [`MAX_BLOCK_NESTING`] deep in others.
fn parse_block(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Block> {
    if problems.nesting > MAX_BLOCK_NESTING {
        problems.add(
            at,
            format!(
                "Parallel branches and Map item processors nest deeper than {MAX_BLOCK_NESTING} levels; move the inner work to a separate state machine"
            ),
        );
        return None;
    }
    problems.nesting += 1;
    let block = parse_block_states(obj, at, language, problems);
    problems.nesting -= 1;
    block
}

/// [`parse_block`] within the nesting bound.
fn parse_block_states(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Block> {
    let start_at = match obj.get("StartAt").and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None => {
            problems.add(
                &format!("{at}/StartAt"),
                "is required and must be a state name",
            );
            return None;
        }
    };
    let Some(states_obj) = obj.get("States").and_then(Value::as_object) else {
        problems.add(
            &format!("{at}/States"),
            "is required and must be an object of states",
        );
        return None;
    };
    if states_obj.is_empty() {
        problems.add(&format!("{at}/States"), "must contain at least one state");
        return None;
    }
    let mut states = HashMap::new();
    for (name, value) in states_obj {
        let state_at = format!("{at}/States/{name}");
        if name.is_empty() || name.chars().count() > 80 {
            problems.add(&state_at, "a state name must be 1 to 80 characters");
        }
        if let Some(state) = parse_state(name, value, &state_at, language, problems) {
            states.insert(name.clone(), Arc::new(state));
        }
    }
    if !states_obj.contains_key(&start_at) {
        problems.add(
            &format!("{at}/StartAt"),
            format!("names the state '{start_at}', which is not in States"),
        );
        return None;
    }
    // Every transition must name a state of this block; every state must be reachable.
    let mut reachable = HashSet::new();
    let mut stack = vec![start_at.clone()];
    while let Some(name) = stack.pop() {
        if !reachable.insert(name.clone()) {
            continue;
        }
        if let Some(state) = states.get(&name) {
            for (field, target) in transitions(state) {
                if states_obj.contains_key(target) {
                    stack.push(target.to_owned());
                } else {
                    problems.add(
                        &format!("{at}/States/{name}/{field}"),
                        format!("names the state '{target}', which is not in this States block"),
                    );
                }
            }
        }
    }
    for name in states_obj.keys() {
        if !reachable.contains(name) {
            problems.add(
                &format!("{at}/States/{name}"),
                format!("the state is unreachable from StartAt '{start_at}'"),
            );
        }
    }
    Some(Block { start_at, states })
}

fn transitions(state: &State) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    if let Some(next) = &state.next {
        out.push(("Next".to_owned(), next.as_str()));
    }
    if let Kind::Choice { choices, default } = &state.kind {
        for (i, choice) in choices.iter().enumerate() {
            out.push((format!("Choices[{i}]/Next"), choice.next.as_str()));
        }
        if let Some(d) = default {
            out.push(("Default".to_owned(), d.as_str()));
        }
    }
    for (i, catcher) in state.catch.iter().enumerate() {
        out.push((format!("Catch[{i}]/Next"), catcher.next.as_str()));
    }
    out
}

/// Reads an optional path field: absent → `None`, JSON null → `Some(None)`.
fn nullable_path(
    obj: &Map<String, Value>,
    field: &str,
    at: &str,
    reference_only: bool,
    problems: &mut Problems,
) -> Option<Option<Path>> {
    match obj.get(field)? {
        Value::Null => Some(None),
        Value::String(text) => match Path::parse(text) {
            Ok(p) if reference_only && !p.is_reference() => {
                problems.add(
                    &format!("{at}/{field}"),
                    format!("'{text}' must be a reference path (only names and indexes)"),
                );
                None
            }
            Ok(p) => Some(Some(p)),
            Err(e) => {
                problems.add(
                    &format!("{at}/{field}"),
                    format!("invalid JSONPath '{text}': {e}"),
                );
                None
            }
        },
        _ => {
            problems.add(
                &format!("{at}/{field}"),
                "must be a JSONPath string or null",
            );
            None
        }
    }
}

fn path_field(
    obj: &Map<String, Value>,
    field: &str,
    at: &str,
    problems: &mut Problems,
) -> Option<Path> {
    nullable_path(obj, field, at, false, problems).flatten()
}

fn template(
    obj: &Map<String, Value>,
    field: &str,
    at: &str,
    problems: &mut Problems,
) -> Option<Template> {
    let value = obj.get(field)?;
    if !value.is_object() && field != "Parameters" && field != "ItemSelector" {
        problems.add(&format!("{at}/{field}"), "must be an object");
        return None;
    }
    Template::compile(value)
        .map_err(|e| problems.add(&format!("{at}/{field}"), e))
        .ok()
}

fn jsonata_field(
    obj: &Map<String, Value>,
    field: &str,
    at: &str,
    problems: &mut Problems,
) -> Option<Value> {
    let value = obj.get(field)?;
    if let Err(e) = jsonata::check_template(value) {
        problems.add(&format!("{at}/{field}"), e);
    }
    Some(value.clone())
}

/// A literal, its `...Path` twin, or (JSONata) an expression.
fn dynamic(
    obj: &Map<String, Value>,
    field: &str,
    language: QueryLanguage,
    at: &str,
    problems: &mut Problems,
) -> Option<Dynamic> {
    let path_field_name = format!("{field}Path");
    if let Some(v) = obj.get(field) {
        if obj.contains_key(&path_field_name) {
            problems.add(
                &format!("{at}/{field}"),
                format!("use either {field} or {path_field_name}, not both"),
            );
        }
        if language == QueryLanguage::Jsonata {
            return jsonata_field(obj, field, at, problems).map(Dynamic::Jsonata);
        }
        return Some(Dynamic::Literal(v.clone()));
    }
    if let Some(text) = obj.get(&path_field_name).and_then(Value::as_str)
        && super::intrinsics::looks_like_intrinsic(text)
    {
        return match super::intrinsics::Intrinsic::parse(text) {
            Ok(i) => Some(Dynamic::Intrinsic(i)),
            Err(e) => {
                problems.add(
                    &format!("{at}/{path_field_name}"),
                    format!("invalid intrinsic function '{text}': {e}"),
                );
                None
            }
        };
    }
    path_field(obj, &path_field_name, at, problems).map(Dynamic::Path)
}
