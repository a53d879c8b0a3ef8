//! Parsing one state: its type and query language, its transition, its error handlers, its
//! type-specific fields and its data-flow fields (`InputPath`, `Parameters`, `Output`, ...).

use serde_json::{Map, Value};

use super::super::choice::ChoiceRule;
use super::super::definition::{
    Assign, Choice, ChoiceTest, Kind, MapState, QueryLanguage, State, Task, Wait,
};
use super::super::payload::Template;
use super::super::retry::{Catcher, Retrier};
use super::{
    Problems, TYPES, allowed_fields, check_fields, dynamic, jsonata_field, nullable_path,
    parse_block, parse_language, path_field, template,
};

/// Parses and validates one state of a block, collecting every problem found.
pub(super) fn parse_state(
    name: &str,
    value: &Value,
    at: &str,
    parent_language: QueryLanguage,
    problems: &mut Problems,
) -> Option<State> {
    let (obj, kind_name) = state_object_and_type(value, at, problems)?;
    let language = state_language(obj, at, parent_language, problems)?;
    check_fields(obj, allowed_fields(kind_name, language), at, problems);
    let next = parse_transition(obj, kind_name, at, problems);
    let assign = parse_assign(obj, language, at, problems);
    let (retry, catch) = parse_error_handlers(obj, kind_name, at, language, problems);
    let kind = parse_kind(obj, kind_name, at, language, problems)?;
    let mut state = State {
        name: name.to_owned(),
        language,
        next,
        input_path: None,
        output_path: None,
        result_path: None,
        parameters: None,
        arguments: None,
        result_selector: None,
        output: None,
        assign,
        retry,
        catch,
        kind,
    };
    parse_data_flow(&mut state, obj, at, problems);
    Some(state)
}

/// Checks that a state is an object with a known `Type`, returning both.
fn state_object_and_type<'a>(
    value: &'a Value,
    at: &str,
    problems: &mut Problems,
) -> Option<(&'a Map<String, Value>, &'a str)> {
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
    Some((obj, kind_name))
}

/// The state's own `QueryLanguage`, or its parent's; a JSONata parent cannot be overridden.
fn state_language(
    obj: &Map<String, Value>,
    at: &str,
    parent_language: QueryLanguage,
    problems: &mut Problems,
) -> Option<QueryLanguage> {
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
    Some(language)
}

/// The state's `Next`, checking that a non-terminal state has exactly one of `Next` and `End`.
fn parse_transition(
    obj: &Map<String, Value>,
    kind_name: &str,
    at: &str,
    problems: &mut Problems,
) -> Option<String> {
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
    next
}

/// The state's `Assign`: a payload template in JSONPath, a JSONata template otherwise.
fn parse_assign(
    obj: &Map<String, Value>,
    language: QueryLanguage,
    at: &str,
    problems: &mut Problems,
) -> Option<Assign> {
    obj.get("Assign").and_then(|v| {
        if !v.is_object() {
            problems.add(
                &format!("{at}/Assign"),
                "must be an object of variable names",
            );
            return None;
        }
        if language == QueryLanguage::JsonPath {
            template(obj, "Assign", at, problems).map(Assign::JsonPath)
        } else {
            jsonata_field(obj, "Assign", at, problems).map(Assign::Jsonata)
        }
    })
}

