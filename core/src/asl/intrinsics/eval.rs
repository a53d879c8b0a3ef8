//! Evaluating a parsed intrinsic call: its arguments first (within the payload quota), then
//! the function itself, one helper per function with more than a line of work.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use sha2::Digest;

use super::super::limits::{Unit, measure};
use super::super::path::json_equal;
use super::super::{Failure, MAX_PAYLOAD_BYTES, Scope, errors};
use super::{Arg, Call, Function, MAX_RANGE_ITEMS};

/// Evaluates a call: its arguments against the scope, then the function on them.
pub(super) fn evaluate(call: &Call, scope: &Scope) -> Result<Value, Failure> {
    let args = evaluate_args(call, scope)?;
    apply(call, args)
}

/// Evaluates a call's arguments, failing once together they exceed the payload quota.
fn evaluate_args(call: &Call, scope: &Scope) -> Result<Vec<Value>, Failure> {
    // The arguments together are at most a payload: a result built from them (States.Array,
    // States.Format, ...) stays within a small multiple of it, however often a call repeats a
    // large path.
    let mut remaining = MAX_PAYLOAD_BYTES;
    let mut args = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        let value = match arg {
            Arg::Text(text, _) => Value::String(text.clone()),
            Arg::Literal(value) => value.clone(),
            Arg::Path(path) => path.select(scope)?,
            Arg::Call(call) => evaluate(call, scope)?,
        };
        match measure(&value, remaining, usize::MAX, Unit::Bytes) {
            Ok(len) if len < remaining => remaining -= len + 1,
            _ => {
                return Err(Failure::new(
                    errors::DATA_LIMIT_EXCEEDED,
                    format!(
                        "{}: the arguments come to more than {MAX_PAYLOAD_BYTES} bytes of JSON (the payload size quota); pass less data",
                        call.function.name()
                    ),
                ));
            }
        }
        args.push(value);
    }
    Ok(args)
}

/// Applies a call's function to its evaluated arguments.
fn apply(call: &Call, args: Vec<Value>) -> Result<Value, Failure> {
    let function = call.function;
    Ok(match (function, args.as_slice()) {
        (Function::Format, [template, values @ ..]) => format(call, template, values)?,
        (Function::StringToJson, [text]) => {
            serde_json::from_str(function.string(text, "the argument")?)
                .map_err(|e| function.fail(format!("the argument is not valid JSON: {e}")))?
        }
        (Function::JsonToString, [value]) => Value::String(value.to_string()),
        (Function::Array, _) => Value::Array(args),
        (Function::ArrayPartition, [array, size]) => array_partition(function, array, size)?,
        (Function::ArrayContains, [array, value]) => Value::Bool(
            function
                .array(array, "the first argument")?
                .iter()
                .any(|item| json_equal(item, value)),
        ),
        (Function::ArrayRange, [first, last, step]) => array_range(function, first, last, step)?,
        (Function::ArrayGetItem, [array, index]) => array_get_item(function, array, index)?,
        (Function::ArrayLength, [array]) => {
            Value::from(function.array(array, "the argument")?.len())
        }
        (Function::ArrayUnique, [array]) => array_unique(function, array)?,
        (Function::Base64Encode, [text]) => {
            Value::String(BASE64.encode(function.short_text(text, "the data")?))
        }
        (Function::Base64Decode, [text]) => base64_decode(function, text)?,
        (Function::Hash, [data, algorithm]) => hash(function, data, algorithm)?,
        (Function::JsonMerge, [first, second, deep]) => json_merge(function, first, second, deep)?,
        (Function::MathRandom, [start, end, seed @ ..]) => math_random(function, start, end, seed)?,
        (Function::MathAdd, [a, b]) => math_add(function, a, b)?,
        (Function::StringSplit, [text, delimiters]) => string_split(function, text, delimiters)?,
        (Function::Uuid, []) => Value::String(uuid::Uuid::new_v4().to_string()),
        _ => {
            return Err(function.fail(format!("wrong number of arguments: {}", args.len())));
        }
    })
}

