//! Property tests: the event pattern matcher against a reference model, and the JSONPath,
//! intrinsic function, ASL definition and key parsers on arbitrary input (they must never
//! panic). Each property runs 256 cases by default; `PROPTEST_CASES=10000 cargo test -p
//! agent-mesh --test proptest_hardening` runs longer. Failures found are kept as plain tests
//! at the end of this file.

use agent_mesh::unstable::asl::intrinsics::Intrinsic;
use agent_mesh::unstable::asl::path::Path;
use agent_mesh::unstable::asl::{Scope, StateMachine};
use agent_mesh::unstable::validate::{MAX_KEY_BYTES, check_artifact_key, check_key};
use agent_mesh::{EventPattern, test_event_pattern};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------
// (a) Event patterns against a reference model.

/// One condition of the model: what a pattern's list item means.
#[derive(Debug, Clone)]
enum Cond {
    Str(String),
    Num(i64),
    Prefix(String),
    Suffix(String),
    AnythingBut(Vec<String>),
    /// `numeric` with one comparison.
    Numeric(&'static str, i64),
    Exists(bool),
}

impl Cond {
    fn to_json(&self) -> Value {
        match self {
            Cond::Str(s) => json!(s),
            Cond::Num(n) => json!(n),
            Cond::Prefix(p) => json!({"prefix": p}),
            Cond::Suffix(p) => json!({"suffix": p}),
            Cond::AnythingBut(list) => json!({"anything-but": list}),
            Cond::Numeric(op, x) => json!({"numeric": [op, x]}),
            Cond::Exists(b) => json!({"exists": b}),
        }
    }

    /// The model: whether the field's value (`None`: missing) satisfies the condition.
    fn holds(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Cond::Exists(b), v) => v.is_some() == *b,
            (_, None) => false,
            (Cond::Str(s), Some(Value::String(v))) => v == s,
            (Cond::Num(n), Some(Value::Number(v))) => v.as_f64() == Some(*n as f64),
            (Cond::Prefix(p), Some(Value::String(v))) => v.starts_with(p.as_str()),
            (Cond::Suffix(p), Some(Value::String(v))) => v.ends_with(p.as_str()),
            (Cond::AnythingBut(list), Some(Value::String(v))) => !list.contains(v),
            (Cond::AnythingBut(_), Some(_)) => true,
            (Cond::Numeric(op, x), Some(Value::Number(v))) => {
                let (v, x) = (v.as_f64().unwrap(), *x as f64);
                match *op {
                    "<" => v < x,
                    "<=" => v <= x,
                    "=" => v == x,
                    ">=" => v >= x,
                    _ => v > x,
                }
            }
            _ => false,
        }
    }
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", "a", "b", "ab", "ba", "abc", "é", "aé"]).prop_map(String::from)
}

fn cond() -> impl Strategy<Value = Cond> {
    prop_oneof![
        text().prop_map(Cond::Str),
        (-3i64..3).prop_map(Cond::Num),
        text()
            .prop_filter("non-empty", |t| !t.is_empty())
            .prop_map(Cond::Prefix),
        text().prop_map(Cond::Suffix),
        prop::collection::vec(text(), 1..3).prop_map(Cond::AnythingBut),
        (
            prop::sample::select(vec!["<", "<=", "=", ">=", ">"]),
            -3i64..3
        )
            .prop_map(|(op, x)| Cond::Numeric(op, x)),
        any::<bool>().prop_map(Cond::Exists),
    ]
}

const FIELDS: [&str; 3] = ["f", "g", "h"];

