//! How a state's input becomes its output: `InputPath` → `Parameters` → work → `ResultSelector`
//! → `ResultPath` → `OutputPath` in JSONPath mode; `Arguments` → work → `Output` with
//! `$states` in JSONata mode; and `Assign` in both.

use serde_json::{Map, Value, json};

use super::definition::{Assign, Dynamic, QueryLanguage, State};
use super::payload::Template;
use super::retry::Catcher;
use super::{Failure, Scope, errors, jsonata};

/// The largest state input, output or task result Step Functions accepts (256 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// What every expression of one state can read besides its input.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The context object (`$$`, `$states.context`).
    pub context: &'a Value,
    /// The workflow variables visible to the state.
    pub vars: &'a Map<String, Value>,
}

impl<'a> Env<'a> {
    fn scope(&self, input: &'a Value) -> Scope<'a> {
        Scope {
            input,
            context: self.context,
            vars: self.vars,
        }
    }

    fn states(&self, input: &Value, result: Option<&Value>, error_output: Option<&Value>) -> Value {
        let mut states = json!({"input": input, "context": self.context});
        if let Some(r) = result {
            states["result"] = r.clone();
        }
        if let Some(e) = error_output {
            states["errorOutput"] = e.clone();
        }
        states
    }
}

/// Fails with `States.DataLimitExceeded` when `value` is over 256 KiB as JSON text.
/// Returns the size (bytes of JSON) when it is within the limit.
pub fn check_size(state: &str, what: &str, value: &Value) -> Result<usize, Failure> {
    let size = serde_json::to_string(value)
        .map(|s| s.len())
        .unwrap_or(usize::MAX);
    if size > MAX_PAYLOAD_BYTES {
        return Err(Failure::new(
            errors::DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{state}' returned a result with a size exceeding the maximum number of bytes service limit ({what} is {size} bytes; the limit is {MAX_PAYLOAD_BYTES})"
            ),
        ));
    }
    Ok(size)
}

fn at_state(state: &str, field: &str, f: Failure) -> Failure {
    Failure::new(
        f.error,
        format!(
            "An error occurred while executing the state '{state}' ({field}): {}",
            f.cause
        ),
    )
}

/// The input the state works on: `InputPath` then `Parameters` (JSONPath), or `Arguments`
/// (JSONata). `raw` is the state input.
pub fn effective_input(state: &State, raw: &Value, env: Env<'_>) -> Result<Value, Failure> {
    match state.language {
        QueryLanguage::JsonPath => {
            let selected = select_path(state, "InputPath", state.input_path.as_ref(), raw, env)?;
            match &state.parameters {
                Some(t) => t
                    .render(&env.scope(&selected))
                    .map_err(|f| at_state(&state.name, "Parameters", f)),
                None => Ok(selected),
            }
        }
        QueryLanguage::Jsonata => match &state.arguments {
            Some(args) => jsonata::evaluate_template(args, &env.states(raw, None, None), env.vars)
                .map_err(|f| at_state(&state.name, "Arguments", f)),
            None => Ok(raw.clone()),
        },
    }
}

/// `InputPath` or `OutputPath`: absent → the value, null → `{}`, a path → what it selects.
fn select_path(
    state: &State,
    field: &str,
    path: Option<&Option<super::path::Path>>,
    value: &Value,
    env: Env<'_>,
) -> Result<Value, Failure> {
    match path {
        None => Ok(value.clone()),
        Some(None) => Ok(json!({})),
        Some(Some(p)) => p
            .select(&env.scope(value))
            .map_err(|f| at_state(&state.name, field, f)),
    }
}