/// The `Retry` and `Catch` of a Task, Parallel or Map state (empty for the other types).
fn parse_error_handlers(
    obj: &Map<String, Value>,
    kind_name: &str,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> (Vec<Retrier>, Vec<Catcher>) {
    if matches!(kind_name, "Task" | "Parallel" | "Map") {
        (
            Retrier::parse_all(
                obj.get("Retry"),
                &format!("{at}/Retry"),
                &mut problems.messages,
            ),
            Catcher::parse_all(
                obj.get("Catch"),
                &format!("{at}/Catch"),
                language,
                &mut problems.messages,
            ),
        )
    } else {
        (Vec::new(), Vec::new())
    }
}

/// The type-specific part of a state, by its `Type`.
fn parse_kind(
    obj: &Map<String, Value>,
    kind_name: &str,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Kind> {
    let kind = match kind_name {
        "Pass" => Kind::Pass {
            result: obj.get("Result").cloned(),
        },
        "Task" => Kind::Task(parse_task(obj, at, language, problems)),
        "Choice" => parse_choice(obj, at, language, problems)?,
        "Wait" => Kind::Wait(parse_wait(obj, at, language, problems)?),
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: dynamic(obj, "Error", language, at, problems),
            cause: dynamic(obj, "Cause", language, at, problems),
        },
        "Parallel" => parse_parallel(obj, at, language, problems)?,
        _ => Kind::Map(Box::new(parse_map(obj, at, language, problems)?)),
    };
    Some(kind)
}

/// A Task state's `Resource` (required) and its timeouts.
fn parse_task(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Task {
    Task {
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
    }
}

/// A Wait state's duration: exactly one of `Seconds` and `Timestamp` (or their `...Path`).
fn parse_wait(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Wait> {
    let seconds = dynamic(obj, "Seconds", language, at, problems);
    let timestamp = dynamic(obj, "Timestamp", language, at, problems);
    match (seconds, timestamp) {
        (Some(s), None) => Some(Wait::Seconds(s)),
        (None, Some(t)) => Some(Wait::Timestamp(t)),
        _ => {
            problems.add(
                at,
                "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
            );
            None
        }
    }
}

/// A Parallel state's `Branches`, each parsed as a block.
fn parse_parallel(
    obj: &Map<String, Value>,
    at: &str,
    language: QueryLanguage,
    problems: &mut Problems,
) -> Option<Kind> {
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
        .filter_map(|(i, branch)| {
            let branch_at = format!("{at}/Branches[{i}]");
            let Some(branch_obj) = branch.as_object() else {
                problems.add(
                    &branch_at,
                    "a branch must be an object with StartAt and States",
                );
                return None;
            };
            check_fields(
                branch_obj,
                &["StartAt", "States", "Comment", "QueryLanguage"],
                &branch_at,
                problems,
            );
            parse_block(branch_obj, &branch_at, language, problems)
        })
        .collect();
    Some(Kind::Parallel { branches })
}

/// Fills the data-flow fields of a parsed state: the JSONPath ones (`InputPath`, `Parameters`,
/// `ResultSelector`, `ResultPath`, `OutputPath`) or the JSONata ones (`Arguments`, `Output`).
fn parse_data_flow(state: &mut State, obj: &Map<String, Value>, at: &str, problems: &mut Problems) {
    let jsonpath = state.language == QueryLanguage::JsonPath;
    // The order of these calls is the order in which their problems are reported.
    if jsonpath
        && !matches!(
            state.kind,
            Kind::Choice { .. } | Kind::Wait(_) | Kind::Succeed | Kind::Fail { .. }
        )
    {
        state.result_path = nullable_path(obj, "ResultPath", at, true, problems);
    }
    if jsonpath && !matches!(state.kind, Kind::Map(_)) {
        state.parameters = template(obj, "Parameters", at, problems);
    }
    if jsonpath {
        state.input_path = nullable_path(obj, "InputPath", at, false, problems);
        state.output_path = nullable_path(obj, "OutputPath", at, false, problems);
        state.result_selector = template(obj, "ResultSelector", at, problems);
    } else {
        state.arguments = jsonata_field(obj, "Arguments", at, problems);
        state.output = jsonata_field(obj, "Output", at, problems);
    }
}

/// A Choice state's `Choices` (JSONata conditions or JSONPath rules) and its `Default`.
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
        let rule_at = format!("{at}/Choices[{i}]");
        if language == QueryLanguage::Jsonata {
            let Some(rule_obj) = rule.as_object() else {
                problems.add(&rule_at, "a rule must be an object");
                continue;
            };
            check_fields(
                rule_obj,
                &["Condition", "Next", "Comment", "Assign", "Output"],
                &rule_at,
                problems,
            );
            let Some(next) = rule_obj.get("Next").and_then(Value::as_str) else {
                problems.add(&format!("{rule_at}/Next"), "is required");
                continue;
            };
            let Some(condition) = jsonata_field(rule_obj, "Condition", &rule_at, problems) else {
                problems.add(
                    &format!("{rule_at}/Condition"),
                    "is required in JSONata: a {% %} expression",
                );
                continue;
            };
            choices.push(Choice {
                rule: ChoiceTest::Condition(condition),
                next: next.to_owned(),
                assign: jsonata_field(rule_obj, "Assign", &rule_at, problems).map(Assign::Jsonata),
                output: jsonata_field(rule_obj, "Output", &rule_at, problems),
            });
        } else {
            let mut rule_only = rule.clone();
            let assign = rule_only.as_object_mut().and_then(|o| o.remove("Assign"));
            match ChoiceRule::parse_top_level(&rule_only, &rule_at) {
                Ok((parsed, next)) => choices.push(Choice {
                    rule: ChoiceTest::Rule(parsed),
                    next,
                    assign: assign.and_then(|a| {
                        Template::compile(&a)
                            .map_err(|e| problems.add(&format!("{rule_at}/Assign"), e))
                            .ok()
                            .map(Assign::JsonPath)
                    }),
                    output: None,
                }),
                Err(e) => problems.add(&rule_at, e),
            }
        }
    }
    let default = obj
        .get("Default")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Kind::Choice { choices, default })
}

/// A Map state's item processor, item source and selector, and failure tolerance.
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
    let processor_at = format!("{at}/{field}");
    let Some(processor_obj) = processor.as_object() else {
        problems.add(&processor_at, "must be an object with StartAt and States");
        return None;
    };
    check_fields(
        processor_obj,
        &[
            "StartAt",
            "States",
            "Comment",
            "ProcessorConfig",
            "QueryLanguage",
        ],
        &processor_at,
        problems,
    );
    // A DISTRIBUTED Map runs its iterations in this process like an inline one; item readers
    // and result writers (S3 sources and sinks) are not served by the embedded engine.
    if let Some(mode) = processor_obj
        .get("ProcessorConfig")
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        && mode != "INLINE"
        && mode != "DISTRIBUTED"
    {
        problems.add(
            &format!("{processor_at}/ProcessorConfig/Mode"),
            format!("'{mode}' must be INLINE or DISTRIBUTED"),
        );
    }
    let distributed = processor_obj
        .get("ProcessorConfig")
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        == Some("DISTRIBUTED");
    let processor = parse_block(processor_obj, &processor_at, language, problems)?;
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
