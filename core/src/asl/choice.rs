//! Choice Rules of JSONPath Choice states: `And`, `Or`, `Not` and the data-test operators
//! (`StringEquals`, `NumericGreaterThanPath`, `IsPresent`, `StringMatches`, ...).
//!
//! As in Step Functions, a `Variable` (or `...Path` operand) that matches nothing fails the
//! rule with `States.Runtime`, except under `IsPresent`, which tests exactly that; values of
//! the wrong type simply compare false.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::limits::{MAX_CHOICE_DEPTH, SHOWN_BYTES, shown};
use super::path::Path;
use super::{Failure, Scope};

/// A parsed Choice Rule (its `Next`, if any, is returned by [`ChoiceRule::parse_top_level`]).
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    rule: Rule,
}

#[derive(Debug, Clone)]
enum Rule {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    /// A data-test expression: the `Variable` and the test of its value.
    Test(Path, Test),
}

#[derive(Debug, Clone)]
enum Test {
    /// `IsPresent`: the expected answer.
    Present(bool),
    /// `IsNull`, `IsNumeric`, ...: the type test and the expected answer.
    Is(TypeTest, bool),
    /// `StringMatches`: the pattern, `None` standing for `*`.
    Matches(Vec<Option<char>>),
    /// `StringEquals`, `NumericLessThanPath`, ...: the type, the orders that pass, the operand.
    Compare(ValueType, Accepts, Operand),
}

/// An `Is*` operator's test of a value's type.
type TypeTest = fn(&Value) -> bool;
/// The orders a comparison operator accepts (`Ordering::is_le` for `...LessThanEquals`).
type Accepts = fn(Ordering) -> bool;

/// The type a comparison operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueType {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone)]
enum Operand {
    Value(Value),
    Path(Path),
}

/// What an operator field means.
enum Operator {
    And,
    Or,
    Not,
    Present,
    Is(TypeTest),
    Matches,
    /// The type, the orders that pass and whether the operand is a path.
    Compare(ValueType, Accepts, bool),
}

const TYPE_TESTS: [(&str, TypeTest); 5] = [
    ("IsNull", Value::is_null),
    ("IsNumeric", Value::is_number),
    ("IsString", Value::is_string),
    ("IsBoolean", Value::is_boolean),
    ("IsTimestamp", is_timestamp),
];
const TYPES: [(&str, ValueType); 4] = [
    ("String", ValueType::String),
    ("Numeric", ValueType::Numeric),
    ("Boolean", ValueType::Boolean),
    ("Timestamp", ValueType::Timestamp),
];
const ORDERS: [(&str, Accepts); 5] = [
    ("Equals", Ordering::is_eq),
    ("LessThan", Ordering::is_lt),
    ("GreaterThan", Ordering::is_gt),
    ("LessThanEquals", Ordering::is_le),
    ("GreaterThanEquals", Ordering::is_ge),
];

/// The operator a field name stands for; `None` when it is not one.
fn operator(name: &str) -> Option<Operator> {
    match name {
        "And" => return Some(Operator::And),
        "Or" => return Some(Operator::Or),
        "Not" => return Some(Operator::Not),
        "IsPresent" => return Some(Operator::Present),
        "StringMatches" => return Some(Operator::Matches),
        _ => {}
    }
    if let Some((_, test)) = TYPE_TESTS.iter().find(|(n, _)| *n == name) {
        return Some(Operator::Is(*test));
    }
    let (type_name, value_type) = TYPES.iter().find(|(n, _)| name.starts_with(n))?;
    let rest = &name[type_name.len()..];
    let (rest, is_path) = rest
        .strip_suffix("Path")
        .map_or((rest, false), |rest| (rest, true));
    let (order_name, accepts) = ORDERS.iter().find(|(n, _)| *n == rest)?;
    let allowed = *value_type != ValueType::Boolean || *order_name == "Equals";
    allowed.then_some(Operator::Compare(*value_type, *accepts, is_path))
}

impl ChoiceRule {
    /// Parses a nested Choice Rule (inside `And`, `Or` or `Not`), which must not have `Next`.
    /// `at` locates the rule in error messages (`States.IsSafe.Choices[0]`).
    pub fn parse(value: &Value, at: &str) -> Result<ChoiceRule, String> {
        parse(value, at, false, 1).map(|(rule, _)| rule)
    }

