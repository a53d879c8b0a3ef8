//! Intrinsic functions for JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
//!
//! Arguments are strings in single quotes (escapes `\'`, `\{`, `\}`, `\\`), numbers, `true`,
//! `false`, `null`, paths (`$.x`, `$$.x`, `$var`) and nested calls. Unknown names, wrong
//! argument counts and malformed text are rejected when parsing; bad argument values fail
//! with `States.IntrinsicFailure` when evaluated (a path that matches nothing fails with the
//! path's `States.Runtime` error).

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use sha2::Digest;

use super::limits::{SHOWN_BYTES, Unit, measure, shown};
use super::path::{Path, json_equal};
use super::{Failure, MAX_PAYLOAD_BYTES, Scope, errors};

/// How deeply intrinsic calls may nest within one field.
const MAX_NESTING: usize = 10;
/// The most items `States.ArrayRange` may produce.
const MAX_RANGE_ITEMS: i128 = 1000;
/// The longest input `States.Base64Encode`, `States.Base64Decode` and `States.Hash` accept.
const MAX_TEXT_CHARS: usize = 10_000;

/// Whether a string is an intrinsic function call rather than a path (starts with `States.`).
pub fn looks_like_intrinsic(text: &str) -> bool {
    text.starts_with("States.")
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Intrinsic {
    call: Call,
}

#[derive(Debug, Clone)]
struct Call {
    function: Function,
    args: Vec<Arg>,
}

#[derive(Debug, Clone)]
enum Arg {
    /// A quoted string and the byte offsets of its unescaped `{}` placeholders.
    Text(String, Vec<usize>),
    Literal(Value),
    Path(Path),
    Call(Call),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// Every function with its name and its least and greatest argument counts.
const FUNCTIONS: [(Function, &str, usize, usize); 18] = [
    (Function::Format, "States.Format", 1, usize::MAX),
    (Function::StringToJson, "States.StringToJson", 1, 1),
    (Function::JsonToString, "States.JsonToString", 1, 1),
    (Function::Array, "States.Array", 0, usize::MAX),
    (Function::ArrayPartition, "States.ArrayPartition", 2, 2),
    (Function::ArrayContains, "States.ArrayContains", 2, 2),
    (Function::ArrayRange, "States.ArrayRange", 3, 3),
    (Function::ArrayGetItem, "States.ArrayGetItem", 2, 2),
    (Function::ArrayLength, "States.ArrayLength", 1, 1),
    (Function::ArrayUnique, "States.ArrayUnique", 1, 1),
    (Function::Base64Encode, "States.Base64Encode", 1, 1),
    (Function::Base64Decode, "States.Base64Decode", 1, 1),
    (Function::Hash, "States.Hash", 2, 2),
    (Function::JsonMerge, "States.JsonMerge", 3, 3),
    (Function::MathRandom, "States.MathRandom", 2, 3),
    (Function::MathAdd, "States.MathAdd", 2, 2),
    (Function::StringSplit, "States.StringSplit", 2, 2),
    (Function::Uuid, "States.UUID", 0, 0),
];

impl Function {
    fn name(self) -> &'static str {
        FUNCTIONS
            .iter()
            .find(|(f, ..)| *f == self)
            .map_or("States.?", |(_, name, ..)| name)
    }

    fn fail(self, message: impl std::fmt::Display) -> Failure {
        Failure::new(
            errors::INTRINSIC_FAILURE,
            format!("{}: {message}", self.name()),
        )
    }

    fn string<'a>(self, value: &'a Value, what: &str) -> Result<&'a str, Failure> {
        value.as_str().ok_or_else(|| {
            self.fail(format!(
                "{what} must be a string, got {}",
                shown(value, SHOWN_BYTES)
            ))
        })
    }

    fn array<'a>(self, value: &'a Value, what: &str) -> Result<&'a Vec<Value>, Failure> {
        value.as_array().ok_or_else(|| {
            self.fail(format!(
                "{what} must be an array, got {}",
                shown(value, SHOWN_BYTES)
            ))
        })
    }

    fn object<'a>(self, value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, Failure> {
        value.as_object().ok_or_else(|| {
            self.fail(format!(
                "{what} must be a JSON object, got {}",
                shown(value, SHOWN_BYTES)
            ))
        })
    }

    /// An integer argument; with `round`, other numbers are rounded to the nearest integer
    /// (half up, as Step Functions does), otherwise they are refused.
    fn integer(self, value: &Value, what: &str, round: bool) -> Result<i64, Failure> {
        let number = value.as_f64().ok_or_else(|| {
            self.fail(format!(
                "{what} must be an integer, got {}",
                shown(value, SHOWN_BYTES)
            ))
        })?;
        match value.as_i64() {
            Some(i) => Ok(i),
            None if round => Ok((number + 0.5).floor() as i64),
            None if number.fract() == 0.0 && number.abs() < 9e15 => Ok(number as i64),
            None => Err(self.fail(format!(
                "{what} must be an integer, got {}",
                shown(value, SHOWN_BYTES)
            ))),
        }
    }

    fn short_text<'a>(self, value: &'a Value, what: &str) -> Result<&'a str, Failure> {
        let text = self.string(value, what)?;
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(self.fail(format!(
                "{what} must be at most {MAX_TEXT_CHARS} characters, got {chars}"
            )));
        }
        Ok(text)
    }
}