/// The state output and the variables after it, from its raw input and its work's result.
///
/// `result` is the task result, the branch/iteration outputs, or (Pass) the `Result`/
/// `Parameters` value; for Choice, Wait and Succeed it is the effective input.
pub fn finish(
    state: &State,
    raw: &Value,
    result: Value,
    env: Env<'_>,
) -> Result<(Value, Map<String, Value>), Failure> {
    match state.language {
        QueryLanguage::JsonPath => {
            let result = match &state.result_selector {
                Some(t) => t
                    .render(&env.scope(&result))
                    .map_err(|f| at_state(&state.name, "ResultSelector", f))?,
                None => result,
            };
            let vars = assign_jsonpath(state, state.assign.as_ref(), &result, env)?;
            let combined = apply_result_path(&state.name, state.result_path.as_ref(), raw, result)?;
            let output = select_path(
                state,
                "OutputPath",
                state.output_path.as_ref(),
                &combined,
                env,
            )?;
            Ok((output, vars))
        }
        QueryLanguage::Jsonata => {
            let states = env.states(raw, Some(&result), None);
            let output = match &state.output {
                Some(o) => jsonata::evaluate_template(o, &states, env.vars)
                    .map_err(|f| at_state(&state.name, "Output", f))?,
                None => result,
            };
            let vars = assign_jsonata(state, state.assign.as_ref(), &states, env)?;
            Ok((output, vars))
        }
    }
}

/// The output of a Choice rule or state in JSONata mode (`Output` of the rule or state, else
/// the input), with its `Assign`.
pub fn finish_choice(
    state: &State,
    raw: &Value,
    rule_output: Option<&Value>,
    rule_assign: Option<&Assign>,
    env: Env<'_>,
) -> Result<(Value, Map<String, Value>), Failure> {
    match state.language {
        QueryLanguage::JsonPath => {
            let effective = select_path(state, "InputPath", state.input_path.as_ref(), raw, env)?;
            let mut vars = assign_jsonpath(state, state.assign.as_ref(), &effective, env)?;
            if let Some(a) = rule_assign {
                let more = assign_jsonpath(state, Some(a), &effective, env)?;
                vars.extend(more);
            }
            let output = select_path(
                state,
                "OutputPath",
                state.output_path.as_ref(),
                &effective,
                env,
            )?;
            Ok((output, vars))
        }
        QueryLanguage::Jsonata => {
            let states = env.states(raw, None, None);
            let output = match rule_output.or(state.output.as_ref()) {
                Some(o) => jsonata::evaluate_template(o, &states, env.vars)
                    .map_err(|f| at_state(&state.name, "Output", f))?,
                None => raw.clone(),
            };
            let mut vars = assign_jsonata(state, state.assign.as_ref(), &states, env)?;
            if let Some(a) = rule_assign {
                vars.extend(assign_jsonata(state, Some(a), &states, env)?);
            }
            Ok((output, vars))
        }
    }
}

/// The output after a `Catch` handled `failure`: the error output `{Error, Cause}` placed by
/// the catcher's `ResultPath` (JSONPath) or its `Output` (JSONata), with its `Assign`.
pub fn catch_output(
    state: &State,
    catcher: &Catcher,
    raw: &Value,
    failure: &Failure,
    env: Env<'_>,
) -> Result<(Value, Map<String, Value>), Failure> {
    let error_output = json!({"Error": failure.error, "Cause": failure.cause});
    match state.language {
        QueryLanguage::JsonPath => {
            let mut vars = env.vars.clone();
            if let Some(a) = &catcher.assign {
                let t = Template::compile(a).map_err(Failure::runtime)?;
                let assigned = t
                    .render(&env.scope(&error_output))
                    .map_err(|f| at_state(&state.name, "Catch/Assign", f))?;
                merge_assigned(&mut vars, assigned);
            }
            let output =
                apply_result_path(&state.name, catcher.result_path.as_ref(), raw, error_output)?;
            Ok((output, vars))
        }
        QueryLanguage::Jsonata => {
            let states = env.states(raw, None, Some(&error_output));
            let output = match &catcher.output {
                Some(o) => jsonata::evaluate_template(o, &states, env.vars)
                    .map_err(|f| at_state(&state.name, "Catch/Output", f))?,
                None => error_output,
            };
            let mut vars = env.vars.clone();
            if let Some(a) = &catcher.assign {
                let assigned = jsonata::evaluate_template(a, &states, env.vars)
                    .map_err(|f| at_state(&state.name, "Catch/Assign", f))?;
                merge_assigned(&mut vars, assigned);
            }
            Ok((output, vars))
        }
    }
}