/// `States.Format`: fills the template's `{}` placeholders with the values, in order.
fn format(call: &Call, template: &Value, values: &[Value]) -> Result<Value, Failure> {
    let function = call.function;
    let template = function.string(template, "the template")?;
    let holes = match &call.args[0] {
        Arg::Text(_, holes) => holes.clone(),
        _ => template.match_indices("{}").map(|(i, _)| i).collect(),
    };
    if holes.len() != values.len() {
        let (holes, values) = (holes.len(), values.len());
        return Err(function.fail(format!(
            "the template has {holes} placeholder(s) but {values} value(s) were given"
        )));
    }
    let (mut out, mut from) = (String::new(), 0);
    for (hole, value) in holes.iter().zip(values) {
        out.push_str(&template[from..*hole]);
        format_value(value, &mut out);
        from = hole + 2;
    }
    out.push_str(&template[from..]);
    Ok(Value::String(out))
}

/// `States.ArrayPartition`: splits an array into chunks of a positive size.
fn array_partition(function: Function, array: &Value, size: &Value) -> Result<Value, Failure> {
    let (array, size) = (
        function.array(array, "the first argument")?,
        function.integer(size, "the chunk size", false)?,
    );
    if size <= 0 {
        return Err(function.fail(format!(
            "the chunk size must be a positive integer, got {size}"
        )));
    }
    Ok(Value::Array(
        array
            .chunks(size as usize)
            .map(|chunk| Value::Array(chunk.to_vec()))
            .collect(),
    ))
}