/// A pattern: per field (at least one), a non-empty list of conditions.
fn pattern() -> impl Strategy<Value = Vec<(usize, Vec<Cond>)>> {
    prop::collection::btree_map(0..FIELDS.len(), prop::collection::vec(cond(), 1..4), 1..4)
        .prop_map(|m| m.into_iter().collect())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        (-4i64..4).prop_map(Value::from),
        (-4i64..4).prop_map(|n| json!(n as f64 + 0.5)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn event() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(0..FIELDS.len(), scalar(), 0..4).prop_map(|m| {
        m.into_iter()
            .map(|(i, v)| (FIELDS[i].to_string(), v))
            .collect()
    })
}

proptest! {
    #[test]
    fn patterns_match_like_the_model(pattern in pattern(), event in event()) {
        let json = Value::Object(pattern.iter().map(|(field, conds)| {
            (FIELDS[*field].to_string(), Value::Array(conds.iter().map(Cond::to_json).collect()))
        }).collect());
        let want = pattern.iter().all(|(field, conds)| {
            conds.iter().any(|c| c.holds(event.get(FIELDS[*field])))
        });
        let event = Value::Object(event);
        prop_assert_eq!(test_event_pattern(&json, &event), Ok(want), "{} {}", json, event);
        let compiled = EventPattern::compile(&json).unwrap();
        prop_assert_eq!(compiled.matches_json(&event.to_string()), Ok(want));
    }

    #[test]
    fn pattern_parsing_never_panics(text in "[{}\\[\\]\":,a-z0-9 .$*-]{0,60}") {
        let _ = EventPattern::parse(&text);
    }
}

// ---------------------------------------------------------------------------------------------
// (b) JSONPath, (c) intrinsic functions: never a panic.

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::from),
        "[a-c]{0,3}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Text made of JSONPath tokens, often near-valid.
fn path_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "$",
        "$$",
        ".",
        "..",
        "a",
        "b",
        "[",
        "]",
        "*",
        "?(",
        ")",
        "@",
        "@.a",
        "==",
        "!=",
        "<",
        ">=",
        " in ",
        " nin ",
        "&&",
        "||",
        "!",
        ",",
        ":",
        "'a'",
        "\"b\"",
        "0",
        "-1",
        "1",
        "9223372036854775807",
        "-9223372036854775808",
        "[::-1]",
        "[0:2]",
        "[?(@.a > 1)]",
        "1e308",
        "true",
        "null",
        "[1,2]",
        " ",
        "\\",
    ]);
    prop_oneof![
        prop::collection::vec(token, 0..16).prop_map(|t| t.concat()),
        "\\PC{0,30}",
    ]
}

fn scope_of<'a>(input: &'a Value, context: &'a Value, vars: &'a Map<String, Value>) -> Scope<'a> {
    Scope {
        input,
        context,
        vars,
    }
}

proptest! {
    #[test]
    fn jsonpath_never_panics(text in path_text(), input in json_value()) {
        let (context, vars) = (json!({"Execution": {"Id": "x"}}), Map::new());
        let scope = scope_of(&input, &context, &vars);
        if let Ok(path) = Path::parse(&text) {
            let _ = path.select(&scope);
            let _ = path.select_optional(&scope);
            let mut target = input.clone();
            let _ = path.set_reference(&mut target, json!(1));
        }
    }

    #[test]
    fn intrinsics_never_panic(text in intrinsic_text(), input in json_value()) {
        let (context, vars) = (json!({}), Map::from_iter([("v".to_string(), input.clone())]));
        let input = json!({"a": input, "n": i64::MAX, "s": "a,b"});
        let scope = scope_of(&input, &context, &vars);
        if let Ok(call) = Intrinsic::parse(&text) {
            let _ = call.evaluate(&scope);
        }
    }
}

/// Text made of intrinsic-function tokens, often near-valid.
fn intrinsic_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "States.Format(",
        "States.Array(",
        "States.ArrayRange(",
        "States.MathAdd(",
        "States.MathRandom(",
        "States.StringSplit(",
        "States.ArrayGetItem(",
        "States.ArrayPartition(",
        "States.ArrayUnique(",
        "States.ArrayContains(",
        "States.ArrayLength(",
        "States.Hash(",
        "States.Base64Encode(",
        "States.Base64Decode(",
        "States.JsonMerge(",
        "States.StringToJson(",
        "States.JsonToString(",
        "States.UUID(",
        "'",
        "'{}'",
        "'a,b'",
        "'SHA-256'",
        "\\",
        ",",
        ", ",
        ")",
        "$.a",
        "$",
        "$.n",
        "$.s",
        "$v",
        "$$",
        "1",
        "0",
        "-1",
        "2.5",
        "-9223372036854775808",
        "9223372036854775807",
        "1e308",
        "true",
        "false",
        "null",
    ]);
    prop_oneof![
        4 => prop::collection::vec(token, 0..14).prop_map(|t| t.concat()),
        1 => "States\\.\\PC{0,30}",
    ]
}

