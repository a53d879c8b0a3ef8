//! Parsing and validating ASL definitions into the types of [`super::definition`]: every
//! problem is collected with its location (`/States/<name>/<field>`) before anything runs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::choice::ChoiceRule;
use super::definition::{
    Assign, Block, Choice, ChoiceTest, Dynamic, Kind, MapState, QueryLanguage, State, StateMachine,
    Task, Wait,
};
use super::jsonata;
use super::limits::{
    Exceeded, MAX_BLOCK_NESTING, MAX_DEFINITION_BYTES, MAX_DEFINITION_DEPTH, Unit, measure,
};
use super::path::Path;
use super::payload::Template;
use super::retry::{Catcher, Retrier};

/// Collects every problem of a definition, each with its location; also counts how deeply the
/// block being parsed is nested in `Parallel` branches and `Map` item processors.
struct Problems(Vec<String>, usize);

impl Problems {
    fn add(&mut self, at: &str, message: impl std::fmt::Display) {
        self.0.push(format!("{at}: {message}"));
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
    let mut problems = Problems(Vec::new(), 0);
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
        Some(block) if problems.0.is_empty() => Ok(StateMachine {
            block,
            timeout_seconds,
            query_language: language,
        }),
        _ => Err(problems.0),
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
    if problems.1 > MAX_BLOCK_NESTING {
        problems.add(
            at,
            format!(
                "Parallel branches and Map item processors nest deeper than {MAX_BLOCK_NESTING} levels; move the inner work to a separate state machine"
            ),
        );
        return None;
    }
    problems.1 += 1;
    let block = parse_block_states(obj, at, language, problems);
    problems.1 -= 1;
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

fn parse_state(
    name: &str,
    value: &Value,
    at: &str,
    parent_language: QueryLanguage,
    problems: &mut Problems,
) -> Option<State> {
    let Some(obj) = value.as_object() else {
        problems.add(at, "a state must be an object");
        return None;
    };
    let Some(kind_name) = obj.get("Type").and_then(Value::as_str) else {
        problems.add(
            &format!("{at}/Type"),
            format!("is required: one of {}", TYPES.join(", ")),
        );
        return None;
    };
    if !TYPES.contains(&kind_name) {
        problems.add(
            &format!("{at}/Type"),
            format!(
                "'{kind_name}' is not a state type; use one of {}",
                TYPES.join(", ")
            ),
        );
        return None;
    }
    let language = match obj.get("QueryLanguage") {
        None => parent_language,
        Some(v) => {
            let l = parse_language(v, &format!("{at}/QueryLanguage"), problems)?;
            if parent_language == QueryLanguage::Jsonata && l == QueryLanguage::JsonPath {
                problems.add(
                    &format!("{at}/QueryLanguage"),
                    "a state cannot switch back to JSONPath when the state machine uses JSONata",
                );
            }
            l
        }
    };
    check_fields(obj, allowed_fields(kind_name, language), at, problems);

    let terminal = matches!(kind_name, "Choice" | "Succeed" | "Fail");
    let next = obj.get("Next").and_then(Value::as_str).map(str::to_owned);
    let end = obj.get("End").and_then(Value::as_bool).unwrap_or(false);
    if !terminal {
        match (&next, end) {
            (Some(_), true) => problems.add(at, "has both Next and End; keep one"),
            (None, false) => problems.add(
                at,
                "has neither Next nor End: add \"Next\": \"<state>\" or \"End\": true",
            ),
            _ => {}
        }
        if obj.get("Next").is_some_and(|v| !v.is_string()) {
            problems.add(&format!("{at}/Next"), "must be a state name");
        }
    }

    let jsonpath = language == QueryLanguage::JsonPath;
    let assign = obj.get("Assign").and_then(|v| {
        if !v.is_object() {
            problems.add(
                &format!("{at}/Assign"),
                "must be an object of variable names",
            );
            return None;
        }
        if jsonpath {
            template(obj, "Assign", at, problems).map(Assign::JsonPath)
        } else {
            jsonata_field(obj, "Assign", at, problems).map(Assign::Jsonata)
        }
    });
    let (retry, catch) = if matches!(kind_name, "Task" | "Parallel" | "Map") {
        (
            Retrier::parse_all(obj.get("Retry"), &format!("{at}/Retry"), &mut problems.0),
            Catcher::parse_all(
                obj.get("Catch"),
                &format!("{at}/Catch"),
                language,
                &mut problems.0,
            ),
        )
    } else {
        (Vec::new(), Vec::new())
    };

    let kind = match kind_name {
        "Pass" => Kind::Pass {
            result: obj.get("Result").cloned(),
        },
        "Task" => Kind::Task(Task {
            resource: match obj.get("Resource").and_then(Value::as_str) {
                Some(r) if !r.is_empty() => r.to_owned(),
                _ => {
                    problems.add(
                        &format!("{at}/Resource"),
                        "is required: an ARN or a handler name",
                    );
                    String::new()
                }
            },
            timeout: dynamic(obj, "TimeoutSeconds", language, at, problems),
            heartbeat: dynamic(obj, "HeartbeatSeconds", language, at, problems),
        }),
        "Choice" => parse_choice(obj, at, language, problems)?,
        "Wait" => {
            let seconds = dynamic(obj, "Seconds", language, at, problems);
            let timestamp = dynamic(obj, "Timestamp", language, at, problems);
            match (seconds, timestamp) {
                (Some(s), None) => Kind::Wait(Wait::Seconds(s)),
                (None, Some(t)) => Kind::Wait(Wait::Timestamp(t)),
                _ => {
                    problems.add(at, "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath");
                    return None;
                }
            }
        }
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: dynamic(obj, "Error", language, at, problems),
            cause: dynamic(obj, "Cause", language, at, problems),
        },
        "Parallel" => {
            let Some(branches) = obj.get("Branches").and_then(Value::as_array) else {
                problems.add(
                    &format!("{at}/Branches"),
                    "is required: an array of {StartAt, States}",
                );
                return None;
            };
            let branches = branches
                .iter()
                .enumerate()
                .filter_map(|(i, b)| {
                    let bat = format!("{at}/Branches[{i}]");
                    let Some(bobj) = b.as_object() else {
                        problems.add(&bat, "a branch must be an object with StartAt and States");
                        return None;
                    };
                    check_fields(
                        bobj,
                        &["StartAt", "States", "Comment", "QueryLanguage"],
                        &bat,
                        problems,
                    );
                    parse_block(bobj, &bat, language, problems)
                })
                .collect();
            Kind::Parallel { branches }
        }
        _ => Kind::Map(Box::new(parse_map(obj, at, language, problems)?)),
    };

    let result_path = if jsonpath
        && !matches!(
            kind,
            Kind::Choice { .. } | Kind::Wait(_) | Kind::Succeed | Kind::Fail { .. }
        ) {
        nullable_path(obj, "ResultPath", at, true, problems)
    } else {
        None
    };
    let parameters = if jsonpath && !matches!(kind, Kind::Map(_)) {
        template(obj, "Parameters", at, problems)
    } else {
        None
    };
    Some(State {
        name: name.to_owned(),
        language,
        next,
        input_path: if jsonpath {
            nullable_path(obj, "InputPath", at, false, problems)
        } else {
            None
        },
        output_path: if jsonpath {
            nullable_path(obj, "OutputPath", at, false, problems)
        } else {
            None
        },
        result_path,
        parameters,
        arguments: if jsonpath {
            None
        } else {
            jsonata_field(obj, "Arguments", at, problems)
        },
        result_selector: if jsonpath {
            template(obj, "ResultSelector", at, problems)
        } else {
            None
        },
        output: if jsonpath {
            None
        } else {
            jsonata_field(obj, "Output", at, problems)
        },
        assign,
        retry,
        catch,
        kind,
    })
}

fn parse_choice(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Kind> {
    let Some(rules) = obj
        .get("Choices")
        .and_then(Value::as_array)
        .filter(|r| !r.is_empty())
    else {
        problems.add(
            &format!("{at}/Choices"),
            "is required: a non-empty array of rules",
        );
        return None;
    };
    let mut choices = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let rat = format!("{at}/Choices[{i}]");
        if language == QueryLanguage::Jsonata {
            let Some(robj) = rule.as_object() else {
                problems.add(&rat, "a rule must be an object");
                continue;
            };
            check_fields(
                robj,
                &["Condition", "Next", "Comment", "Assign", "Output"],
                &rat,
                problems,
            );
            let Some(next) = robj.get("Next").and_then(Value::as_str) else {
                problems.add(&format!("{rat}/Next"), "is required");
                continue;
            };
            let Some(condition) = jsonata_field(robj, "Condition", &rat, problems) else {
                problems.add(
                    &format!("{rat}/Condition"),
                    "is required in JSONata: a {% %} expression",
                );
                continue;
            };
            choices.push(Choice {
                rule: ChoiceTest::Condition(condition),
                next: next.to_owned(),
                assign: jsonata_field(robj, "Assign", &rat, problems).map(Assign::Jsonata),
                output: jsonata_field(robj, "Output", &rat, problems),
            });
        } else {
            let mut rule_only = rule.clone();
            let assign = rule_only.as_object_mut().and_then(|o| o.remove("Assign"));
            match ChoiceRule::parse_top_level(&rule_only, &rat) {
                Ok((parsed, next)) => choices.push(Choice {
                    rule: ChoiceTest::Rule(parsed),
                    next,
                    assign: assign.and_then(|a| {
                        Template::compile(&a)
                            .map_err(|e| problems.add(&format!("{rat}/Assign"), e))
                            .ok()
                            .map(Assign::JsonPath)
                    }),
                    output: None,
                }),
                Err(e) => problems.add(&rat, e),
            }
        }
    }
    let default = obj
        .get("Default")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Kind::Choice { choices, default })
}