/// `States.ArrayRange`: the integers from `first` to `last` by `step`, at most
/// [`MAX_RANGE_ITEMS`] of them.
fn array_range(
    function: Function,
    first: &Value,
    last: &Value,
    step: &Value,
) -> Result<Value, Failure> {
    let first = function.integer(first, "the first element", true)?;
    let last = function.integer(last, "the last element", true)?;
    let step = function.integer(step, "the step", true)?;
    if step == 0 {
        return Err(function.fail("the step must not be 0"));
    }
    let (span, step_wide) = (i128::from(last) - i128::from(first), i128::from(step));
    let count = if span != 0 && span.signum() != step_wide.signum() {
        0
    } else {
        span / step_wide + 1
    };
    if count > MAX_RANGE_ITEMS {
        return Err(function.fail(format!(
            "the range would have {count} items; at most {MAX_RANGE_ITEMS} are allowed"
        )));
    }
    // Every item lies between `first` and `last`, so it fits an i64; computed in i128
    // so that `i * step` cannot overflow on the way.
    let items = (0..count)
        .map(|i| i64::try_from(i128::from(first) + i * step_wide).map(Value::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| function.fail("the range leaves the 64-bit integers"))?;
    Ok(Value::Array(items))
}

/// `States.ArrayGetItem`: the item at an index, which must be within the array.
fn array_get_item(function: Function, array: &Value, index: &Value) -> Result<Value, Failure> {
    let (array, index) = (
        function.array(array, "the first argument")?,
        function.integer(index, "the index", false)?,
    );
    let len = array.len();
    let item = usize::try_from(index).ok().and_then(|i| array.get(i));
    item.cloned().ok_or_else(|| {
        function.fail(format!(
            "the index {index} is out of bounds for an array of length {len}"
        ))
    })
}

/// `States.ArrayUnique`: the array without the items equal to an earlier one.
fn array_unique(function: Function, array: &Value) -> Result<Value, Failure> {
    let mut seen = HashSet::new();
    let unique = function
        .array(array, "the argument")?
        .iter()
        .filter(|item| seen.insert(canonical(item)));
    Ok(Value::Array(unique.cloned().collect()))
}

/// `States.Base64Decode`: decodes Base64 text that must decode to UTF-8 text.
fn base64_decode(function: Function, text: &Value) -> Result<Value, Failure> {
    let bytes = BASE64
        .decode(function.short_text(text, "the data")?)
        .map_err(|e| function.fail(format!("invalid Base64: {e}")))?;
    Ok(Value::String(String::from_utf8(bytes).map_err(|_| {
        function.fail("the decoded data is not UTF-8 text")
    })?))
}

/// `States.Hash`: the hex digest of the data with the named algorithm.
fn hash(function: Function, data: &Value, algorithm: &Value) -> Result<Value, Failure> {
    let data = function.short_text(data, "the data")?.as_bytes();
    let digest = match function.string(algorithm, "the algorithm")? {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        other => {
            return Err(function.fail(format!(
                "unknown algorithm '{other}' (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
            )));
        }
    };
    Ok(Value::String(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// `States.JsonMerge`: the shallow merge of two objects (deep merging is refused).
fn json_merge(
    function: Function,
    first: &Value,
    second: &Value,
    deep: &Value,
) -> Result<Value, Failure> {
    if deep != &Value::Bool(false) {
        let message = format!("only shallow merging is supported, the third argument is {deep}");
        return Err(function.fail(message));
    }
    let mut merged = function.object(first, "the first argument")?.clone();
    merged.extend(function.object(second, "the second argument")?.clone());
    Ok(Value::Object(merged))
}

/// `States.MathRandom`: a random integer from `start` to `end`, seeded if a seed is given.
fn math_random(
    function: Function,
    start: &Value,
    end: &Value,
    seed: &[Value],
) -> Result<Value, Failure> {
    let (start, end) = (
        function.integer(start, "the start", true)?,
        function.integer(end, "the end", true)?,
    );
    if start > end {
        return Err(function.fail(format!("the start {start} is greater than the end {end}")));
    }
    Ok(Value::from(match seed {
        [seed] => {
            rand::rngs::StdRng::seed_from_u64(function.integer(seed, "the seed", true)? as u64)
                .random_range(start..=end)
        }
        _ => rand::rng().random_range(start..=end),
    }))
}

/// `States.MathAdd`: the sum of two integers within the 32-bit range.
fn math_add(function: Function, a: &Value, b: &Value) -> Result<Value, Failure> {
    let (a, b) = (
        function.integer(a, "the first argument", true)?,
        function.integer(b, "the second argument", true)?,
    );
    if let Some(out) = [a, b].into_iter().find(|v| i32::try_from(*v).is_err()) {
        return Err(function.fail(format!(
            "{out} is outside the range -2147483648 to 2147483647"
        )));
    }
    Ok(Value::from(a + b))
}

/// `States.StringSplit`: the non-empty parts of a text split at any of the delimiters.
fn string_split(function: Function, text: &Value, delimiters: &Value) -> Result<Value, Failure> {
    let delimiters: HashSet<char> = function
        .string(delimiters, "the delimiters")?
        .chars()
        .collect();
    let parts = function
        .string(text, "the first argument")?
        .split(|c| delimiters.contains(&c));
    Ok(Value::Array(
        parts
            .filter(|part| !part.is_empty())
            .map(Value::from)
            .collect(),
    ))
}

/// How `States.Format` writes a value: strings bare, other scalars as JSON, arrays and objects
/// the way Step Functions prints them (`[a, b]`, `{k=v}`).
fn format_value(value: &Value, out: &mut String) {
    let mut list = |open: char, items: Vec<(Option<&String>, &Value)>, close: char| {
        out.push(open);
        for (i, (key, item)) in items.into_iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let Some(key) = key {
                out.push_str(key);
                out.push('=');
            }
            format_value(item, out);
        }
        out.push(close);
    };
    match value {
        Value::String(text) => out.push_str(text),
        Value::Array(items) => list('[', items.iter().map(|v| (None, v)).collect(), ']'),
        Value::Object(map) => list('{', map.iter().map(|(k, v)| (Some(k), v)).collect(), '}'),
        other => out.push_str(&other.to_string()),
    }
}

/// A text equal for values [`json_equal`] considers equal (object keys sorted, whole
/// numbers written as integers): the identity `States.ArrayUnique` removes duplicates by.
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(x) if n.as_i64().is_none() && x.fract() == 0.0 && x.abs() < 9e15 => {
                (x as i64).to_string()
            }
            _ => n.to_string(),
        },
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Value::Object(map) => {
            let mut entries: Vec<_> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::from(k.as_str()), canonical(v)))
                .collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}