// ---------------------------------------------------------------------------------------------
// (d) ASL definitions: never a panic.

fn state() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just(("Type", json!("Pass"))),
        Just(("Type", json!("Task"))),
        Just(("Type", json!("Choice"))),
        Just(("Type", json!("Wait"))),
        Just(("Type", json!("Map"))),
        Just(("Type", json!("Parallel"))),
        Just(("Type", json!("Fail"))),
        Just(("Type", json!("Succeed"))),
        Just(("Type", json!(3))),
        Just(("Next", json!("A"))),
        Just(("Next", json!("B"))),
        Just(("End", json!(true))),
        Just(("Resource", json!("handler"))),
        Just(("Seconds", json!(1))),
        Just(("SecondsPath", json!("$.a[?(@ > 1)]"))),
        Just(("ResultPath", json!("$.x"))),
        Just(("InputPath", json!(null))),
        Just((
            "Parameters",
            json!({"a.$": "States.Array($)", "b.$": "$..c"})
        )),
        Just((
            "Choices",
            json!([{"Variable": "$.a", "IsNull": true, "Next": "A"}])
        )),
        Just(("Choices", json!([{"Not": {"And": []}, "Next": "B"}]))),
        Just(("Default", json!("A"))),
        Just(("QueryLanguage", json!("JSONata"))),
        Just(("Output", json!("{% $states.input %}"))),
        Just(("Arguments", json!({"x": "{% 1 + %}"}))),
        Just((
            "Retry",
            json!([{"ErrorEquals": ["States.ALL"], "MaxAttempts": -1}])
        )),
        Just((
            "Catch",
            json!([{"ErrorEquals": ["States.ALL"], "Next": "A"}])
        )),
        Just((
            "Branches",
            json!([{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}])
        )),
        Just(("Branches", json!([1, {}]))),
        Just((
            "ItemProcessor",
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})
        )),
        Just(("ItemProcessor", json!({"States": []}))),
        Just(("Error", json!(1))),
        Just(("ErrorPath", json!("States.Format('{}', $.a)"))),
    ];
    prop::collection::vec(field, 0..6).prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    })
}

fn definition() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec!["A", "B", "C", ""]);
    let states = prop::collection::btree_map(name.clone(), state(), 0..4);
    (prop::option::of(name), states, any::<bool>(), json_value()).prop_map(
        |(start, states, jsonata, noise)| {
            let mut definition = json!({"States": states, "Comment": noise});
            if let Some(start) = start {
                definition["StartAt"] = json!(start);
            }
            if jsonata {
                definition["QueryLanguage"] = json!("JSONata");
            }
            definition
        },
    )
}

proptest! {
    #[test]
    fn asl_parsing_never_panics(definition in prop_oneof![definition(), json_value()]) {
        let _ = StateMachine::parse(&definition);
    }
}

// ---------------------------------------------------------------------------------------------
// (e) Key validation accepts exactly what it documents.

/// The documented rule of `check_key`: non-empty, at most 1024 bytes of UTF-8, no NUL.
fn key_ok(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_BYTES && !key.contains('\0')
}

/// The documented rule of `check_artifact_key`: a valid key that is a relative path staying
/// inside the store: no leading `/`, no backslash, no `.`/`..` segment, no empty segment.
fn artifact_key_ok(key: &str) -> bool {
    key_ok(key)
        && !key.starts_with('/')
        && !key.contains('\\')
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a./\\\\\0é]{0,8}",
        "\\PC{0,40}",
        (1020usize..1030).prop_map(|n| "é".repeat(n / 2) + &"k".repeat(n % 2)),
        (1020usize..1030).prop_map(|n| "k".repeat(n)),
    ]
}

proptest! {
    #[test]
    fn key_validation_accepts_exactly_what_it_documents(key in key_text()) {
        prop_assert_eq!(check_key("kv.get", &key).is_ok(), key_ok(&key), "{:?}", key);
        let artifact = check_artifact_key("artifacts.put", &key);
        prop_assert_eq!(artifact.is_ok(), artifact_key_ok(&key), "{:?}", key);
        if let Err(e) = artifact {
            prop_assert_eq!(e.kind, agent_mesh::ErrorKind::InvalidInput);
        }
    }
}
