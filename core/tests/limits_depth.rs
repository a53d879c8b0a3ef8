//! Every recursive parser and evaluator refuses input nested far past its limit with an error
//! instead of overflowing the stack: each case runs on a thread with a 256 KiB stack, where a
//! missing bound shows up as a crash of the test process.

use agent_mesh::unstable::asl::choice::ChoiceRule;
use agent_mesh::unstable::asl::intrinsics::Intrinsic;
use agent_mesh::unstable::asl::jsonata;
use agent_mesh::unstable::asl::path::Path;
use agent_mesh::unstable::asl::{Scope, StateMachine};
use agent_mesh::{ErrorKind, EventPattern, PatternSet, test_event_pattern};
use serde_json::{Map, Value, json};

/// Far past every limit.
const DEEP: usize = 100_000;

/// The stack of the test threads: enough for every parser at its limit in a debug build, far
/// too little for any of them at 100,000 levels.
const STACK: usize = 1024 * 1024;

/// Runs `f` on a thread with a small stack.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the case panicked")
}

/// `inner` wrapped `depth` times by `wrap`, built without recursion.
fn nested(depth: usize, inner: Value, wrap: impl Fn(Value) -> Value) -> Value {
    (0..depth).fold(inner, |value, _| wrap(value))
}

/// `{key: value}` without `json!` (which would copy `value` recursively).
fn obj(key: &str, value: Value) -> Value {
    Value::Object(Map::from_iter([(key.to_string(), value)]))
}

/// `[value, rest...]`.
fn arr(value: Value, rest: &[Value]) -> Value {
    let mut items = vec![value];
    items.extend_from_slice(rest);
    Value::Array(items)
}