    /// Parses an element of a Choice state's `Choices`: the rule and its required `Next`. It
    /// may also carry `Assign` and `Comment`, which are left to the caller.
    pub fn parse_top_level(value: &Value, at: &str) -> Result<(ChoiceRule, String), String> {
        match parse(value, at, true, 1)? {
            (rule, Some(next)) => Ok((rule, next)),
            (_, None) => Err(format!(
                "{at}: a top-level Choice Rule needs a 'Next' state name"
            )),
        }
    }

    /// Evaluates the rule against the state's effective input (and the context and variables
    /// its paths may name).
    pub fn evaluate(&self, scope: &Scope) -> Result<bool, Failure> {
        let (variable, test) = match &self.rule {
            Rule::And(rules) => return all(rules, scope, true),
            Rule::Or(rules) => return all(rules, scope, false).map(|none| !none),
            Rule::Not(rule) => return Ok(!rule.evaluate(scope)?),
            Rule::Test(variable, test) => (variable, test),
        };
        let value = variable.select_optional(scope)?;
        if let Test::Present(expected) = test {
            return Ok(value.is_some() == *expected);
        }
        let value = value.ok_or_else(|| invalid_path(variable))?;
        Ok(match test {
            Test::Present(_) => true,
            Test::Is(test, expected) => test(&value) == *expected,
            Test::Matches(pattern) => value.as_str().is_some_and(|text| matches(pattern, text)),
            Test::Compare(value_type, accepts, Operand::Value(other)) => {
                compare(*value_type, &value, other).is_some_and(accepts)
            }
            Test::Compare(value_type, accepts, Operand::Path(path)) => {
                let other = path
                    .select_optional(scope)?
                    .ok_or_else(|| invalid_path(path))?;
                compare(*value_type, &value, &other).is_some_and(accepts)
            }
        })
    }
}

/// Whether every rule evaluates to `expected`, stopping at the first that does not.
fn all(rules: &[ChoiceRule], scope: &Scope, expected: bool) -> Result<bool, Failure> {
    for rule in rules {
        if rule.evaluate(scope)? != expected {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Parses a rule nested `depth` levels deep in `And`, `Or` and `Not` (1 at the top).
fn parse(
    value: &Value,
    at: &str,
    top_level: bool,
    depth: usize,
) -> Result<(ChoiceRule, Option<String>), String> {
    if depth > MAX_CHOICE_DEPTH {
        return Err(format!(
            "{at}: Choice Rules nest And, Or and Not deeper than {MAX_CHOICE_DEPTH} levels; flatten the rule"
        ));
    }
    let map = value
        .as_object()
        .ok_or_else(|| format!("{at}: a Choice Rule must be an object"))?;
    let fields = rule_fields(map, at, top_level)?;
    let next = rule_next(fields.next, at)?;
    let (name, op, operand) = fields
        .operator
        .ok_or_else(|| format!("{at}: a Choice Rule needs an operator"))?;
    let here = format!("{at}.{name}");
    let wrong = |expected: &str| wrong_operand(&here, operand, expected);
    let boolean = || operand.as_bool().ok_or_else(|| wrong("true or false"));
    let string = || operand.as_str().ok_or_else(|| wrong("a string"));
    let test = match op {
        Operator::And | Operator::Or | Operator::Not if fields.variable.is_some() => {
            return Err(format!("{at}: 'Variable' is not allowed with {name}"));
        }
        Operator::And | Operator::Or => {
            let rule = parse_and_or(&op, operand, &here, depth)?;
            return Ok((ChoiceRule { rule }, next));
        }
        Operator::Not => {
            let (rule, _) = parse(operand, &here, false, depth + 1)?;
            let rule = Rule::Not(Box::new(rule));
            return Ok((ChoiceRule { rule }, next));
        }
        Operator::Present => Test::Present(boolean()?),
        Operator::Is(test) => Test::Is(test, boolean()?),
        Operator::Matches => Test::Matches(pattern(string()?).map_err(|e| format!("{here}: {e}"))?),
        Operator::Compare(value_type, accepts, true) => {
            let path = Path::parse(string()?).map_err(|e| format!("{here}: {e}"))?;
            Test::Compare(value_type, accepts, Operand::Path(path))
        }
        Operator::Compare(value_type, accepts, false) => {
            let (valid, expected) = match value_type {
                ValueType::String => (operand.is_string(), "a string"),
                ValueType::Numeric => (operand.is_number(), "a number"),
                ValueType::Boolean => (operand.is_boolean(), "true or false"),
                ValueType::Timestamp => (is_timestamp(operand), "an RFC 3339 timestamp"),
            };
            if !valid {
                return Err(wrong(expected));
            }
            Test::Compare(value_type, accepts, Operand::Value(operand.clone()))
        }
    };
    let variable = rule_variable(fields.variable, at, name)?;
    Ok((
        ChoiceRule {
            rule: Rule::Test(variable, test),
        },
        next,
    ))
}

/// The fields of one Choice Rule object, before their values are checked.
struct RuleFields<'a> {
    /// The one operator field: its name, what it means and its operand.
    operator: Option<(&'a str, Operator, &'a Value)>,
    /// The `Variable` field.
    variable: Option<&'a Value>,
    /// The `Next` field (top-level rules only).
    next: Option<&'a Value>,
}

/// Sorts a rule's fields, refusing unknown fields, a second operator and a nested `Next`.
fn rule_fields<'a>(
    map: &'a Map<String, Value>,
    at: &str,
    top_level: bool,
) -> Result<RuleFields<'a>, String> {
    let mut fields = RuleFields {
        operator: None,
        variable: None,
        next: None,
    };
    for (key, value) in map {
        match key.as_str() {
            "Variable" => fields.variable = Some(value),
            "Next" if top_level => fields.next = Some(value),
            "Next" => {
                return Err(format!(
                    "{at}: 'Next' is only allowed in a top-level Choice Rule"
                ));
            }
            "Comment" => {}
            "Assign" if top_level => {}
            _ => match (operator(key), &fields.operator) {
                (Some(op), None) => fields.operator = Some((key.as_str(), op, value)),
                (Some(_), Some((first, ..))) => {
                    let found = format!("found {first} and {key}");
                    return Err(format!(
                        "{at}: a Choice Rule needs exactly one operator, {found}"
                    ));
                }
                (None, _) => return Err(format!("{at}: unknown field '{key}' in a Choice Rule")),
            },
        }
    }
    Ok(fields)
}

