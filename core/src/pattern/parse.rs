//! Validation and compilation of a pattern's JSON into [`Node`] alternatives.
//!
//! `$or` is expanded at compile time, as EventBridge does: each combination of branches becomes
//! one alternative, the branch's fields merged into the enclosing object, so that fields from a
//! branch and from outside it are matched against the same array element. A path constrained
//! both inside and outside a `$or` is rejected (EventBridge's rule compiler either rejects it or
//! silently keeps only one of the two conditions).

use serde_json::{Map, Value};

use super::cidr::{IpRange, parse_ip};
use super::matcher::{AnythingBut, Field, Leaf, Matcher, NUMERIC_LIMIT, Node, Num, Range};
use super::text::{CaseFold, Wildcard};
use crate::asl::limits::{Exceeded, Unit, measure};
use crate::{Error, ErrorKind, Result};

/// EventBridge's limit on the alternatives `$or` may expand a pattern to.
const MAX_ALTERNATIVES: usize = 1000;

/// How deep a pattern may nest objects (a guard for the recursive compiler and matcher).
const MAX_DEPTH: usize = 64;

/// The longest pattern, in characters of its compact JSON text: EventBridge's "Event pattern
/// size" quota, "Maximum event pattern size, in characters", 2,048 by default (Amazon EventBridge
/// user guide, "Amazon EventBridge quotas"; adjustable on AWS, so the default is the reading
/// that holds on every account).
pub const MAX_PATTERN_CHARS: usize = 2048;

/// The deepest nesting of objects and arrays in a pattern's JSON (`serde_json`'s own limit for
/// JSON text), checked without recursion before anything recursive looks at the pattern.
const MAX_JSON_DEPTH: usize = 128;

/// Operator names that cannot be field names inside `$or` (EventBridge's reserved names).
const RESERVED_IN_OR: &[&str] = &[
    "anything-but",
    "prefix",
    "suffix",
    "equals-ignore-case",
    "numeric",
    "exists",
    "cidr",
    "wildcard",
    "=",
    "<",
    "<=",
    ">",
    ">=",
];

const OPERATORS: &str =
    "prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr";