impl Intrinsic {
    /// Parses an intrinsic call such as `States.Format('{}', $.name)`.
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut parser = Parser { text, pos: 0 };
        let call = parser.call(1).and_then(|call| {
            parser.skip_ws();
            match parser.peek() {
                None => Ok(call),
                Some(c) => Err(parser.error(&format!("unexpected '{c}' after the call"))),
            }
        });
        call.map(|call| Intrinsic { call })
            .map_err(|e| format!("invalid intrinsic function '{text}': {e}"))
    }

    /// Evaluates the call against the scope its paths read.
    pub fn evaluate(&self, scope: &Scope) -> Result<Value, Failure> {
        evaluate(&self.call, scope)
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        &self.text[start..self.pos]
    }

    fn error(&self, message: &str) -> String {
        format!("{message} at position {}", self.pos)
    }

    fn call(&mut self, depth: usize) -> Result<Call, String> {
        let name = self
            .take_while(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            .to_string();
        let &(function, _, min, max) = FUNCTIONS
            .iter()
            .find(|(_, known, ..)| *known == name)
            .ok_or_else(|| format!("unknown intrinsic function '{name}'"))?;
        if depth > MAX_NESTING {
            return Err(format!(
                "intrinsic functions can be nested at most {MAX_NESTING} deep"
            ));
        }
        self.skip_ws();
        if !self.eat('(') {
            return Err(self.error(&format!("expected '(' after {name}")));
        }
        let mut args = Vec::new();
        self.skip_ws();
        if !self.eat(')') {
            loop {
                args.push(self.arg(depth)?);
                self.skip_ws();
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return Err(self.error("expected ',' or ')'"));
                }
                self.skip_ws();
            }
        }
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (min, max) if min == max => format!("{min}"),
                (min, usize::MAX) => format!("at least {min}"),
                (min, max) => format!("{min} to {max}"),
            };
            return Err(format!(
                "{name} takes {expected} argument(s), got {}",
                args.len()
            ));
        }
        match (function, args.as_slice()) {
            (Function::Format, [Arg::Literal(v), ..]) => {
                Err(format!("the template of {name} must be a string, got {v}"))
            }
            (Function::JsonToString, [arg]) if !matches!(arg, Arg::Path(_)) => {
                Err(format!("{name} takes a path"))
            }
            (Function::JsonMerge, [_, _, Arg::Literal(deep)]) if deep != &Value::Bool(false) => {
                Err(format!(
                    "{name} supports only shallow merging: its third argument must be false"
                ))
            }
            _ => Ok(Call { function, args }),
        }
    }

    fn arg(&mut self, depth: usize) -> Result<Arg, String> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some('S') => self.call(depth + 1).map(Arg::Call),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let word = self.take_while(|c| c.is_ascii_digit() || "+-.eE".contains(c));
                match serde_json::from_str::<Value>(word) {
                    Ok(number @ Value::Number(_)) => Ok(Arg::Literal(number)),
                    _ => Err(format!("invalid number '{word}'")),
                }
            }
            _ => {
                match self.take_while(|c| c.is_ascii_alphabetic()) {
                    "true" => Ok(Arg::Literal(Value::Bool(true))),
                    "false" => Ok(Arg::Literal(Value::Bool(false))),
                    "null" => Ok(Arg::Literal(Value::Null)),
                    _ => Err(self
                        .error("expected a string, a number, true, false, null, a path or a call")),
                }
            }
        }
    }

    fn string(&mut self) -> Result<Arg, String> {
        self.bump();
        let (mut text, mut holes) = (String::new(), Vec::new());
        loop {
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some('\'') => return Ok(Arg::Text(text, holes)),
                Some('\\') => match self.bump() {
                    Some(c @ ('\'' | '{' | '}' | '\\')) => text.push(c),
                    _ => {
                        return Err(
                            self.error("an escape backslash must be followed by ', {, } or \\")
                        );
                    }
                },
                Some('{') if self.eat('}') => {
                    holes.push(text.len());
                    text.push_str("{}");
                }
                Some(c @ ('{' | '}')) => {
                    return Err(
                        self.error(&format!("the reserved character '{c}' must be escaped"))
                    );
                }
                Some(c) => text.push(c),
            }
        }
    }

    /// A path argument: everything up to the `,` or `)` that ends it, outside brackets,
    /// parentheses and quotes.
    fn path(&mut self) -> Result<Arg, String> {
        let (start, mut depth, mut quote) = (self.pos, 0usize, None);
        while let Some(c) = self.peek() {
            match (quote, c) {
                (Some(_), '\\') => {
                    self.bump();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']' | ')') if depth > 0 => depth -= 1,
                (None, ',' | ')') => break,
                _ => {}
            }
            self.bump();
        }
        Path::parse(self.text[start..self.pos].trim_end()).map(Arg::Path)
    }
}