/// A rule's `Next`, which must be a state name when present.
fn rule_next(next: Option<&Value>, at: &str) -> Result<Option<String>, String> {
    match next {
        None | Some(Value::String(_)) => Ok(next.and_then(Value::as_str).map(str::to_string)),
        Some(other) => {
            let other = shown(other, SHOWN_BYTES);
            Err(format!("{at}.Next: must be a state name, got {other}"))
        }
    }
}

/// The message for an operand of the wrong type.
fn wrong_operand(here: &str, operand: &Value, expected: &str) -> String {
    let operand = shown(operand, SHOWN_BYTES);
    format!("{here}: must be {expected}, got {operand}")
}

/// An `And` or `Or` rule: a non-empty array of nested rules.
fn parse_and_or(op: &Operator, operand: &Value, here: &str, depth: usize) -> Result<Rule, String> {
    let rules = operand.as_array().filter(|rules| !rules.is_empty());
    let rules = rules
        .ok_or_else(|| wrong_operand(here, operand, "a non-empty array of Choice Rules"))?
        .iter();
    let rules = rules.enumerate().map(|(i, rule)| {
        parse(rule, &format!("{here}[{i}]"), false, depth + 1).map(|(rule, _)| rule)
    });
    let rules = rules.collect::<Result<_, _>>()?;
    Ok(if matches!(op, Operator::And) {
        Rule::And(rules)
    } else {
        Rule::Or(rules)
    })
}

/// A data-test rule's `Variable`: required, and a path.
fn rule_variable(variable: Option<&Value>, at: &str, name: &str) -> Result<Path, String> {
    match variable {
        Some(Value::String(text)) => Path::parse(text).map_err(|e| format!("{at}.Variable: {e}")),
        Some(other) => {
            let other = shown(other, SHOWN_BYTES);
            Err(format!("{at}.Variable: must be a path, got {other}"))
        }
        None => Err(format!(
            "{at}: a Choice Rule with {name} needs a 'Variable'"
        )),
    }
}

/// The failure for a `Variable` or operand path that matches nothing.
fn invalid_path(path: &Path) -> Failure {
    let text = path.text();
    let why = "The choice state's condition path references an invalid value.";
    Failure::runtime(format!("Invalid path '{text}': {why}"))
}