/// Drops a deep value without recursion (the ordinary drop recurses once per level).
fn drop_deep(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[test]
fn event_patterns_nested_past_the_limit_are_refused() {
    small_stack(|| {
        // Objects, `$or` branches and value arrays, as values (no serde_json limit).
        let objects = nested(DEEP, json!(["x"]), |v| obj("a", v));
        let ors = nested(DEEP, json!({"a": ["x"]}), |v| {
            obj("$or", arr(v, &[json!({"b": ["y"]})]))
        });
        let arrays = obj("a", nested(DEEP, json!("x"), |v| arr(v, &[])));
        let anything_but = obj(
            "a",
            arr(
                obj("anything-but", nested(DEEP, json!("x"), |v| arr(v, &[]))),
                &[],
            ),
        );
        for pattern in [objects, ors, arrays, anything_but] {
            let err = EventPattern::compile(&pattern).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
            assert!(err.message.contains("levels"), "{err}");
            drop_deep(pattern);
        }
        // As text: serde_json stops at 128 levels.
        let text = format!("{}{}", "{\"a\":".repeat(DEEP), "}".repeat(DEEP));
        let err = EventPattern::parse(&text).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        // At the limit of 64 nested objects a pattern still compiles.
        let ok = nested(64, json!(["x"]), |v| obj("a", v));
        EventPattern::compile(&ok).unwrap();
        let too_deep = nested(66, json!(["x"]), |v| obj("a", v));
        assert!(EventPattern::compile(&too_deep).is_err());
    });
}

#[test]
fn deep_events_are_refused_or_not_looked_into() {
    small_stack(|| {
        let pattern =
            EventPattern::parse(r#"{"a": [{"exists": true}], "b": {"c": ["x"]}}"#).unwrap();
        let mut set = PatternSet::new();
        set.add(1, pattern.clone());
        set.add(2, EventPattern::parse(r#"{"a": ["x"]}"#).unwrap());
        // Event text nested past the scanner's limit of 128.
        let text = format!("{{\"a\": {}1{}}}", "[".repeat(DEEP), "]".repeat(DEEP));
        assert_eq!(
            pattern.matches_json(&text).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        assert_eq!(
            set.matching_json(&text).unwrap_err().kind,
            ErrorKind::InvalidInput
        );
        // An event value nested past it: refused by test_event_pattern, not looked into by
        // the matchers.
        let mut event = obj("a", nested(DEEP, json!("x"), |v| arr(v, &[])));
        event["b"] = json!({"c": "x"});
        let err = test_event_pattern(pattern.as_json(), &event).unwrap_err();
        assert!(err.message.contains("128 levels"), "{err}");
        assert!(!pattern.matches(&event));
        assert!(set.matching(&event).is_empty());
        drop_deep(event);
        let objects = obj("b", nested(DEEP, json!("x"), |v| obj("c", v)));
        assert!(!pattern.matches(&objects));
        assert!(set.matching(&objects).is_empty());
        drop_deep(objects);
        // Within the limit, nested arrays are flattened as before.
        let mut event = obj("a", nested(100, json!("x"), |v| arr(v, &[])));
        event["b"] = json!({"c": "x"});
        assert!(pattern.matches(&event));
        assert_eq!(pattern.matches_json(&event.to_string()), Ok(true));
        let mut ids = set.matching(&event);
        ids.sort();
        assert_eq!(ids, vec![1, 2]);
    });
}

fn select(path: &str, input: &Value) -> Result<Value, agent_mesh::unstable::asl::Failure> {
    let (context, vars) = (json!({}), Map::new());
    let scope = Scope {
        input,
        context: &context,
        vars: &vars,
    };
    Path::parse(path)
        .map_err(agent_mesh::unstable::asl::Failure::runtime)?
        .select(&scope)
}

#[test]
fn jsonpaths_nested_past_the_limit_are_refused() {
    small_stack(|| {
        let filters = format!("$.a{}", "[?(@.b".repeat(DEEP) + &")]".repeat(DEEP));
        let parens = format!("$.a[?({}@.b{})]", "(".repeat(DEEP), ")".repeat(DEEP));
        let nots = format!("$.a[?({}@.b)]", "!".repeat(DEEP));
        let literals = format!("$.a[?(@.b in {}1{})]", "[".repeat(DEEP), "]".repeat(DEEP));
        for text in [filters, parens, nots, literals] {
            let err = Path::parse(&text).unwrap_err();
            assert!(
                err.contains("deeper than 32 levels"),
                "{}",
                &err[err.len() - 120..]
            );
        }
        // Long flat chains parse and evaluate without recursion.
        let chain = format!("$.a[?({})]", vec!["@.b == 1"; DEEP].join(" || "));
        let input = json!({"a": [{"b": 1}, {"b": 2}]});
        assert_eq!(select(&chain, &input).unwrap(), json!([{"b": 1}]));
        let chain = format!("$.a[?({})]", vec!["@.b == 1"; DEEP].join(" && "));
        assert_eq!(select(&chain, &input).unwrap(), json!([{"b": 1}]));
    });
}

#[test]
fn jsonpaths_on_deep_input_do_not_recurse() {
    small_stack(|| {
        let input = nested(DEEP, json!({"x": 1}), |v| obj("a", v));
        // `..` walks without recursion, and comparisons of deep values too.
        assert_eq!(select("$..x", &input).unwrap(), json!([1]));
        let err = select("$..*", &input).unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
        assert_eq!(select("$[?(@.a == @.a)].x", &input).unwrap(), json!([]));
        drop_deep(input);
    });
}

#[test]
fn intrinsics_nested_past_the_limit_are_refused() {
    small_stack(|| {
        let calls = format!("{}1{}", "States.Array(".repeat(DEEP), ")".repeat(DEEP));
        let err = Intrinsic::parse(&calls).unwrap_err();
        assert!(
            err.contains("nested at most 10 deep"),
            "{}",
            &err[err.len() - 100..]
        );
        let path = format!(
            "States.Array($.a{})",
            "[?(@.b".repeat(DEEP) + &")]".repeat(DEEP)
        );
        let err = Intrinsic::parse(&path).unwrap_err();
        assert!(
            err.contains("deeper than 32 levels"),
            "{}",
            &err[err.len() - 100..]
        );
        // States.StringToJson of deep JSON text: serde_json stops at 128 levels.
        let text = format!("{}1{}", "[".repeat(DEEP), "]".repeat(DEEP));
        let input = json!({ "s": text });
        let (context, vars) = (json!({}), Map::new());
        let scope = Scope {
            input: &input,
            context: &context,
            vars: &vars,
        };
        let call = Intrinsic::parse("States.StringToJson($.s)").unwrap();
        assert_eq!(
            call.evaluate(&scope).unwrap_err().error,
            "States.IntrinsicFailure"
        );
    });
}

#[test]
fn jsonata_nested_past_the_limit_is_refused() {
    small_stack(|| {
        let (states, vars) = (json!({"input": {}}), Map::new());
        // Past the length limit (64 KiB), and within it but past the depth limit.
        for (n, why) in [(DEEP, "bytes long"), (2000, "nested too deeply")] {
            for source in [
                format!("{}1{}", "(".repeat(n), ")".repeat(n)),
                format!("{}1{}", "[".repeat(n), "]".repeat(n)),
                format!("{}1", "-".repeat(n)),
                vec!["1"; n].join("+"),
                vec!["a"; n].join("."),
                format!("{}1{}", "$string(".repeat(n), ")".repeat(n)),
            ] {
                let text = format!("{{% {source} %}}");
                let err = jsonata::check(&text).unwrap_err();
                assert!(err.contains(why), "{}", &err[err.len() - 150..]);
                let failure = jsonata::evaluate(&text, &states, &vars).unwrap_err();
                assert_eq!(failure.error, "States.QueryEvaluationError");
                assert!(failure.cause.contains(why), "{}", failure.cause);
            }
        }
        // Values nested deeply at run time (bounded by the arena) neither crash the
        // evaluation nor the conversion of its result.
        let deep = |n: usize, then: &str| {
            let build = format!("$reduce([1..{n}], function($acc, $v) {{ {{'a': $acc}} }}, 1)");
            format!("{{% ($d := {build}; {then}) %}}")
        };
        let ok = jsonata::evaluate(&deep(20_000, "$d = $d"), &states, &vars).unwrap();
        assert_eq!(ok, json!(true));
        for then in ["$d", "$string($d)"] {
            let failure = jsonata::evaluate(&deep(20_000, then), &states, &vars).unwrap_err();
            assert!(failure.cause.contains("128"), "{}", failure.cause);
        }
    });
}

#[test]
fn choice_rules_nested_past_the_limit_are_refused() {
    small_stack(|| {
        let leaf = json!({"Variable": "$.a", "IsPresent": true});
        for rule in [
            nested(DEEP, leaf.clone(), |v| obj("Not", v)),
            nested(DEEP, leaf.clone(), |v| obj("And", arr(v, &[]))),
            nested(DEEP, leaf.clone(), |v| {
                obj("Or", arr(v, &[json!({"Variable": "$.b", "IsNull": true})]))
            }),
        ] {
            let err = ChoiceRule::parse(&rule, "S.Choices[0]").unwrap_err();
            assert!(
                err.contains("deeper than 32 levels"),
                "{}",
                &err[..200.min(err.len())]
            );
            drop_deep(rule);
        }
        // A wrong operand far too deep to print is not printed.
        let operand = nested(DEEP, json!(1), |v| arr(v, &[]));
        let mut rule = json!({"Variable": "$.a"});
        rule["StringEquals"] = operand;
        let err = ChoiceRule::parse(&rule, "S").unwrap_err();
        assert!(err.contains("more than 4096 bytes"), "{err}");
        drop_deep(rule);
        let ok = nested(31, leaf, |v| obj("Not", v));
        ChoiceRule::parse(&ok, "S").unwrap();
    });
}

/// A definition whose one state is `wrap` around the next level's definition.
fn nested_definition(depth: usize, wrap: impl Fn(Value) -> Value) -> Value {
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    nested(depth, pass, |inner| {
        let mut block = json!({"StartAt": "S"});
        block["States"] = obj("S", wrap(inner));
        block
    })
}

#[test]
fn definitions_nested_past_the_limit_are_refused() {
    small_stack(|| {
        let parallel = |inner| {
            let mut state = json!({"Type": "Parallel", "End": true});
            state["Branches"] = arr(inner, &[]);
            state
        };
        let map = |inner| {
            let mut state = json!({"Type": "Map", "End": true});
            state["ItemProcessor"] = inner;
            state
        };
        for (depth, wrap) in [
            (DEEP, &parallel as &dyn Fn(Value) -> Value),
            (DEEP, &map),
            (20, &parallel),
            (20, &map),
        ] {
            let definition = nested_definition(depth, wrap);
            let problems = StateMachine::parse(&definition).unwrap_err();
            let text = problems.join("; ");
            assert!(text.contains("levels"), "{}", &text[..300.min(text.len())]);
            drop_deep(definition);
        }
        for wrap in [&parallel as &dyn Fn(Value) -> Value, &map] {
            StateMachine::parse(&nested_definition(16, wrap)).unwrap();
        }
        // Any other deep value in a definition (a Pass Result, a Choice rule, Parameters).
        let result = nested(DEEP, json!(1), |v| arr(v, &[]));
        let mut definition =
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
        definition["States"]["P"]["Result"] = result;
        let problems = StateMachine::parse(&definition).unwrap_err();
        assert!(
            problems[0].contains("deeper than 128 levels"),
            "{problems:?}"
        );
        drop_deep(definition);
    });
}
