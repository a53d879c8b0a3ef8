//! Choice Rules of JSONPath Choice states: `And`, `Or`, `Not` and the data-test operators
//! (`StringEquals`, `NumericGreaterThanPath`, `IsPresent`, `StringMatches`, ...).
//!
//! As in Step Functions, a `Variable` (or `...Path` operand) that matches nothing fails the
//! rule with `States.Runtime`, except under `IsPresent`, which tests exactly that; values of
//! the wrong type simply compare false.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::path::Path;
use super::{Failure, Scope};

/// A parsed Choice Rule (its `Next`, if any, is returned by [`ChoiceRule::parse_top_level`]).
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    And(Vec<ChoiceRule>),
    Or(Vec<ChoiceRule>),
    Not(Box<ChoiceRule>),
    Test { variable: Path, test: Test },
}

#[derive(Debug, Clone)]
enum Test {
    /// `Is*`: the type test and the expected answer.
    Is(TypeTest, bool),
    /// `StringMatches`: the pattern, `None` standing for `*`.
    Matches(Vec<Option<char>>),
    Compare {
        kind: ValueKind,
        order: Order,
        operand: Operand,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

#[derive(Debug, Clone)]
enum Operand {
    Value(Value),
    Path(Path),
}

const TYPE_TESTS: [(&str, TypeTest); 6] = [
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];
const KINDS: [(&str, ValueKind); 4] = [
    ("String", ValueKind::String),
    ("Numeric", ValueKind::Numeric),
    ("Boolean", ValueKind::Boolean),
    ("Timestamp", ValueKind::Timestamp),
];
const ORDERS: [(&str, Order); 5] = [
    ("Equals", Order::Equals),
    ("LessThan", Order::LessThan),
    ("GreaterThan", Order::GreaterThan),
    ("LessThanEquals", Order::LessThanEquals),
    ("GreaterThanEquals", Order::GreaterThanEquals),
];

/// What an operator field name means.
enum Operator {
    And,
    Or,
    Not,
    Is(TypeTest),
    Matches,
    Compare(ValueKind, Order, bool),
}

fn operator(name: &str) -> Option<Operator> {
    match name {
        "And" => return Some(Operator::And),
        "Or" => return Some(Operator::Or),
        "Not" => return Some(Operator::Not),
        "StringMatches" => return Some(Operator::Matches),
        _ => {}
    }
    if let Some((_, test)) = TYPE_TESTS.iter().find(|(n, _)| *n == name) {
        return Some(Operator::Is(*test));
    }
    let (kind_name, kind) = KINDS.iter().find(|(n, _)| name.starts_with(n))?;
    let rest = &name[kind_name.len()..];
    let (rest, is_path) = rest
        .strip_suffix("Path")
        .map_or((rest, false), |rest| (rest, true));
    let (_, order) = ORDERS.iter().find(|(n, _)| *n == rest)?;
    (*kind != ValueKind::Boolean || *order == Order::Equals)
        .then_some(Operator::Compare(*kind, *order, is_path))
}

impl ChoiceRule {
    /// Parses a nested Choice Rule (inside `And`, `Or` or `Not`), which must not have `Next`.
    /// `at` locates the rule in error messages (`States.IsSafe.Choices[0]`).
    pub fn parse(value: &Value, at: &str) -> Result<ChoiceRule, String> {
        parse(value, at, false).map(|(rule, _)| rule)
    }

    /// Parses an element of a Choice state's `Choices`: the rule and its required `Next`. It
    /// may also carry `Assign` and `Comment`, which are left to the caller.
    pub fn parse_top_level(value: &Value, at: &str) -> Result<(ChoiceRule, String), String> {
        match parse(value, at, true)? {
            (rule, Some(next)) => Ok((rule, next)),
            (_, None) => Err(format!(
                "{at}: a top-level Choice Rule must have a string 'Next' field"
            )),
        }
    }

    /// Evaluates the rule against the state's effective input (and the context and variables
    /// its paths may name).
    pub fn evaluate(&self, scope: &Scope) -> Result<bool, Failure> {
        match &self.kind {
            Kind::And(rules) => {
                for rule in rules {
                    if !rule.evaluate(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Kind::Or(rules) => {
                for rule in rules {
                    if rule.evaluate(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Not(rule) => Ok(!rule.evaluate(scope)?),
            Kind::Test { variable, test } => {
                let value = variable.select_optional(scope);
                if let Test::Is(TypeTest::Present, expected) = test {
                    return Ok(value.is_some() == *expected);
                }
                let value = value.ok_or_else(|| invalid_path(variable))?;
                Ok(match test {
                    Test::Is(test, expected) => is(*test, &value) == *expected,
                    Test::Matches(pattern) => {
                        value.as_str().is_some_and(|text| matches(pattern, text))
                    }
                    Test::Compare {
                        kind,
                        order,
                        operand,
                    } => {
                        let compared = match operand {
                            Operand::Value(other) => compare(*kind, &value, other),
                            Operand::Path(path) => compare(
                                *kind,
                                &value,
                                &path
                                    .select_optional(scope)
                                    .ok_or_else(|| invalid_path(path))?,
                            ),
                        };
                        compared.is_some_and(|o| match order {
                            Order::Equals => o.is_eq(),
                            Order::LessThan => o.is_lt(),
                            Order::GreaterThan => o.is_gt(),
                            Order::LessThanEquals => o.is_le(),
                            Order::GreaterThanEquals => o.is_ge(),
                        })
                    }
                })
            }
        }
    }
}

fn parse(value: &Value, at: &str, top_level: bool) -> Result<(ChoiceRule, Option<String>), String> {
    let map = value
        .as_object()
        .ok_or_else(|| format!("{at}: a Choice Rule must be a JSON object"))?;
    let (mut found, mut variable, mut next): (Option<(&str, Operator, &Value)>, _, _) =
        (None, None, None);
    for (key, value) in map {
        match key.as_str() {
            "Variable" => variable = Some(value),
            "Next" => next = Some(value),
            "Comment" => {}
            "Assign" if top_level => {}
            _ => match (operator(key), &found) {
                (Some(op), None) => found = Some((key.as_str(), op, value)),
                (Some(_), Some((first, ..))) => {
                    return Err(format!(
                        "{at}: a Choice Rule must have exactly one comparison operator, found {first} and {key}"
                    ));
                }
                (None, _) => return Err(format!("{at}: unknown field '{key}' in a Choice Rule")),
            },
        }
    }
    let next = match (next, top_level) {
        (None, _) => None,
        (Some(_), false) => {
            return Err(format!(
                "{at}: 'Next' is only allowed in a top-level Choice Rule"
            ));
        }
        (Some(Value::String(next)), true) => Some(next.clone()),
        (Some(other), true) => return Err(format!("{at}.Next: must be a state name, got {other}")),
    };
    let (name, op, operand) = found.ok_or_else(|| {
        format!("{at}: a Choice Rule needs a comparison operator or And, Or, Not")
    })?;
    let here = format!("{at}.{name}");
    let boolean = |value: &Value| {
        value
            .as_bool()
            .ok_or_else(|| format!("{here}: must be true or false, got {value}"))
    };
    let string = |value: &Value| {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{here}: must be a string, got {value}"))
    };
    let data_variable = || match variable {
        None => Err(format!(
            "{at}: a Choice Rule with {name} needs a 'Variable'"
        )),
        Some(Value::String(text)) => Path::parse(text).map_err(|e| format!("{at}.Variable: {e}")),
        Some(other) => Err(format!("{at}.Variable: must be a path, got {other}")),
    };
    let kind = match op {
        Operator::And | Operator::Or | Operator::Not if variable.is_some() => {
            return Err(format!("{at}: 'Variable' is not allowed with {name}"));
        }
        Operator::And | Operator::Or => {
            let rules = operand.as_array().filter(|rules| !rules.is_empty());
            let rules = rules
                .ok_or_else(|| format!("{here}: must be a non-empty array of Choice Rules"))?;
            let rules = rules
                .iter()
                .enumerate()
                .map(|(i, rule)| ChoiceRule::parse(rule, &format!("{here}[{i}]")));
            let rules = rules.collect::<Result<_, _>>()?;
            if matches!(op, Operator::And) {
                Kind::And(rules)
            } else {
                Kind::Or(rules)
            }
        }
        Operator::Not => Kind::Not(Box::new(ChoiceRule::parse(operand, &here)?)),
        Operator::Is(test) => Kind::Test {
            variable: data_variable()?,
            test: Test::Is(test, boolean(operand)?),
        },
        Operator::Matches => {
            let pattern = pattern(&string(operand)?).map_err(|e| format!("{here}: {e}"))?;
            Kind::Test {
                variable: data_variable()?,
                test: Test::Matches(pattern),
            }
        }
        Operator::Compare(kind, order, true) => {
            let path = Path::parse(&string(operand)?).map_err(|e| format!("{here}: {e}"))?;
            Kind::Test {
                variable: data_variable()?,
                test: Test::Compare {
                    kind,
                    order,
                    operand: Operand::Path(path),
                },
            }
        }
        Operator::Compare(kind, order, false) => {
            let (valid, expected) = match kind {
                ValueKind::String => (operand.is_string(), "a string"),
                ValueKind::Numeric => (operand.is_number(), "a number"),
                ValueKind::Boolean => (operand.is_boolean(), "true or false"),
                ValueKind::Timestamp => (
                    operand.as_str().and_then(timestamp).is_some(),
                    "an RFC 3339 timestamp",
                ),
            };
            if !valid {
                return Err(format!("{here}: must be {expected}, got {operand}"));
            }
            let test = Test::Compare {
                kind,
                order,
                operand: Operand::Value(operand.clone()),
            };
            Kind::Test {
                variable: data_variable()?,
                test,
            }
        }
    };
    Ok((ChoiceRule { kind }, next))
}

fn invalid_path(path: &Path) -> Failure {
    let text = path.text();
    Failure::runtime(format!(
        "Invalid path '{text}': The choice state's condition path references an invalid value."
    ))
}

fn is(test: TypeTest, value: &Value) -> bool {
    match test {
        TypeTest::Null => value.is_null(),
        TypeTest::Present => true,
        TypeTest::Numeric => value.is_number(),
        TypeTest::String => value.is_string(),
        TypeTest::Boolean => value.is_boolean(),
        TypeTest::Timestamp => value.as_str().and_then(timestamp).is_some(),
    }
}

/// Orders two values of the operator's type; `None` when either has another type.
fn compare(kind: ValueKind, a: &Value, b: &Value) -> Option<Ordering> {
    match (kind, a, b) {
        // Step Functions compares strings like Java's `String.compareTo`: by UTF-16 code unit.
        (ValueKind::String, Value::String(a), Value::String(b)) => {
            Some(a.encode_utf16().cmp(b.encode_utf16()))
        }
        (ValueKind::Numeric, Value::Number(a), Value::Number(b)) => {
            match (a.as_i64(), b.as_i64()) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
            }
        }
        (ValueKind::Boolean, Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (ValueKind::Timestamp, Value::String(a), Value::String(b)) => {
            Some(timestamp(a)?.cmp(&timestamp(b)?))
        }
        _ => None,
    }
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

    fn eval(rule: Value, input: Value) -> Result<bool, Failure> {
        let (context, vars) = (
            json!({"Execution": {"Name": "run-1"}}),
            Map::from_iter([("limit".into(), json!(10))]),
        );
        ChoiceRule::parse(&rule, "S.Choices[0]")
            .unwrap()
            .evaluate(&Scope {
                input: &input,
                context: &context,
                vars: &vars,
            })
    }

    fn choose(choices: &Value, input: &Value) -> Option<String> {
        let (context, vars) = (json!({}), Map::new());
        let scope = Scope {
            input,
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
        assert_eq!(
            choose(&choices, &json!({"type": "Private", "value": 22})).as_deref(),
            Some("ValueInTwenties")
        );
        assert_eq!(
            choose(&choices, &json!({"type": "Public", "value": 22})).as_deref(),
            Some("Public")
        );
        assert_eq!(
            choose(&choices, &json!({"type": "Private", "value": 0})).as_deref(),
            Some("ValueIsZero")
        );
        assert_eq!(
            choose(&choices, &json!({"type": "Private", "value": 31})),
            None
        );
        let choices = json!([
            {"And": [
                {"Variable": "$.value", "IsPresent": true},
                {"Variable": "$.value", "IsNumeric": true},
                {"Variable": "$.value", "NumericGreaterThanEquals": 20}
            ], "Assign": {"range": "twenties"}, "Next": "ValueInTwenties"},
            {"Variable": "$.rating", "NumericGreaterThanPath": "$.auditThreshold", "Next": "StartAudit"}
        ]);
        assert_eq!(
            choose(
                &choices,
                &json!({"value": "22", "rating": 5, "auditThreshold": 3})
            )
            .as_deref(),
            Some("StartAudit")
        );
        assert_eq!(
            choose(&choices, &json!({"rating": 1, "auditThreshold": 3})),
            None
        );
    }

    #[test]
    fn missing_variables_fail_except_under_is_present() {
        let failure = eval(
            json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}}),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(failure.error, errors::RUNTIME);
        assert_eq!(
            failure.cause,
            "Invalid path '$.type': The choice state's condition path references an invalid value."
        );
        assert!(eval(json!({"Variable": "$.a", "IsNull": true}), json!({})).is_err());
        assert!(
            eval(
                json!({"Variable": "$.a", "NumericEqualsPath": "$.b"}),
                json!({"a": 1})
            )
            .is_err()
        );
        assert!(!eval(json!({"Variable": "$.a", "IsPresent": true}), json!({})).unwrap());
        assert!(eval(json!({"Variable": "$.a", "IsPresent": false}), json!({})).unwrap());
        assert!(
            eval(
                json!({"Variable": "$.a", "IsPresent": true}),
                json!({"a": null})
            )
            .unwrap()
        );
        assert!(!eval(json!({"Variable": "$nope", "IsPresent": true}), json!({})).unwrap());
    }

    #[test]
    fn type_mismatches_are_false() {
        assert!(
            !eval(
                json!({"Variable": "$.a", "NumericEquals": 1}),
                json!({"a": "1"})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.a", "StringEquals": "1"}),
                json!({"a": 1})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.a", "BooleanEquals": true}),
                json!({"a": "true"})
            )
            .unwrap()
        );
        assert!(
            !eval(
                json!({"Variable": "$.a", "TimestampEquals": "2001-01-01T12:00:00Z"}),
                json!({"a": "x"})
            )
            .unwrap()
        );
        assert!(
            eval(
                json!({"Variable": "$.a", "StringEquals": "2001-01-01T12:00:00Z"}),
                json!({"a": "2001-01-01T12:00:00Z"})
            )
            .unwrap()
        );
    }

    #[test]
    fn comparisons() {
        let input = json!({"n": 5, "f": 5.5, "s": "b", "t": "2001-01-01T12:00:00Z", "b": true, "other": "2001-01-01T13:00:00+01:00"});
        for (rule, expected) in [
            (json!({"Variable": "$.n", "NumericEquals": 5.0}), true),
            (json!({"Variable": "$.n", "NumericLessThan": 5.5}), true),
            (
                json!({"Variable": "$.f", "NumericGreaterThanEquals": 5.5}),
                true,
            ),
            (
                json!({"Variable": "$.n", "NumericLessThanEqualsPath": "$limit"}),
                true,
            ),
            (
                json!({"Variable": "$.n", "NumericGreaterThanPath": "$.f"}),
                false,
            ),
            (json!({"Variable": "$.s", "StringGreaterThan": "a"}), true),
            (
                json!({"Variable": "$.s", "StringLessThanEquals": "b"}),
                true,
            ),
            (json!({"Variable": "$.s", "StringLessThan": "B"}), false),
            (
                json!({"Variable": "$$.Execution.Name", "StringEqualsPath": "$$.Execution.Name"}),
                true,
            ),
            (json!({"Variable": "$.b", "BooleanEquals": true}), true),
            (json!({"Variable": "$.b", "BooleanEqualsPath": "$.b"}), true),
            (
                json!({"Variable": "$.t", "TimestampEqualsPath": "$.other"}),
                true,
            ),
            (
                json!({"Variable": "$.t", "TimestampLessThan": "2001-01-01T12:00:00.5Z"}),
                true,
            ),
            (
                json!({"Variable": "$.t", "TimestampGreaterThanEquals": "2001-01-01T11:00:00-01:00"}),
                true,
            ),
            (
                json!({"Variable": "$.t", "TimestampGreaterThan": "2001-01-01T11:00:01-01:00"}),
                false,
            ),
            (
                json!({"Or": [{"Variable": "$.n", "IsString": true}, {"Variable": "$.s", "IsString": true}]}),
                true,
            ),
            (json!({"Variable": "$.t", "IsTimestamp": true}), true),
            (json!({"Variable": "$.s", "IsTimestamp": false}), true),
            (json!({"Variable": "$.b", "IsBoolean": true}), true),
            (json!({"Variable": "$.n", "IsNull": false}), true),
        ] {
            assert_eq!(
                eval(rule.clone(), input.clone()).unwrap(),
                expected,
                "{rule}"
            );
        }
        // Java's compareTo orders by UTF-16 code unit, which puts U+1F600 (a surrogate pair)
        // before U+FF61; code-point order would not.
        let emoji = json!({"Variable": "$.s", "StringLessThan": "\u{ff61}"});
        assert!(eval(emoji, json!({"s": "\u{1F600}"})).unwrap());
        assert!(timestamp("2016-03-14T01:59:00Z").is_some());
        for bad in [
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
            "2016-03-14 01:59:00Z",
            "2016-03-14T01:59Z",
            "2016-03-14",
        ] {
            assert!(timestamp(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn string_matches() {
        for (pattern, text, expected) in [
            ("foo*.log", "foo23.log", true),
            ("*.log", "zebra.log", true),
            ("foo*.*", "foobar.zebra", true),
            ("foo*.log", "foo23.txt", false),
            ("*", "", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            (r"log\*", "log*", true),
            (r"log\*", "logs", false),
            (r"a\\b", r"a\b", true),
        ] {
            let rule = json!({"Variable": "$.v", "StringMatches": pattern});
            assert_eq!(
                eval(rule, json!({"v": text})).unwrap(),
                expected,
                "{pattern} vs {text}"
            );
        }
        assert!(
            !eval(
                json!({"Variable": "$.v", "StringMatches": "*"}),
                json!({"v": 3})
            )
            .unwrap()
        );
    }

    #[test]
    fn invalid_rules() {
        for (rule, expected) in [
            (
                json!([]),
                "S.Choices[0]: a Choice Rule must be a JSON object",
            ),
            (json!({"Variable": "$.a"}), "needs a comparison operator"),
            (
                json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1}),
                "exactly one comparison operator, found StringEquals and NumericEquals",
            ),
            (json!({"StringEquals": "x"}), "needs a 'Variable'"),
            (
                json!({"Variable": "a", "StringEquals": "x"}),
                "S.Choices[0].Variable: invalid JSONPath",
            ),
            (
                json!({"Variable": "$.a", "StringEquals": 1}),
                "S.Choices[0].StringEquals: must be a string",
            ),
            (
                json!({"Variable": "$.a", "NumericLessThan": "1"}),
                "must be a number",
            ),
            (
                json!({"Variable": "$.a", "BooleanEquals": 1}),
                "must be true or false",
            ),
            (
                json!({"Variable": "$.a", "TimestampEquals": "2001-01-01"}),
                "RFC 3339",
            ),
            (
                json!({"Variable": "$.a", "IsNull": "yes"}),
                "must be true or false",
            ),
            (
                json!({"Variable": "$.a", "StringMatches": r"a\b"}),
                "escape backslash",
            ),
            (
                json!({"Variable": "$.a", "BooleanLessThan": true}),
                "unknown field 'BooleanLessThan'",
            ),
            (
                json!({"Variable": "$.a", "NumericEqualsPath": "x"}),
                "S.Choices[0].NumericEqualsPath: invalid JSONPath",
            ),
            (
                json!({"Variable": "$.a", "And": [{"Variable": "$.a", "IsNull": true}]}),
                "'Variable' is not allowed with And",
            ),
            (
                json!({"And": []}),
                "S.Choices[0].And: must be a non-empty array",
            ),
            (
                json!({"Or": [{"Variable": "$.a", "IsNull": true, "Next": "X"}]}),
                "S.Choices[0].Or[0]: 'Next' is only allowed",
            ),
            (
                json!({"Not": {"Variable": "$.a"}}),
                "S.Choices[0].Not: a Choice Rule needs",
            ),
            (
                json!({"Variable": "$.a", "IsNull": true, "Assign": {}}),
                "unknown field 'Assign'",
            ),
            (
                json!({"Variable": "$.a", "IsNull": true, "Next": "X"}),
                "'Next' is only allowed",
            ),
        ] {
            let error = ChoiceRule::parse(&rule, "S.Choices[0]").unwrap_err();
            assert!(error.contains(expected), "{rule}: {error}");
        }
        let top = json!({"Variable": "$.a", "IsNull": true, "Assign": {"x": 1}, "Comment": "c", "Next": "Done"});
        assert_eq!(ChoiceRule::parse_top_level(&top, "S").unwrap().1, "Done");
        let missing_next =
            ChoiceRule::parse_top_level(&json!({"Variable": "$.a", "IsNull": true}), "S")
                .unwrap_err();
        assert!(missing_next.contains("'Next'"), "{missing_next}");
        assert!(
            ChoiceRule::parse_top_level(
                &json!({"Variable": "$.a", "IsNull": true, "Next": 1}),
                "S"
            )
            .is_err()
        );
    }
}
