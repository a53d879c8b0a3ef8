//! JSONata for states with `QueryLanguage: "JSONata"`, evaluated with the `jsonata-rs` crate.
//!
//! A string is an expression when it is exactly `{% ... %}`, with nothing before `{%` or after
//! `%}`. Templates (`Arguments`, `Output`, `Assign`, `Items`, `ItemSelector`, ...) are JSON
//! values in which every such string, at any depth, is replaced by its result; every other string
//! is a literal. Expressions read `$states` (`input`, `context`, `result`, `errorOutput`) and the
//! workflow variables as `$name`; there is no context item, so a bare `$` is undefined.
//!
//! Following the Step Functions documentation, a parse or evaluation error and an expression that
//! returns nothing (undefined) both fail with `States.QueryEvaluationError`, wherever the
//! expression stands. Step Functions' own functions `$partition`, `$range`, `$hash`, `$random`
//! (with an optional seed), `$uuid` and `$parse` are provided.

use bumpalo::Bump;
use jsonata_rs::{ArrayFlags, Error as JError, FunctionContext, JsonAta, Value as JValue};
use md5::Md5;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Number, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{Failure, errors};

/// Nesting depth at which evaluation stops (protects the thread's stack).
const MAX_DEPTH: usize = 100;
/// Wall-clock budget of one expression, in milliseconds.
const TIME_LIMIT_MS: usize = 5_000;
/// The most elements `$range` builds.
const MAX_RANGE: usize = 1_000_000;
/// The functions `jsonata-rs` binds after the caller's bindings: a variable with one of these
/// names is rebound inside the expression so that it shadows the function, as in JSONata.
const NATIVE_NAMES: &str = "abs append assert base64decode base64encode boolean ceil contains \
    count distinct each error exists fromMillis toMillis single filter floor join keys length \
    lookup lowercase map match max merge min not now number pad power random reduce replace \
    reverse round sort split sqrt string substring substringBefore substringAfter sum trim \
    uppercase zip millis uuid";

/// Whether a string is a JSONata expression `{% ... %}` (no space before `{%` or after `%}`).
pub fn is_expression(text: &str) -> bool {
    text.len() >= 4 && text.starts_with("{%") && text.ends_with("%}")
}

/// The expression between `{%` and `%}`, as written.
fn inner(text: &str) -> &str {
    &text[2..text.len() - 2]
}

/// Parse-check an expression `{% ... %}` (for definition validation). `Err` carries a message.
pub fn check(text: &str) -> Result<(), String> {
    if !is_expression(text) {
        return Err(format!(
            "'{text}' is not a JSONata expression: it must start with '{{%' and end with '%}}'"
        ));
    }
    let source = inner(text);
    let parsed = match source.trim() {
        "" => Err("the expression is empty".to_string()),
        _ => guarded(|| {
            JsonAta::new(source, &Bump::new())
                .map(drop)
                .map_err(|e| message(&e))
        }),
    };
    parsed.map_err(|e| format!("The JSONata expression '{}' is invalid: {e}", source.trim()))
}

/// Check every expression inside a template value, and reject strings that open with `{%` or
/// close with `%}` without being an expression.
pub fn check_template(value: &Value) -> Result<(), String> {
    check_at(value, "")
}

fn check_at(value: &Value, path: &str) -> Result<(), String> {
    let at = |e: String| {
        if path.is_empty() {
            e
        } else {
            format!("{e} (at '{path}')")
        }
    };
    match value {
        Value::String(s) if is_expression(s) => check(s).map_err(at),
        Value::String(s) if s.trim_start().starts_with("{%") || s.trim_end().ends_with("%}") => {
            Err(at(check(s).unwrap_err()))
        }
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| check_at(v, &child_key(path, k))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_at(v, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

fn child_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}/{key}")
    }
}

/// Evaluate one expression string (`{% ... %}`) with `$states` and the workflow variables.
pub fn evaluate(text: &str, states: &Value, vars: &Map<String, Value>) -> Result<Value, Failure> {
    evaluate_named(text, "", states, vars)
}