/// Orders two values of the operator's type; `None` when either has another type.
fn compare(value_type: ValueType, a: &Value, b: &Value) -> Option<Ordering> {
    match (value_type, a, b) {
        // Step Functions compares strings like Java's `String.compareTo`: by UTF-16 code unit.
        (ValueType::String, Value::String(a), Value::String(b)) => {
            Some(a.encode_utf16().cmp(b.encode_utf16()))
        }
        (ValueType::Numeric, Value::Number(a), Value::Number(b)) => {
            match (a.as_i64(), b.as_i64()) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
            }
        }
        (ValueType::Boolean, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (ValueType::Timestamp, Value::String(a), Value::String(b)) => {
            Some(timestamp(a)?.cmp(&timestamp(b)?))
        }
        _ => None,
    }
}

fn is_timestamp(value: &Value) -> bool {
    value.as_str().and_then(timestamp).is_some()
}

/// An RFC 3339 timestamp with the restrictions Step Functions adds: an uppercase `T` between
/// date and time, and an uppercase `Z` when there is no numeric offset.
fn timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    let upper = text.as_bytes().get(10) == Some(&b'T') && !text.ends_with('z');
    upper
        .then(|| DateTime::parse_from_rfc3339(text).ok())
        .flatten()
}

/// A `StringMatches` pattern: `*` matches any run of characters, `\*` and `\\` stand for
/// themselves.
fn pattern(text: &str) -> Result<Vec<Option<char>>, String> {
    let mut chars = text.chars();
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '*' => None,
            '\\' => match chars.next() {
                Some(c @ ('*' | '\\')) => Some(c),
                _ => return Err("an escape backslash must be followed by '*' or '\\'".into()),
            },
            c => Some(c),
        });
    }
    Ok(tokens)
}