/// The error for an invalid pattern at `path` (field names joined by '.', `$or[i]` for branches).
pub(crate) fn invalid(path: &str, message: impl std::fmt::Display) -> Error {
    let (key, text) = if path.is_empty() {
        ("$", format!("invalid event pattern: {message}"))
    } else {
        (path, format!("invalid event pattern at {path}: {message}"))
    };
    Error::new(ErrorKind::InvalidInput, text)
        .with_context("operation", "event_pattern")
        .with_context("key", key)
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Short JSON rendering of a value for messages.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// Validates `pattern` and compiles it to its alternatives (at least one).
pub(crate) fn compile(pattern: &Value) -> Result<Vec<Node>> {
    let Value::Object(map) = pattern else {
        return Err(invalid(
            "",
            format!(
                "the pattern must be a JSON object like {{\"source\": [\"my.app\"]}}, got {}",
                show(pattern)
            ),
        ));
    };
    match measure(pattern, MAX_PATTERN_CHARS, MAX_JSON_DEPTH, Unit::Chars) {
        Ok(_) => {}
        Err(Exceeded::Size) => {
            return Err(invalid(
                "",
                format!(
                    "the pattern is longer than {MAX_PATTERN_CHARS} characters as compact JSON (EventBridge's event pattern size quota); split it into several patterns or subscriptions"
                ),
            ));
        }
        Err(Exceeded::Depth) => {
            return Err(invalid(
                "",
                format!(
                    "the pattern nests objects and arrays deeper than {MAX_JSON_DEPTH} levels; flatten it (nested fields are at most {MAX_DEPTH} objects deep)"
                ),
            ));
        }
    }
    let mut compiler = Compiler {
        tree_path: Vec::new(),
    };
    let mut alternatives = compiler.object(vec![Node::default()], map, "", false, 0)?;
    for node in &mut alternatives {
        order_fields(node);
    }
    Ok(alternatives)
}

/// Puts cheap leaf-only fields first so that matching fails early.
fn order_fields(node: &mut Node) {
    node.fields.sort_by_key(|f| match (&f.leaf, &f.object) {
        (Some(leaf), None) if !leaf.exists_false && !leaf.exists_true => 0,
        (Some(_), None) => 1,
        _ => 2,
    });
    for field in &mut node.fields {
        if let Some(object) = &mut field.object {
            order_fields(object);
        }
    }
}

struct Compiler {
    /// Keys from the pattern root to the object being compiled (without `$or` steps).
    tree_path: Vec<Box<str>>,
}

impl Compiler {
    /// Applies the fields of pattern object `map` (at error path `path`) to every alternative.
    fn object(
        &mut self,
        mut alts: Vec<Node>,
        map: &Map<String, Value>,
        path: &str,
        in_or: bool,
        depth: usize,
    ) -> Result<Vec<Node>> {
        if depth > MAX_DEPTH {
            return Err(invalid(
                path,
                format!("the pattern nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        if map.is_empty() {
            return Err(invalid(
                path,
                "empty objects are not allowed: give at least one field, like {\"state\": [\"running\"]}",
            ));
        }
        for (key, value) in map {
            if key == "$or" {
                alts = self.or(alts, value, path, depth)?;
                continue;
            }
            let field_path = child(path, key);
            if in_or && RESERVED_IN_OR.contains(&key.as_str()) {
                return Err(invalid(
                    &field_path,
                    format!(
                        "{key:?} is an operator name and cannot be a field name inside $or; put operators in a value list: \"field\": [{{{key:?}: ...}}]"
                    ),
                ));
            }
            match value {
                Value::Array(items) => {
                    let leaf = parse_leaf(items, &field_path)?;
                    for alt in &mut alts {
                        self.insert_leaf(alt, key, leaf.clone(), &field_path)?;
                    }
                }
                Value::Object(sub) => {
                    self.tree_path.push(key.as_str().into());
                    let result = self.object(alts, sub, &field_path, in_or, depth + 1);
                    self.tree_path.pop();
                    alts = result?;
                }
                other => {
                    return Err(invalid(
                        &field_path,
                        format!(
                            "a field's condition must be an array of allowed values like [{}] or a nested object, got {}",
                            show(other),
                            show(other)
                        ),
                    ));
                }
            }
        }
        Ok(alts)
    }

    /// Expands `"$or": [branch, ...]` found in the object at `path`.
    fn or(
        &mut self,
        alts: Vec<Node>,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<Vec<Node>> {
        let or_path = child(path, "$or");
        let Value::Array(branches) = value else {
            return Err(invalid(
                &or_path,
                format!(
                    "\"$or\" must be an array of at least 2 pattern objects, like [{{\"a\": [1]}}, {{\"b\": [2]}}], got {}",
                    show(value)
                ),
            ));
        };
        if branches.len() < 2 {
            return Err(invalid(
                &or_path,
                format!(
                    "\"$or\" needs at least 2 pattern objects, got {}",
                    branches.len()
                ),
            ));
        }
        let mut expanded = Vec::new();
        for (i, branch) in branches.iter().enumerate() {
            let branch_path = format!("{or_path}[{i}]");
            let Value::Object(map) = branch else {
                return Err(invalid(
                    &branch_path,
                    format!(
                        "each \"$or\" entry must be a pattern object like {{\"source\": [\"x\"]}}, got {}",
                        show(branch)
                    ),
                ));
            };
            expanded.extend(self.object(alts.clone(), map, &branch_path, true, depth + 1)?);
            if expanded.len() > MAX_ALTERNATIVES {
                return Err(invalid(
                    &or_path,
                    format!(
                        "the $or combinations expand to more than {MAX_ALTERNATIVES} alternatives; simplify the pattern"
                    ),
                ));
            }
        }
        Ok(expanded)
    }

    /// Sets the leaf condition of field `key` under the current tree path in `alt`.
    fn insert_leaf(&self, alt: &mut Node, key: &str, leaf: Leaf, path: &str) -> Result<()> {
        let mut node = alt;
        for step in &self.tree_path {
            node = field_mut(node, step)
                .object
                .get_or_insert_with(Node::default);
        }
        let field = field_mut(node, key);
        if field.leaf.is_some() {
            return Err(invalid(
                path,
                "this field is constrained more than once (inside and outside \"$or\", or in two \"$or\" entries that combine); put all its allowed values in one list",
            ));
        }
        field.leaf = Some(leaf);
        Ok(())
    }
}

fn field_mut<'a>(node: &'a mut Node, key: &str) -> &'a mut Field {
    let at = match node.fields.iter().position(|f| &*f.key == key) {
        Some(at) => at,
        None => {
            node.fields.push(Field {
                key: key.into(),
                leaf: None,
                object: None,
            });
            node.fields.len() - 1
        }
    };
    &mut node.fields[at]
}

/// Parses a field's list of allowed values.
fn parse_leaf(items: &[Value], path: &str) -> Result<Leaf> {
    if items.is_empty() {
        return Err(invalid(
            path,
            "empty arrays are not allowed: list at least one allowed value, like [\"running\"] or [{\"exists\": true}]",
        ));
    }
    let mut leaf = Leaf::default();
    for item in items {
        match item {
            Value::String(s) => leaf.values.push(Matcher::String {
                value: s.as_str().into(),
                ip: parse_ip(s),
            }),
            Value::Number(n) => leaf.values.push(Matcher::Number(Num::of(n))),
            Value::Bool(b) => leaf.values.push(Matcher::Bool(*b)),
            Value::Null => leaf.values.push(Matcher::Null),
            Value::Array(_) => {
                return Err(invalid(
                    path,
                    format!(
                        "values must be strings, numbers, true, false, null or operator objects, not arrays ({}); list the values directly",
                        show(item)
                    ),
                ));
            }
            Value::Object(map) => match parse_operator(map, path)? {
                Operator::Exists(true) => leaf.exists_true = true,
                Operator::Exists(false) => leaf.exists_false = true,
                Operator::Match(m) => leaf.values.push(m),
            },
        }
    }
    Ok(leaf)
}

enum Operator {
    Exists(bool),
    Match(Matcher),
}

/// Parses one operator object such as `{"prefix": "x"}`.
fn parse_operator(map: &Map<String, Value>, path: &str) -> Result<Operator> {
    let mut entries = map.iter();
    let (Some((name, operand)), None) = (entries.next(), entries.next()) else {
        return Err(invalid(
            path,
            if map.is_empty() {
                format!("an operator object needs exactly one operator ({OPERATORS}), got {{}}")
            } else {
                format!(
                    "only one key allowed in match expression: write one operator per object, like [{{\"prefix\": \"a\"}}, {{\"suffix\": \"b\"}}], got {}",
                    show(&Value::Object(map.clone()))
                )
            },
        ));
    };
    let wrong = |expected: &str| {
        invalid(
            path,
            format!("{name:?} expects {expected}, got {}", show(operand)),
        )
    };
    let matcher = match (name.as_str(), operand) {
        ("prefix", Value::String(s)) => Matcher::Prefix(s.as_str().into()),
        ("suffix", Value::String(s)) => Matcher::Suffix(s.as_str().into()),
        ("prefix" | "suffix", Value::Object(inner)) => {
            let text = ignore_case_operand(inner).ok_or_else(|| {
                wrong("a string, or {\"equals-ignore-case\": \"text\"} to ignore case")
            })?;
            if name == "prefix" {
                Matcher::PrefixIgnoreCase(CaseFold::new(text))
            } else {
                Matcher::SuffixIgnoreCase(CaseFold::new(text))
            }
        }
        ("prefix" | "suffix", _) => {
            return Err(wrong(
                "a string, or {\"equals-ignore-case\": \"text\"} to ignore case",
            ));
        }
        ("equals-ignore-case", Value::String(s)) => Matcher::EqualsIgnoreCase(CaseFold::new(s)),
        ("equals-ignore-case", _) => return Err(wrong("a string")),
        ("wildcard", Value::String(s)) => {
            Matcher::Wildcard(Wildcard::parse(s).map_err(|e| invalid(path, e))?)
        }
        ("wildcard", _) => return Err(wrong("a string like \"*.png\"")),
        ("exists", Value::Bool(b)) => return Ok(Operator::Exists(*b)),
        ("exists", _) => return Err(wrong("true or false")),
        ("cidr", Value::String(s)) => {
            Matcher::Cidr(IpRange::parse(s).map_err(|e| invalid(path, e))?)
        }
        ("cidr", _) => return Err(wrong("a string like \"10.0.0.0/24\" or \"2001:db8::/64\"")),
        ("numeric", _) => Matcher::Numeric(parse_numeric(operand, path)?),
        ("anything-but", _) => Matcher::AnythingBut(Box::new(parse_anything_but(operand, path)?)),
        _ => {
            return Err(invalid(
                path,
                format!("unrecognized match type {name:?}: the operators are {OPERATORS}"),
            ));
        }
    };
    Ok(Operator::Match(matcher))
}

/// The text of `{"equals-ignore-case": "text"}`.
fn ignore_case_operand(inner: &Map<String, Value>) -> Option<&str> {
    match inner.get("equals-ignore-case") {
        Some(Value::String(s)) if inner.len() == 1 => Some(s),
        _ => None,
    }
}

const NUMERIC_SHAPE: &str = "\"numeric\" expects an array like [\">\", 0, \"<=\", 5]: one comparison (=, <, <=, >, >=) and a number, or a lower bound (>, >=) and an upper bound (<, <=)";

/// A number operand of `numeric` or `anything-but`, inside EventBridge's range.
fn bounded_number(value: &Value, path: &str, what: &str) -> Result<f64> {
    let Value::Number(n) = value else {
        return Err(invalid(
            path,
            format!("{what} must be a number, got {}", show(value)),
        ));
    };
    match n.as_f64() {
        Some(x) if (-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&x) => Ok(x),
        _ => Err(invalid(
            path,
            format!(
                "{what} {n} is out of range: numbers must be between -5.0e9 and 5.0e9 inclusive"
            ),
        )),
    }
}

fn parse_numeric(operand: &Value, path: &str) -> Result<Range> {
    let Value::Array(terms) = operand else {
        return Err(invalid(
            path,
            format!("{NUMERIC_SHAPE}, got {}", show(operand)),
        ));
    };
    let operator = |i: usize| -> Result<&str> {
        match terms.get(i) {
            Some(Value::String(op)) if matches!(op.as_str(), "=" | "<" | "<=" | ">" | ">=") => {
                Ok(op)
            }
            Some(other) => Err(invalid(
                path,
                format!(
                    "{NUMERIC_SHAPE}; {} is not a comparison operator",
                    show(other)
                ),
            )),
            None => Err(invalid(
                path,
                format!("{NUMERIC_SHAPE}, got {}", show(operand)),
            )),
        }
    };
    let number = |i: usize, op: &str| -> Result<f64> {
        match terms.get(i) {
            Some(v) => bounded_number(v, path, &format!("the value after {op:?} in \"numeric\"")),
            None => Err(invalid(
                path,
                format!("{NUMERIC_SHAPE}; {op:?} needs a number after it"),
            )),
        }
    };
    let first = operator(0)?;
    let x = number(1, first)?;
    let mut range = Range {
        lo: f64::NEG_INFINITY,
        lo_inclusive: true,
        hi: f64::INFINITY,
        hi_inclusive: true,
    };
    match first {
        "=" => (range.lo, range.hi) = (x, x),
        "<" | "<=" => (range.hi, range.hi_inclusive) = (x, first == "<="),
        _ => (range.lo, range.lo_inclusive) = (x, first == ">="),
    }
    if terms.len() == 2 {
        return Ok(range);
    }
    if !matches!(first, ">" | ">=") || terms.len() > 4 {
        return Err(invalid(
            path,
            format!("{NUMERIC_SHAPE}; too many elements in {}", show(operand)),
        ));
    }
    let second = operator(2)?;
    if !matches!(second, "<" | "<=") {
        return Err(invalid(
            path,
            format!(
                "{NUMERIC_SHAPE}; after a lower bound comes an upper bound (< or <=), not {second:?}"
            ),
        ));
    }
    let y = number(3, second)?;
    if x >= y {
        return Err(invalid(
            path,
            format!("the lower bound {x} must be less than the upper bound {y} in \"numeric\""),
        ));
    }
    (range.hi, range.hi_inclusive) = (y, second == "<=");
    Ok(range)
}

const ANYTHING_BUT_SHAPE: &str = "\"anything-but\" expects a string, a number, a non-empty list of only strings or only numbers, or an object with one of prefix, suffix, equals-ignore-case, wildcard";

fn parse_anything_but(operand: &Value, path: &str) -> Result<AnythingBut> {
    match operand {
        Value::String(s) => Ok(AnythingBut::Strings(vec![s.as_str().into()])),
        Value::Number(_) => Ok(AnythingBut::Numbers(vec![anything_but_number(
            operand, path,
        )?])),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => {
            let mut set: Vec<Box<str>> = items
                .iter()
                .filter_map(Value::as_str)
                .map(Into::into)
                .collect();
            set.sort();
            set.dedup();
            Ok(AnythingBut::Strings(set))
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => {
            let nums = items
                .iter()
                .map(|v| anything_but_number(v, path))
                .collect::<Result<_>>()?;
            Ok(AnythingBut::Numbers(nums))
        }
        Value::Object(inner) if inner.len() == 1 => {
            let Some((name, value)) = inner.iter().next() else {
                return Err(invalid(path, ANYTHING_BUT_SHAPE));
            };
            if !matches!(
                name.as_str(),
                "prefix" | "suffix" | "equals-ignore-case" | "wildcard"
            ) {
                return Err(invalid(
                    path,
                    format!(
                        "unsupported anything-but pattern {name:?}: use prefix, suffix, equals-ignore-case or wildcard"
                    ),
                ));
            }
            let texts = string_list(value).ok_or_else(|| {
                invalid(
                    path,
                    format!("\"anything-but\" {name:?} expects a string or a non-empty list of strings, got {}", show(value)),
                )
            })?;
            match name.as_str() {
                "prefix" | "suffix" => {
                    if texts.iter().any(|t| t.is_empty()) {
                        return Err(invalid(
                            path,
                            format!(
                                "\"anything-but\" {name:?} must not be empty (it would exclude every string)"
                            ),
                        ));
                    }
                    let texts = texts.into_iter().map(Into::into).collect();
                    Ok(if name == "prefix" {
                        AnythingBut::Prefixes(texts)
                    } else {
                        AnythingBut::Suffixes(texts)
                    })
                }
                "equals-ignore-case" => Ok(AnythingBut::IgnoreCase(
                    texts.into_iter().map(CaseFold::new).collect(),
                )),
                _ => Ok(AnythingBut::Wildcards(
                    texts
                        .into_iter()
                        .map(|t| Wildcard::parse(t).map_err(|e| invalid(path, e)))
                        .collect::<Result<_>>()?,
                )),
            }
        }
        _ => Err(invalid(
            path,
            format!("{ANYTHING_BUT_SHAPE}, got {}", show(operand)),
        )),
    }
}

fn anything_but_number(value: &Value, path: &str) -> Result<Num> {
    bounded_number(value, path, "an \"anything-but\" number")?;
    match value {
        Value::Number(n) => Ok(Num::of(n)),
        _ => Err(invalid(path, ANYTHING_BUT_SHAPE)),
    }
}

/// A string or a non-empty list of strings.
fn string_list(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn or_expands_into_alternatives() {
        let alts = compile(&json!({
            "source": ["a"],
            "$or": [{"x": [1]}, {"y": [2], "$or": [{"z": [3]}, {"w": [4]}]}]
        }))
        .unwrap();
        assert_eq!(alts.len(), 3);
        let keys: Vec<Vec<&str>> = alts
            .iter()
            .map(|n| n.fields.iter().map(|f| &*f.key).collect())
            .collect();
        assert_eq!(
            keys,
            vec![
                vec!["source", "x"],
                vec!["source", "y", "z"],
                vec!["source", "y", "w"]
            ]
        );
    }

    #[test]
    fn nested_or_merges_into_the_enclosing_object() {
        let alts = compile(&json!({"detail": {"a": [1], "$or": [{"b": [2]}, {"c": {"d": [3]}}]}}))
            .unwrap();
        assert_eq!(alts.len(), 2);
        for alt in &alts {
            assert_eq!(alt.fields.len(), 1);
            assert_eq!(
                alt.fields[0].object.as_ref().map(|n| n.fields.len()),
                Some(2)
            );
        }
    }

    #[test]
    fn error_paths() {
        let err = compile(&json!({"detail": {"amount": [{"numeric": ["x", 1]}]}})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert_eq!(err.context_value("key"), Some("detail.amount"));
        assert!(
            err.message
                .contains("invalid event pattern at detail.amount"),
            "{}",
            err.message
        );
        let err = compile(&json!({"$or": [{"a": [1]}, {"b": "x"}]})).unwrap_err();
        assert_eq!(err.context_value("key"), Some("$or[1].b"));
        let err = compile(&json!([1])).unwrap_err();
        assert_eq!(err.context_value("key"), Some("$"));
    }

    #[test]
    fn too_many_alternatives() {
        let branches: Vec<Value> = (0..11).map(|i| json!({ format!("f{i}"): [i] })).collect();
        let pattern =
            json!({"a": {"$or": branches}, "b": {"$or": branches}, "c": {"$or": branches}});
        let err = compile(&pattern).unwrap_err();
        assert!(err.message.contains("more than 1000"), "{}", err.message);
    }
}
