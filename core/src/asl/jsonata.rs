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

use super::limits::{JSONATA_STACK_BYTES, MAX_JSONATA_ARENA_BYTES};
use super::{Failure, MAX_PAYLOAD_BYTES, errors};

mod bounded;

/// Nesting depth at which evaluation stops (protects the thread's stack).
const MAX_DEPTH: usize = 100;
/// The deepest result converted to JSON.
const MAX_RESULT_DEPTH: usize = 128;
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
        _ => bounded::screen(source).and_then(|()| {
            guarded(|| {
                JsonAta::new(source, &Bump::new())
                    .map(drop)
                    .map_err(|e| message(&e))
            })
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
    let result = bounded::screen(source).and_then(|()| run_bounded(source, states, vars));
    match result {
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
    // Past the limit, an allocation panics (caught by `guarded`).
    arena.set_allocation_limit(Some(MAX_JSONATA_ARENA_BYTES));
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
    // Bounded versions of built-ins that could build unbounded strings, with the arities of
    // the originals (`$map` and friends pass as many arguments as the arity says).
    jsonata.register_function("__sfn_pad", 2, bounded::pad);
    jsonata.register_function("__sfn_string", 1, bounded::string);
    jsonata.register_function("__sfn_join", 2, bounded::join);
    jsonata.register_function("__sfn_replace", 4, bounded::replace);
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
    let mut left = MAX_PAYLOAD_BYTES;
    from_jsonata(result, 0, &mut left)
}

/// Run `f` on a thread of its own with a [`JSONATA_STACK_BYTES`] stack (`jsonata-rs` recurses
/// deeply, and its arena-bounded values can nest deeply), turning a panic inside `jsonata-rs`
/// (it has a few, and an allocation past the arena limit is one) into an error.
fn guarded<T: Send>(f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    let caught = std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("jsonata".into())
            .stack_size(JSONATA_STACK_BYTES)
            .spawn_scoped(scope, || {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            });
        match thread {
            Ok(thread) => thread.join().map_err(|_| String::new()),
            Err(e) => Ok(Ok(Err(format!(
                "could not start a thread to evaluate it ({e})"
            )))),
        }
    });
    match caught {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(panicked(panic)),
        Err(_) => Err("the JSONata engine failed on this expression".into()),
    }
}

/// The error for a panic inside `jsonata-rs`.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> String {
    let what = (panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the JSONata engine failed on this expression: {what}")
}

/// [`run`] on a thread of its own, as [`guarded`] does, waited for at most the time limit and
/// a grace second: `jsonata-rs` checks its time limit between steps of the evaluation, not
/// inside a built-in (`=` on a value sharing the same object many times over can run for
/// ages), so past the wait the thread is abandoned (it ends when that built-in does) and the
/// expression fails. The thread gets copies of the states and of the variables the expression
/// names.
fn run_bounded(
    source: &str,
    states: &Value,
    vars: &Map<String, Value>,
) -> Result<Option<Value>, String> {
    let source = source.to_string();
    let states = match source.contains("$states") {
        true => states.clone(),
        false => Value::Null,
    };
    let vars: Map<String, Value> = (vars.iter())
        .filter(|(name, _)| source.contains(&format!("${name}")))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("jsonata".into())
        .stack_size(JSONATA_STACK_BYTES)
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&source, &states, &vars)
            }));
            // The caller may have stopped waiting.
            let _ = sender.send(result);
        });
    if let Err(e) = thread {
        return Err(format!("could not start a thread to evaluate it ({e})"));
    }
    let wait = std::time::Duration::from_millis(TIME_LIMIT_MS as u64 + 1000);
    match receiver.recv_timeout(wait) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(panicked(panic)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "the evaluation did not finish within {} ms and was abandoned",
            wait.as_millis()
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err("the JSONata engine failed on this expression".into())
        }
    }
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
    for (name, wrapper) in bounded::WRAPPED {
        if !shadows.contains(&name) && source.contains(&format!("${name}")) {
            if name == "replace" {
                prefix.push_str("$__sfn_native_replace := $replace; ");
            }
            prefix.push_str(&format!("${name} := ${wrapper}; "));
        }
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
/// function, a regex), for one nested deeper than [`MAX_RESULT_DEPTH`] (at `depth`), or once
/// the JSON text passes the `left` bytes of the payload quota (a value may hold the same array
/// many times over). Object keys come out sorted (`jsonata-rs` does not keep their order).
fn from_jsonata<'a>(
    value: &'a JValue<'a>,
    depth: usize,
    left: &mut usize,
) -> Result<Option<Value>, String> {
    let nested = |depth: usize| match depth < MAX_RESULT_DEPTH {
        true => Ok(()),
        false => Err(format!(
            "the result nests arrays and objects deeper than {MAX_RESULT_DEPTH} levels"
        )),
    };
    Ok(Some(match value {
        JValue::Undefined => return Ok(None),
        JValue::Null => {
            spend(left, 4)?;
            Value::Null
        }
        JValue::Bool(b) => {
            spend(left, 5)?;
            Value::Bool(*b)
        }
        JValue::Number(n) => {
            spend(left, 24)?;
            number(*n)
        }
        JValue::String(s) => {
            spend(left, s.len() + 2)?;
            Value::String(s.to_string())
        }
        JValue::Array(..) | JValue::Range(..) => {
            nested(depth)?;
            spend(left, 2)?;
            let mut items = Vec::new();
            for member in value.members() {
                spend(left, 1)?;
                items.extend(from_jsonata(member, depth + 1, left)?);
            }
            Value::Array(items)
        }
        JValue::Object(_) => {
            nested(depth)?;
            spend(left, 2)?;
            let mut entries: Vec<(String, Value)> = Vec::new();
            for (k, v) in value.entries() {
                spend(left, k.len() + 4)?;
                if let Some(v) = from_jsonata(v, depth + 1, left)? {
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

/// Takes `n` bytes from what the result may still use.
fn spend(left: &mut usize, n: usize) -> Result<(), String> {
    match left.checked_sub(n) {
        Some(rest) => {
            *left = rest;
            Ok(())
        }
        None => Err(format!(
            "the result is larger than {MAX_PAYLOAD_BYTES} bytes of JSON (the payload size quota)"
        )),
    }
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
    // In i128, so that extreme bounds and steps cannot overflow.
    let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
    if step == 0 || (end - start).signum() * step.signum() < 0 {
        return Ok(JValue::undefined());
    }
    let count = (end - start) / step + 1;
    if count > MAX_RANGE as i128 {
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
mod tests;
