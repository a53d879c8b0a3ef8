//! Intrinsic functions for JSONPath states (`"key.$": "States.Format('{}', $.name)"`).
//!
//! Arguments are strings in single quotes (escapes `\'`, `\{`, `\}`, `\\`), numbers, `true`,
//! `false`, `null`, paths (`$.x`, `$$.x`, `$var`) and nested calls. Unknown names, wrong
//! argument counts and malformed text are rejected when parsing; bad argument values fail
//! with `States.IntrinsicFailure` when evaluated (a path that matches nothing fails with the
//! path's `States.Runtime` error).

use serde_json::{Map, Value};

use super::limits::{SHOWN_BYTES, shown};
use super::path::Path;
use super::{Failure, Scope, errors};
use eval::evaluate;

mod eval;

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

#[cfg(test)]
mod tests;