/// Evaluate a template: every `{% %}` string inside is replaced by its value.
pub fn evaluate_template(
    value: &Value,
    states: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, Failure> {
    evaluate_field("", value, states, vars)
}

/// [`evaluate_template`] for the state field `field` (`Output`, `Arguments`, `Assign`, ...): a
/// failure's cause names the field and the place inside it, as Step Functions does
/// (`Output/a/b[0]`).
pub fn evaluate_field(
    field: &str,
    value: &Value,
    states: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, Failure> {
    match value {
        Value::String(s) if is_expression(s) => evaluate_named(s, field, states, vars),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                Ok((
                    k.clone(),
                    evaluate_field(&child_key(field, k), v, states, vars)?,
                ))
            })
            .collect::<Result<Map<_, _>, Failure>>()
            .map(Value::Object),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| evaluate_field(&format!("{field}[{i}]"), v, states, vars))
            .collect::<Result<Vec<_>, Failure>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// Evaluate `text`, naming `field` (when not empty) in a failure's cause.
fn evaluate_named(
    text: &str,
    field: &str,
    states: &Value,
    vars: &Map<String, Value>,
) -> Result<Value, Failure> {
    let fail = |cause: String| Failure::new(errors::QUERY_EVALUATION_ERROR, cause);
    if !is_expression(text) {
        return Err(fail(check(text).unwrap_err()));
    }
    let source = inner(text);
    let shown = source.trim();
    let place = if field.is_empty() {
        String::new()
    } else {
        format!(" specified for the field '{field}'")
    };
    match guarded(|| run(source, states, vars)) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(fail(format!(
            "The JSONata expression '{shown}'{place} returned nothing (undefined)."
        ))),
        Err(e) => Err(fail(format!(
            "An error occurred while evaluating the JSONata expression '{shown}'{place}: {e}"
        ))),
    }
}

/// Parse `source` and evaluate it with `$states` and the variables it names.
fn run(source: &str, states: &Value, vars: &Map<String, Value>) -> Result<Option<Value>, String> {
    let arena = Bump::new();
    // Parse the expression as written first, so errors point into it.
    let parsed = JsonAta::new(source, &arena).map_err(|e| message(&e))?;
    let (wrapped, shadows) = shadowing(source, vars);
    let jsonata = match &wrapped {
        Some(w) => JsonAta::new(w, &arena).map_err(|e| message(&e))?,
        None => parsed,
    };
    jsonata.register_function("partition", 2, sfn_partition);
    jsonata.register_function("range", 3, sfn_range);
    jsonata.register_function("hash", 2, sfn_hash);
    jsonata.register_function("parse", 1, sfn_parse);
    jsonata.register_function("__sfn_random", 0, sfn_random);
    // JSONata functions jsonata-rs lacks.
    jsonata.register_function("type", 1, fn_type);
    jsonata.register_function("average", 1, fn_average);
    for (name, value) in vars {
        // Only bind what the expression can name: variables are never looked up dynamically.
        if source.contains(&format!("${name}")) {
            let alias = if shadows.contains(&name.as_str()) {
                format!("__sfn_var_{name}")
            } else {
                name.clone()
            };
            jsonata.assign_var(&alias, to_jsonata(&arena, value));
        }
    }
    if source.contains("$states") {
        jsonata.assign_var("states", to_jsonata(&arena, states));
    }
    let result = jsonata
        .evaluate_timeboxed(None, Some(MAX_DEPTH), Some(TIME_LIMIT_MS))
        .map_err(|e| message(&e))?;
    from_jsonata(result)
}

/// Run `f`, turning a panic inside `jsonata-rs` (it has a few) into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = (panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(format!(
            "the JSONata engine failed on this expression: {what}"
        ))
    })
}