fn parse_map(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<MapState> {
    let (field, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        _ => {
            problems.add(
                at,
                "a Map state needs exactly one of ItemProcessor or Iterator",
            );
            return None;
        }
    };
    let pat = format!("{at}/{field}");
    let Some(pobj) = processor.as_object() else {
        problems.add(&pat, "must be an object with StartAt and States");
        return None;
    };
    check_fields(
        pobj,
        &[
            "StartAt",
            "States",
            "Comment",
            "ProcessorConfig",
            "QueryLanguage",
        ],
        &pat,
        problems,
    );
    // A DISTRIBUTED Map runs its iterations in this process like an inline one; item readers
    // and result writers (S3 sources and sinks) are not served by the embedded engine.
    if let Some(mode) = pobj
        .get("ProcessorConfig")
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        && mode != "INLINE"
        && mode != "DISTRIBUTED"
    {
        problems.add(
            &format!("{pat}/ProcessorConfig/Mode"),
            format!("'{mode}' must be INLINE or DISTRIBUTED"),
        );
    }
    let distributed = pobj
        .get("ProcessorConfig")
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        == Some("DISTRIBUTED");
    let processor = parse_block(pobj, &pat, language, problems)?;
    let jsonpath = language == QueryLanguage::JsonPath;
    let item_selector = if jsonpath {
        if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
            problems.add(at, "use either ItemSelector or Parameters, not both");
        }
        template(obj, "ItemSelector", at, problems)
            .or_else(|| template(obj, "Parameters", at, problems))
    } else {
        None
    };
    Some(MapState {
        processor,
        items_path: if jsonpath {
            path_field(obj, "ItemsPath", at, problems)
        } else {
            None
        },
        items: if jsonpath {
            None
        } else {
            jsonata_field(obj, "Items", at, problems)
        },
        item_selector,
        item_selector_jsonata: if jsonpath {
            None
        } else {
            jsonata_field(obj, "ItemSelector", at, problems)
        },
        max_concurrency: dynamic(obj, "MaxConcurrency", language, at, problems),
        tolerated_percentage: dynamic(obj, "ToleratedFailurePercentage", language, at, problems),
        tolerated_count: dynamic(obj, "ToleratedFailureCount", language, at, problems),
        distributed,
    })
}