fn merge_assigned(vars: &mut Map<String, Value>, assigned: Value) {
    if let Value::Object(map) = assigned {
        vars.extend(map);
    }
}

fn assign_jsonpath(
    state: &State,
    assign: Option<&Assign>,
    input: &Value,
    env: Env<'_>,
) -> Result<Map<String, Value>, Failure> {
    let mut vars = env.vars.clone();
    if let Some(Assign::JsonPath(t)) = assign {
        let assigned = t
            .render(&env.scope(input))
            .map_err(|f| at_state(&state.name, "Assign", f))?;
        merge_assigned(&mut vars, assigned);
    }
    Ok(vars)
}

fn assign_jsonata(
    state: &State,
    assign: Option<&Assign>,
    states: &Value,
    env: Env<'_>,
) -> Result<Map<String, Value>, Failure> {
    let mut vars = env.vars.clone();
    if let Some(Assign::Jsonata(a)) = assign {
        let assigned = jsonata::evaluate_template(a, states, env.vars)
            .map_err(|f| at_state(&state.name, "Assign", f))?;
        merge_assigned(&mut vars, assigned);
    }
    Ok(vars)
}

fn apply_result_path(
    state: &str,
    path: Option<&Option<super::path::Path>>,
    raw: &Value,
    result: Value,
) -> Result<Value, Failure> {
    match path {
        None => Ok(result),
        Some(None) => Ok(raw.clone()),
        Some(Some(p)) => {
            let mut output = raw.clone();
            p.set_reference(&mut output, result)
                .map_err(|f| at_state(state, "ResultPath", f))?;
            Ok(output)
        }
    }
}

/// Evaluates a literal/path/JSONata field of the state (`Seconds`, `Error`, `MaxConcurrency`, ...).
pub fn dynamic(
    state: &State,
    field: &str,
    value: &Dynamic,
    raw: &Value,
    env: Env<'_>,
) -> Result<Value, Failure> {
    match value {
        Dynamic::Literal(v) => Ok(v.clone()),
        Dynamic::Path(p) => {
            let effective = select_path(state, "InputPath", state.input_path.as_ref(), raw, env)?;
            p.select(&env.scope(&effective))
                .map_err(|f| at_state(&state.name, &format!("{field}Path"), f))
        }
        Dynamic::Intrinsic(i) => {
            let effective = select_path(state, "InputPath", state.input_path.as_ref(), raw, env)?;
            i.evaluate(&env.scope(&effective))
                .map_err(|f| at_state(&state.name, field, f))
        }
        Dynamic::Jsonata(t) => {
            jsonata::evaluate_template(t, &env.states(raw, None, None), env.vars)
                .map_err(|f| at_state(&state.name, field, f))
        }
    }
}

/// A non-negative integer field (`Seconds`, `TimeoutSeconds`, `MaxConcurrency`, ...).
pub fn dynamic_u64(
    state: &State,
    field: &str,
    value: &Dynamic,
    raw: &Value,
    env: Env<'_>,
) -> Result<u64, Failure> {
    let v = dynamic(state, field, value, raw, env)?;
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                .map(|f| f as u64)
        })
        .ok_or_else(|| {
            Failure::runtime(format!(
                "The state '{state}' field {field} must be a non-negative integer, got {v}",
                state = state.name
            ))
        })
}

/// A string field (`Error`, `Cause`).
pub fn dynamic_string(
    state: &State,
    field: &str,
    value: &Dynamic,
    raw: &Value,
    env: Env<'_>,
) -> Result<String, Failure> {
    match dynamic(state, field, value, raw, env)? {
        Value::String(s) => Ok(s),
        other => Err(Failure::runtime(format!(
            "The state '{}' field {field} must be a string, got {other}",
            state.name
        ))),
    }
}