/// `jsonata-rs` binds its own functions over the caller's bindings. When the expression uses
/// `$random` (Step Functions' version takes a seed) or a variable named like a built-in function,
/// wrap it in a block that rebinds those names, so that they shadow the built-ins. Returns the
/// wrapped source and the variable names bound under an alias (`__sfn_var_<name>`).
fn shadowing<'v>(source: &str, vars: &'v Map<String, Value>) -> (Option<String>, Vec<&'v str>) {
    let shadows: Vec<&str> = vars
        .keys()
        .map(String::as_str)
        .filter(|name| NATIVE_NAMES.split_whitespace().any(|n| n == *name))
        .filter(|name| source.contains(&format!("${name}")))
        .collect();
    let mut prefix: String = shadows
        .iter()
        .map(|name| format!("${name} := $__sfn_var_{name}; "))
        .collect();
    if !shadows.contains(&"random") && source.contains("$random") {
        prefix.push_str("$random := $__sfn_random; ");
    }
    if prefix.is_empty() {
        (None, shadows)
    } else {
        (Some(format!("({prefix}\n{source}\n)")), shadows)
    }
}

/// An error's message; `$error`-style messages lose the crate's `D3137 @ ` prefix.
fn message(e: &JError) -> String {
    match e {
        JError::D3137Error(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Convert a JSON value into a JSONata value allocated in `arena`.
fn to_jsonata<'a>(arena: &'a Bump, value: &Value) -> &'a JValue<'a> {
    match value {
        Value::Null => JValue::null(arena),
        Value::Bool(b) => JValue::bool(*b),
        Value::Number(n) => JValue::number(arena, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(arena, s),
        Value::Array(items) => {
            let array = JValue::array_with_capacity(arena, items.len(), ArrayFlags::empty());
            for item in items {
                array.push(to_jsonata(arena, item));
            }
            array
        }
        Value::Object(map) => {
            let object = JValue::object_with_capacity(arena, map.len());
            for (k, v) in map {
                object.insert(k, to_jsonata(arena, v));
            }
            object
        }
    }
}

/// Convert a JSONata result to JSON: `None` for undefined, `Err` for a value JSON cannot hold (a
/// function, a regex). Object keys come out sorted (`jsonata-rs` does not keep their order).
fn from_jsonata<'a>(value: &'a JValue<'a>) -> Result<Option<Value>, String> {
    Ok(Some(match value {
        JValue::Undefined => return Ok(None),
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(..) | JValue::Range(..) => {
            let mut items = Vec::new();
            for member in value.members() {
                items.extend(from_jsonata(member)?);
            }
            Value::Array(items)
        }
        JValue::Object(_) => {
            let mut entries: Vec<(String, Value)> = Vec::new();
            for (k, v) in value.entries() {
                if let Some(v) = from_jsonata(v)? {
                    entries.push((k.to_string(), v));
                }
            }
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        JValue::Regex(_) => return Err("the result is a regular expression, not JSON".into()),
        JValue::Lambda { .. } | JValue::NativeFn { .. } | JValue::Transformer { .. } => {
            return Err("the result is a function, not JSON".into());
        }
    }))
}

/// A JSONata number as JSON: integral values as integers, non-finite ones as the strings
/// JavaScript names them by.
fn number(n: f64) -> Value {
    if n.is_nan() {
        Value::String("NaN".into())
    } else if n.is_infinite() {
        Value::String(if n > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else if n.fract() == 0.0 && n.abs() < 9.2e18 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

type NativeResult<'a> = jsonata_rs::Result<&'a JValue<'a>>;

/// The `i`-th argument, undefined when missing.
fn arg<'a>(args: &[&'a JValue<'a>], i: usize) -> &'a JValue<'a> {
    args.get(i).copied().unwrap_or_else(JValue::undefined)
}

/// A signature error for argument `i` (1-based) of the function.
fn bad_arg(ctx: &FunctionContext<'_, '_>, i: usize) -> JError {
    JError::T0410ArgumentNotValid(ctx.char_index, i, ctx.name.to_string())
}

/// An integer argument: numbers are truncated towards zero, as Step Functions does.
fn int_arg(ctx: &FunctionContext<'_, '_>, value: &JValue<'_>, i: usize) -> jsonata_rs::Result<i64> {
    match value {
        JValue::Number(n) if n.is_finite() => Ok(n.trunc() as i64),
        _ => Err(bad_arg(ctx, i)),
    }
}

/// `$partition(array, size)`: the array cut into chunks of `size` (the last may be shorter).
fn sfn_partition<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let (array, size) = (arg(args, 0), arg(args, 1));
    if array.is_undefined() || size.is_undefined() {
        return Ok(JValue::undefined());
    }
    if !array.is_array() {
        return Err(bad_arg(&ctx, 1));
    }
    let size = int_arg(&ctx, size, 2)?;
    if size < 1 || array.is_empty() {
        return Ok(JValue::undefined());
    }
    let members: Vec<_> = array.members().collect();
    let result = JValue::array(ctx.arena, ArrayFlags::empty());
    for chunk in members.chunks(size as usize) {
        let part = JValue::array_with_capacity(ctx.arena, chunk.len(), ArrayFlags::empty());
        for member in chunk {
            part.push(member);
        }
        result.push(part);
    }
    Ok(result)
}

/// `$range(start, end, step)`: `start`, `start + step`, ... up to `end` inclusive.
fn sfn_range<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    if args.iter().take(3).any(|a| a.is_undefined()) || args.len() < 3 {
        return Ok(JValue::undefined());
    }
    let start = int_arg(&ctx, args[0], 1)?;
    let end = int_arg(&ctx, args[1], 2)?;
    let step = int_arg(&ctx, args[2], 3)?;
    if step == 0 || (end - start).signum() * step.signum() < 0 {
        return Ok(JValue::undefined());
    }
    let count = (end - start) / step + 1;
    if count as u64 > MAX_RANGE as u64 {
        return Err(JError::D3137Error(format!(
            "$range would create {count} elements, more than the {MAX_RANGE} allowed"
        )));
    }
    if count == 1 {
        return Ok(JValue::number(ctx.arena, start as f64));
    }
    let result = JValue::array_with_capacity(ctx.arena, count as usize, ArrayFlags::empty());
    for i in 0..count {
        result.push(JValue::number(ctx.arena, (start + i * step) as f64));
    }
    Ok(result)
}

/// `$hash(data, algorithm)`: the lowercase hex digest of a string.
fn sfn_hash<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let (data, algorithm) = (arg(args, 0), arg(args, 1));
    if data.is_undefined() || algorithm.is_undefined() {
        return Ok(JValue::undefined());
    }
    if !data.is_string() || !algorithm.is_string() {
        return Err(bad_arg(&ctx, if data.is_string() { 2 } else { 1 }));
    }
    let bytes = data.as_str();
    let bytes = bytes.as_bytes();
    let digest: Vec<u8> = match &*algorithm.as_str() {
        "MD5" => Md5::digest(bytes).to_vec(),
        "SHA-1" => Sha1::digest(bytes).to_vec(),
        "SHA-256" => Sha256::digest(bytes).to_vec(),
        "SHA-384" => Sha384::digest(bytes).to_vec(),
        "SHA-512" => Sha512::digest(bytes).to_vec(),
        other => {
            return Err(JError::D3137Error(format!(
                "Unsupported hashing algorithm '{other}': use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            )));
        }
    };
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(JValue::string(ctx.arena, &hex))
}

/// `$random([seed])`: a number in `[0, 1)`, the same one for the same seed.
fn sfn_random<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    if args.len() > 1 {
        return Err(bad_arg(&ctx, 2));
    }
    let seed = arg(args, 0);
    let n: f64 = if seed.is_undefined() {
        rand::random()
    } else {
        let seed = int_arg(&ctx, seed, 1)?;
        rand::rngs::StdRng::seed_from_u64(seed as u64).random()
    };
    Ok(JValue::number(ctx.arena, n))
}

/// `$parse(json)`: the value a JSON string holds.
fn sfn_parse<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let text = arg(args, 0);
    if text.is_undefined() {
        return Ok(JValue::undefined());
    }
    if !text.is_string() {
        return Err(bad_arg(&ctx, 1));
    }
    let parsed: Value = serde_json::from_str(&text.as_str())
        .map_err(|e| JError::D3137Error(format!("$parse: the argument is not valid JSON: {e}")))?;
    Ok(to_jsonata(ctx.arena, &parsed))
}

/// JSONata's `$type(value)`.
fn fn_type<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let name = match arg(args, 0) {
        JValue::Undefined => return Ok(JValue::undefined()),
        JValue::Null => "null",
        JValue::Number(_) => "number",
        JValue::String(_) => "string",
        JValue::Bool(_) => "boolean",
        JValue::Array(..) | JValue::Range(_) => "array",
        JValue::Object(_) => "object",
        _ => "function",
    };
    Ok(JValue::string(ctx.arena, name))
}

/// JSONata's `$average(array)`: the mean of an array of numbers.
fn fn_average<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let value = arg(args, 0);
    let numbers: Vec<&JValue> = match value {
        JValue::Undefined => vec![],
        _ if value.is_array() => value.members().collect(),
        _ => vec![value],
    };
    if numbers.iter().any(|n| !n.is_number()) {
        let name = ctx.name.to_string();
        return Err(JError::T0412ArgumentMustBeArrayOfType(
            ctx.char_index,
            1,
            name,
            "number".into(),
        ));
    }
    if numbers.is_empty() {
        return Ok(JValue::undefined());
    }
    let sum: f64 = numbers.iter().map(|n| n.as_f64()).sum();
    Ok(JValue::number(ctx.arena, sum / numbers.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn states() -> Value {
        json!({
            "input": {"x": 3, "name": "Ada", "items": [
                {"name": "a", "price": 5}, {"name": "b", "price": 15}, {"name": "c", "price": 25}
            ], "json": "{\"k\": [1, 2.5]}", "nothing": null},
            "context": {"Execution": {"Id": "arn:aws:states:local:execution:sm:run-1"}},
            "result": {"ok": true}
        })
    }

    fn ev_with(expr: &str, vars: Value) -> Result<Value, Failure> {
        evaluate(
            &format!("{{% {expr} %}}"),
            &states(),
            vars.as_object().unwrap(),
        )
    }

    fn ev(expr: &str) -> Result<Value, Failure> {
        ev_with(expr, json!({"customer": "María", "limit": 10}))
    }

    /// Every `(expression, expected JSON)` pair evaluates as expected.
    fn table(cases: &[(&str, &str)]) {
        let failed: Vec<String> = (cases.iter())
            .filter_map(|(expr, want)| match ev(expr) {
                Ok(got) if got == serde_json::from_str::<Value>(want).unwrap() => None,
                other => Some(format!("{expr} -> {other:?}")),
            })
            .collect();
        assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
    }

    /// Every expression fails with `States.QueryEvaluationError` and a cause containing `part`.
    fn fails(cases: &[(&str, &str)]) {
        for (expr, part) in cases {
            let f = ev(expr).expect_err(expr);
            assert_eq!(f.error, errors::QUERY_EVALUATION_ERROR, "{expr}");
            assert!(f.cause.contains(part), "{expr}: {}", f.cause);
        }
    }

    #[test]
    fn recognises_and_checks_expressions() {
        assert!(is_expression("{% 1 %}") && is_expression("{%1%}"));
        for text in [" {% 1 %}", "{% 1 %} ", "$.x", "{%}"] {
            assert!(!is_expression(text), "{text}");
        }
        assert!(check("{% $states.input.items[price > 10].name %}").is_ok());
        for bad in ["{% %}", "{% 1 + %}", "{% function($a){$a}(3) %}", "$.x"] {
            assert!(check(bad).is_err(), "{bad}");
        }
        let bad = json!({"a": ["{% 1 + %}"]});
        assert!(check_template(&bad).unwrap_err().contains("(at 'a[0]')"));
        assert!(check_template(&json!({"a": "{% 1 "})).is_err());
        assert!(check_template(&json!({"a": " {% 1 %}"})).is_err());
        assert!(check_template(&json!({"a": ["{% 1 %}", "100%", 3]})).is_ok());
    }

    #[test]
    fn expressions_read_states_and_variables() {
        table(&[
            ("1 + 2", "3"),
            ("7 / 2", "3.5"),
            ("$states.input.x * 2", "6"),
            ("'Hello, ' & $states.input.name", r#""Hello, Ada""#),
            ("$states.input.nothing", "null"),
            (
                "$states.context.Execution.Id",
                r#""arn:aws:states:local:execution:sm:run-1""#,
            ),
            ("$states.result.ok", "true"),
            ("$customer", r#""María""#),
            ("$limit + 1", "11"),
            ("$unknownVariable ? 1 : 2", "2"),
            ("1/0", r#""Infinity""#),
        ]);
        // Variables named like built-in functions shadow them, as in JSONata.
        let shadowing = json!({"count": 7, "random": 0.5, "type": "t"});
        let got = ev_with("[$count + 1, $random, $sum([$count]), $type]", shadowing).unwrap();
        assert_eq!(got, json!([8, 0.5, 7, "t"]));
    }

    #[test]
    fn templates_nest_through_objects_and_arrays() {
        let template = json!({
            "static": "Hello",
            "title": "{% $states.input.name %}",
            "not-evaluated": "$customer",
            "nested": {"list": [1, "{% $limit %}", {"deep": "{% $customer %}"}], "n": null},
            "spaced": " {% 1 %}"
        });
        let vars = json!({"customer": "María", "limit": 10});
        let out = evaluate_template(&template, &states(), vars.as_object().unwrap()).unwrap();
        let want = json!({
            "static": "Hello",
            "title": "Ada",
            "not-evaluated": "$customer",
            "nested": {"list": [1, 10, {"deep": "María"}], "n": null},
            "spaced": " {% 1 %}"
        });
        assert_eq!(out, want);
        let (states, vars) = (states(), Map::new());
        assert_eq!(
            evaluate_template(&json!("{% [1, 2] %}"), &states, &vars).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            evaluate_template(&json!(42), &states, &vars).unwrap(),
            json!(42)
        );
    }

    #[test]
    fn undefined_parse_and_evaluation_errors() {
        fails(&[
            (
                "$states.input.absent",
                "'$states.input.absent' returned nothing (undefined).",
            ),
            (
                "$states.input.items[price > 100]",
                "returned nothing (undefined)",
            ),
            ("1 +", "evaluating the JSONata expression '1 +': S0"),
            ("'unterminated", "S0101"),
            ("$states.input.name + 1", "T2001"),
            ("$error('boom')", ": boom"),
            ("function($x) { $x }", "is a function"),
            ("$eval('1')", "T1006"),
            // jsonata-rs panics on these; the panic is caught.
            ("$states.input.items.(%.x)", "Parent not yet implemented"),
            ("function($a){$a}(3)", "engine failed"),
            (
                "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))",
                "U1001",
            ),
        ]);
        assert!(evaluate("$.x", &states(), &Map::new()).is_err());
        let template = json!({"a": {"b": [0, "{% $states.input.absent %}"]}});
        let f = evaluate_field("Output", &template, &states(), &Map::new()).unwrap_err();
        assert_eq!(
            f.cause,
            "The JSONata expression '$states.input.absent' specified for the field \
             'Output/a/b[1]' returned nothing (undefined)."
        );
    }

    #[test]
    fn step_functions_functions() {
        table(&[
            ("$partition([1,2,3,4,5], 2)", "[[1, 2], [3, 4], [5]]"),
            ("$partition([1,2,3,4], 2.9)", "[[1, 2], [3, 4]]"),
            ("$range(0, 10, 2)", "[0, 2, 4, 6, 8, 10]"),
            ("$range(5, 0, -2)", "[5, 3, 1]"),
            ("$range(1, 1, 1)", "1"),
            (
                "$hash('input data', 'MD5')",
                r#""812f45842bc6d66ee14572ce20db8e86""#,
            ),
            (
                "$hash('abc', 'SHA-1')",
                r#""a9993e364706816aba3e25717850c26c9cd0d89d""#,
            ),
            (
                "$substring($hash('abc', 'SHA-256'), 0, 16)",
                r#""ba7816bf8f01cfea""#,
            ),
            (
                "$length($hash('abc', 'SHA-384')) + $length($hash('abc', 'SHA-512'))",
                "224",
            ),
            (
                "$random(42) = $random(42) and $random(42) != $random(43)",
                "true",
            ),
            ("$random() >= 0 and $random() < 1", "true"),
            ("$substring($uuid(), 14, 1) & $length($uuid())", r#""436""#),
            ("$parse($states.input.json)", r#"{"k": [1, 2.5]}"#),
            ("$parse('[1, \"a\"]')[1]", r#""a""#),
        ]);
        fails(&[
            ("$partition([1,2], 0)", "undefined"),
            ("$range(0, 10, -1)", "undefined"),
            (
                "$hash('abc', 'SHA-3')",
                "Unsupported hashing algorithm 'SHA-3'",
            ),
            ("$parse('{nope')", "not valid JSON"),
        ]);
    }

    #[test]
    fn common_jsonata() {
        table(&[
            ("$sum($states.input.items.price)", "45"),
            ("$count($states.input.items)", "3"),
            ("$map([1,2,3], function($v) { $v * 2 })", "[2, 4, 6]"),
            ("$filter([1,2,3,4], function($v) { $v % 2 = 0 })", "[2, 4]"),
            ("$reduce([1,2,3], function($a, $b) { $a + $b })", "6"),
            (
                "[$string(42), $string({'a': 1}), $string(true)]",
                r#"["42", "{\"a\":1}", "true"]"#,
            ),
            ("$number('12.5')", "12.5"),
            ("$join(['a','b','c'], '-')", r#""a-b-c""#),
            ("$uppercase('abc') & $lowercase('DEF')", r#""ABCdef""#),
            ("$contains('hello', 'ell')", "true"),
            (
                "[$exists($states.input.x), $exists($states.input.absent)]",
                "[true, false]",
            ),
            ("$split('a,b', ',')", r#"["a", "b"]"#),
            ("$substring('hello', 1, 3)", r#""ell""#),
            ("$sort($keys({'a': 1, 'b': 2}))", r#"["a", "b"]"#),
            ("$merge([{'a': 1}, {'b': 2}])", r#"{"a": 1, "b": 2}"#),
            ("$states.input.items[price > 10].name", r#"["b", "c"]"#),
            ("$states.input.items[price > 20].name", r#""c""#),
            ("$states.input.items[-1].price", "25"),
            ("$states.input.x > 2 ? 'big' : 'small'", r#""big""#),
            (
                "{'n': $states.input.name, 't': $sum($states.input.items.price)}",
                r#"{"n": "Ada", "t": 45}"#,
            ),
            ("[1..3]", "[1, 2, 3]"),
            ("($states.input.items.{'k': name})[1]", r#"{"k": "b"}"#),
            (
                "$states.input.items{name: price}",
                r#"{"a": 5, "b": 15, "c": 25}"#,
            ),
            ("$states.input.items^(>price)[0].name", r#""c""#),
            (
                "[$max([1, 5, 3]), $round(2.567, 2), $abs(-2)]",
                "[5, 2.57, 2]",
            ),
            ("$distinct($append([1, 1], [2]))", "[1, 2]"),
            (
                "$replace('a-b', '-', '+') & $base64encode('hi')",
                r#""a+baGk=""#,
            ),
            (
                "($states.input ~> |items|{'n': 1}|).items[n = 1] ~> $count()",
                "3",
            ),
            (
                "$fromMillis(1700000000000, '[Y0001]-[M01]-[D01]')",
                r#""2023-11-14""#,
            ),
            ("($x := 5; $x * 2)", "10"),
            ("$type('x')", r#""string""#),
            (
                "[$type(null), $type(1), $type([]), $type({}), $type($sum)]",
                r#"["null", "number", "array", "object", "function"]"#,
            ),
            ("[$average([1, 2, 3, 4]), $average(3)]", "[2.5, 3]"),
        ]);
    }
}