fn evaluate(call: &Call, scope: &Scope) -> Result<Value, Failure> {
    let f = call.function;
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
                        f.name()
                    ),
                ));
            }
        }
        args.push(value);
    }
    Ok(match (f, args.as_slice()) {
        (Function::Format, [template, values @ ..]) => {
            let template = f.string(template, "the template")?;
            let holes = match &call.args[0] {
                Arg::Text(_, holes) => holes.clone(),
                _ => template.match_indices("{}").map(|(i, _)| i).collect(),
            };
            if holes.len() != values.len() {
                let (holes, values) = (holes.len(), values.len());
                return Err(f.fail(format!(
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
            Value::String(out)
        }
        (Function::StringToJson, [text]) => {
            serde_json::from_str(f.string(text, "the argument")?)
                .map_err(|e| f.fail(format!("the argument is not valid JSON: {e}")))?
        }
        (Function::JsonToString, [value]) => Value::String(value.to_string()),
        (Function::Array, _) => Value::Array(args),
        (Function::ArrayPartition, [array, size]) => {
            let (array, size) = (
                f.array(array, "the first argument")?,
                f.integer(size, "the chunk size", false)?,
            );
            if size <= 0 {
                return Err(f.fail(format!(
                    "the chunk size must be a positive integer, got {size}"
                )));
            }
            Value::Array(
                array
                    .chunks(size as usize)
                    .map(|chunk| Value::Array(chunk.to_vec()))
                    .collect(),
            )
        }
        (Function::ArrayContains, [array, value]) => Value::Bool(
            f.array(array, "the first argument")?
                .iter()
                .any(|item| json_equal(item, value)),
        ),
        (Function::ArrayRange, [first, last, step]) => {
            let first = f.integer(first, "the first element", true)?;
            let last = f.integer(last, "the last element", true)?;
            let step = f.integer(step, "the step", true)?;
            if step == 0 {
                return Err(f.fail("the step must not be 0"));
            }
            let (span, step_wide) = (i128::from(last) - i128::from(first), i128::from(step));
            let count = if span != 0 && span.signum() != step_wide.signum() {
                0
            } else {
                span / step_wide + 1
            };
            if count > MAX_RANGE_ITEMS {
                return Err(f.fail(format!(
                    "the range would have {count} items; at most {MAX_RANGE_ITEMS} are allowed"
                )));
            }
            // Every item lies between `first` and `last`, so it fits an i64; computed in i128
            // so that `i * step` cannot overflow on the way.
            let items = (0..count)
                .map(|i| i64::try_from(i128::from(first) + i * step_wide).map(Value::from))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| f.fail("the range leaves the 64-bit integers"))?;
            Value::Array(items)
        }
        (Function::ArrayGetItem, [array, index]) => {
            let (array, index) = (
                f.array(array, "the first argument")?,
                f.integer(index, "the index", false)?,
            );
            let len = array.len();
            let item = usize::try_from(index).ok().and_then(|i| array.get(i));
            item.cloned().ok_or_else(|| {
                f.fail(format!(
                    "the index {index} is out of bounds for an array of length {len}"
                ))
            })?
        }
        (Function::ArrayLength, [array]) => Value::from(f.array(array, "the argument")?.len()),
        (Function::ArrayUnique, [array]) => {
            let mut seen = HashSet::new();
            let unique = f
                .array(array, "the argument")?
                .iter()
                .filter(|item| seen.insert(canonical(item)));
            Value::Array(unique.cloned().collect())
        }
        (Function::Base64Encode, [text]) => {
            Value::String(BASE64.encode(f.short_text(text, "the data")?))
        }
        (Function::Base64Decode, [text]) => {
            let bytes = BASE64
                .decode(f.short_text(text, "the data")?)
                .map_err(|e| f.fail(format!("invalid Base64: {e}")))?;
            Value::String(
                String::from_utf8(bytes)
                    .map_err(|_| f.fail("the decoded data is not UTF-8 text"))?,
            )
        }
        (Function::Hash, [data, algorithm]) => {
            let data = f.short_text(data, "the data")?.as_bytes();
            let digest = match f.string(algorithm, "the algorithm")? {
                "MD5" => md5::Md5::digest(data).to_vec(),
                "SHA-1" => sha1::Sha1::digest(data).to_vec(),
                "SHA-256" => sha2::Sha256::digest(data).to_vec(),
                "SHA-384" => sha2::Sha384::digest(data).to_vec(),
                "SHA-512" => sha2::Sha512::digest(data).to_vec(),
                other => {
                    return Err(f.fail(format!(
                        "unknown algorithm '{other}' (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)"
                    )));
                }
            };
            Value::String(digest.iter().map(|b| format!("{b:02x}")).collect())
        }
        (Function::JsonMerge, [first, second, deep]) => {
            if deep != &Value::Bool(false) {
                let message =
                    format!("only shallow merging is supported, the third argument is {deep}");
                return Err(f.fail(message));
            }
            let mut merged = f.object(first, "the first argument")?.clone();
            merged.extend(f.object(second, "the second argument")?.clone());
            Value::Object(merged)
        }
        (Function::MathRandom, [start, end, seed @ ..]) => {
            let (start, end) = (
                f.integer(start, "the start", true)?,
                f.integer(end, "the end", true)?,
            );
            if start > end {
                return Err(f.fail(format!("the start {start} is greater than the end {end}")));
            }
            Value::from(match seed {
                [seed] => {
                    rand::rngs::StdRng::seed_from_u64(f.integer(seed, "the seed", true)? as u64)
                        .random_range(start..=end)
                }
                _ => rand::rng().random_range(start..=end),
            })
        }
        (Function::MathAdd, [a, b]) => {
            let (a, b) = (
                f.integer(a, "the first argument", true)?,
                f.integer(b, "the second argument", true)?,
            );
            if let Some(out) = [a, b].into_iter().find(|v| i32::try_from(*v).is_err()) {
                return Err(f.fail(format!(
                    "{out} is outside the range -2147483648 to 2147483647"
                )));
            }
            Value::from(a + b)
        }
        (Function::StringSplit, [text, delimiters]) => {
            let delimiters: HashSet<char> =
                f.string(delimiters, "the delimiters")?.chars().collect();
            let parts = f
                .string(text, "the first argument")?
                .split(|c| delimiters.contains(&c));
            Value::Array(
                parts
                    .filter(|part| !part.is_empty())
                    .map(Value::from)
                    .collect(),
            )
        }
        (Function::Uuid, []) => Value::String(uuid::Uuid::new_v4().to_string()),
        _ => return Err(f.fail(format!("wrong number of arguments: {}", args.len()))),
    })
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

#[cfg(test)]
mod tests;