fn matches(pattern: &[Option<char>], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t, mut star, mut resume) = (0, 0, None, 0);
    while t < text.len() {
        match pattern.get(p) {
            Some(Some(c)) if *c == text[t] => (p, t) = (p + 1, t + 1),
            Some(None) => (star, resume, p) = (Some(p), t, p + 1),
            _ => match star {
                Some(s) => (p, resume, t) = (s + 1, resume + 1, resume + 1),
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::errors;
    use serde_json::{Map, json};

    /// Evaluates a rule written as JSON text.
    fn eval(rule: &str, input: &Value) -> Result<bool, Failure> {
        let rule = ChoiceRule::parse(&serde_json::from_str(rule).unwrap(), "S.Choices[0]").unwrap();
        let context = json!({"Execution": {"Name": "run-1"}});
        let vars = Map::from_iter([("limit".into(), json!(10))]);
        rule.evaluate(&Scope {
            input,
            context: &context,
            vars: &vars,
        })
    }

    /// The `Next` of the first matching rule.
    fn choose(choices: &Value, input: Value) -> Option<String> {
        let (context, vars) = (json!({}), Map::new());
        let scope = Scope {
            input: &input,
            context: &context,
            vars: &vars,
        };
        for (i, choice) in choices.as_array().unwrap().iter().enumerate() {
            let (rule, next) =
                ChoiceRule::parse_top_level(choice, &format!("X.Choices[{i}]")).unwrap();
            if rule.evaluate(&scope).unwrap() {
                return Some(next);
            }
        }
        None
    }

    #[test]
    fn choice_state_examples_from_the_docs() {
        let choices = json!([
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {"And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30}
            ], "Next": "ValueInTwenties"}
        ]);
        let next = |input| choose(&choices, input);
        assert_eq!(
            next(json!({"type": "Private", "value": 22})).unwrap(),
            "ValueInTwenties"
        );
        assert_eq!(
            next(json!({"type": "Public", "value": 22})).unwrap(),
            "Public"
        );
        assert_eq!(
            next(json!({"type": "Private", "value": 0})).unwrap(),
            "ValueIsZero"
        );
        assert_eq!(next(json!({"type": "Private", "value": 31})), None);
        let choices = json!([
            {"And": [
                {"Variable": "$.value", "IsPresent": true},
                {"Variable": "$.value", "IsNumeric": true},
                {"Variable": "$.value", "NumericGreaterThanEquals": 20}
            ], "Assign": {"range": "twenties"}, "Next": "ValueInTwenties"},
            {"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold", "Next": "Audit"}
        ]);
        let next = |input| choose(&choices, input);
        assert_eq!(
            next(json!({"value": "22", "rating": 5, "auditThreshold": 3})).unwrap(),
            "Audit"
        );
        assert_eq!(next(json!({"value": 22})).unwrap(), "ValueInTwenties");
        assert_eq!(next(json!({"rating": 1, "auditThreshold": 3})), None);
    }

    #[test]
    fn operators() {
        let input = json!({
            "n": 5, "f": 5.5, "s": "b", "b": true, "null": null, "v": "foo23.log", "star": "log*",
            "t": "2001-01-01T12:00:00Z", "other": "2001-01-01T13:00:00+01:00", "emoji": "\u{1F600}"
        });
        for line in [
            r#"{"Variable": "$.n", "NumericEquals": 5.0} => true"#,
            r#"{"Variable": "$.n", "NumericLessThan": 5.5} => true"#,
            r#"{"Variable": "$.f", "NumericGreaterThanEquals": 5.5} => true"#,
            r#"{"Variable": "$.n", "NumericLessThanEqualsPath": "$limit"} => true"#,
            r#"{"Variable": "$.n", "NumericGreaterThanPath": "$.f"} => false"#,
            r#"{"Variable": "$.s", "StringGreaterThan": "a"} => true"#,
            r#"{"Variable": "$.s", "StringLessThanEquals": "b"} => true"#,
            r#"{"Variable": "$.s", "StringLessThan": "B"} => false"#,
            // Java's compareTo orders by UTF-16 code unit: U+1F600 (a surrogate pair) < U+FF61.
            r#"{"Variable": "$.emoji", "StringLessThan": "\uff61"} => true"#,
            r#"{"Variable": "$$.Execution.Name", "StringEqualsPath": "$$.Execution.Name"} => true"#,
            r#"{"Variable": "$.b", "BooleanEquals": true} => true"#,
            r#"{"Variable": "$.b", "BooleanEqualsPath": "$.b"} => true"#,
            r#"{"Variable": "$.t", "TimestampEqualsPath": "$.other"} => true"#,
            r#"{"Variable": "$.t", "TimestampLessThan": "2001-01-01T12:00:00.5Z"} => true"#,
            r#"{"Variable": "$.t", "TimestampGreaterThanEquals": "2001-01-01T11:00:00-01:00"} => true"#,
            r#"{"Variable": "$.t", "TimestampGreaterThan": "2001-01-01T11:00:01-01:00"} => false"#,
            r#"{"Variable": "$.t", "StringEquals": "2001-01-01T12:00:00Z"} => true"#,
            r#"{"Or": [{"Variable": "$.n", "IsString": true}, {"Variable": "$.s", "IsString": true}]} => true"#,
            r#"{"And": [{"Variable": "$.n", "IsNumeric": true}, {"Variable": "$.s", "IsNull": true}]} => false"#,
            r#"{"Variable": "$.t", "IsTimestamp": true} => true"#,
            r#"{"Variable": "$.s", "IsTimestamp": false} => true"#,
            r#"{"Variable": "$.b", "IsBoolean": true} => true"#,
            r#"{"Variable": "$.null", "IsNull": true} => true"#,
            r#"{"Variable": "$.n", "IsNull": false} => true"#,
            r#"{"Variable": "$.null", "IsPresent": true} => true"#,
            r#"{"Variable": "$.nope", "IsPresent": false} => true"#,
            r#"{"Variable": "$nope", "IsPresent": true} => false"#,
            // Type mismatches are false.
            r#"{"Variable": "$.s", "NumericEquals": 1} => false"#,
            r#"{"Variable": "$.n", "StringEquals": "5"} => false"#,
            r#"{"Variable": "$.s", "BooleanEquals": true} => false"#,
            r#"{"Variable": "$.s", "TimestampEquals": "2001-01-01T12:00:00Z"} => false"#,
            r#"{"Variable": "$.n", "StringMatches": "*"} => false"#,
            // The StringMatches examples of the specification, and escapes.
            r#"{"Variable": "$.v", "StringMatches": "foo*.log"} => true"#,
            r#"{"Variable": "$.v", "StringMatches": "*.log"} => true"#,
            r#"{"Variable": "$.v", "StringMatches": "f*2*g"} => true"#,
            r#"{"Variable": "$.v", "StringMatches": "f*2*x"} => false"#,
            r#"{"Variable": "$.v", "StringMatches": "foo*.txt"} => false"#,
            r#"{"Variable": "$.star", "StringMatches": "log\\*"} => true"#,
            r#"{"Variable": "$.v", "StringMatches": "foo23\\*"} => false"#,
        ] {
            let (rule, expected) = line.split_once(" => ").unwrap();
            assert_eq!(eval(rule, &input).unwrap(), expected == "true", "{rule}");
        }
        let matches = |p: &str, t: &str| matches(&pattern(p).unwrap(), t);
        assert!(matches("foo*.*", "foobar.zebra") && matches("*", "") && matches(r"a\\b", r"a\b"));
        assert!(timestamp("2016-03-14T01:59:00Z").is_some());
        for bad in [
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
            "2016-03-14 01:59:00Z",
            "2016-03-14",
        ] {
            assert!(timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn missing_paths_fail_except_under_is_present() {
        let failure = eval(
            r#"{"Not": {"Variable": "$.type", "StringEquals": "x"}}"#,
            &json!({}),
        );
        let failure = failure.unwrap_err();
        assert_eq!(failure.error, errors::RUNTIME);
        let why = "The choice state's condition path references an invalid value.";
        assert_eq!(failure.cause, format!("Invalid path '$.type': {why}"));
        assert!(eval(r#"{"Variable": "$.a", "IsNull": true}"#, &json!({})).is_err());
        assert!(
            eval(
                r#"{"Variable": "$.a", "NumericEqualsPath": "$.b"}"#,
                &json!({"a": 1})
            )
            .is_err()
        );
    }

    #[test]
    fn invalid_rules() {
        for line in [
            r#"[] => S.Choices[0]: a Choice Rule must be an object"#,
            r#"{"Variable": "$.a"} => needs an operator"#,
            r#"{"Variable": "$.a", "StringEquals": "x", "IsNull": true} => StringEquals and IsNull"#,
            r#"{"StringEquals": "x"} => S.Choices[0]: a Choice Rule with StringEquals needs"#,
            r#"{"Variable": "a", "StringEquals": "x"} => S.Choices[0].Variable: invalid JSONPath"#,
            r#"{"Variable": 1, "StringEquals": "x"} => S.Choices[0].Variable: must be a path"#,
            r#"{"Variable": "$.a", "StringEquals": 1} => S.Choices[0].StringEquals: must be"#,
            r#"{"Variable": "$.a", "NumericLessThan": "1"} => must be a number"#,
            r#"{"Variable": "$.a", "BooleanEquals": 1} => must be true or false"#,
            r#"{"Variable": "$.a", "TimestampEquals": "2001-01-01"} => RFC 3339"#,
            r#"{"Variable": "$.a", "IsNull": "yes"} => must be true or false"#,
            r#"{"Variable": "$.a", "StringMatches": "a\\b"} => escape backslash"#,
            r#"{"Variable": "$.a", "BooleanLessThan": true} => unknown field 'BooleanLessThan'"#,
            r#"{"Variable": "$.a", "NumericEqualsPath": "x"} => Choices[0].NumericEqualsPath: invalid"#,
            r#"{"Variable": "$.a", "And": [{"Variable": "$.a", "IsNull": true}]} => not allowed"#,
            r#"{"And": []} => S.Choices[0].And: must be a non-empty array"#,
            r#"{"Or": [{"Variable": "$.a", "IsNull": true, "Next": "X"}]} => Choices[0].Or[0]: 'Next'"#,
            r#"{"Not": {"Variable": "$.a"}} => S.Choices[0].Not: a Choice Rule needs an operator"#,
            r#"{"Variable": "$.a", "IsNull": true, "Assign": {}} => unknown field 'Assign'"#,
            r#"{"Variable": "$.a", "IsNull": true, "Next": "X"} => 'Next' is only allowed"#,
        ] {
            let (rule, expected) = line.split_once(" => ").unwrap();
            let error = ChoiceRule::parse(&serde_json::from_str(rule).unwrap(), "S.Choices[0]");
            let error = error.unwrap_err();
            assert!(error.contains(expected), "{rule}: {error}");
        }
        let top =
            json!({"Variable": "$.a", "IsNull": true, "Assign": {}, "Comment": "", "Next": "Done"});
        assert_eq!(ChoiceRule::parse_top_level(&top, "S").unwrap().1, "Done");
        for rule in [
            json!({"Variable": "$.a", "IsNull": true}),
            json!({"Variable": "$.a", "IsNull": true, "Next": 1}),
        ] {
            assert!(
                ChoiceRule::parse_top_level(&rule, "S")
                    .unwrap_err()
                    .contains("Next")
            );
        }
    }
}
