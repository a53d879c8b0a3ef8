//! Size, time and arithmetic bounds: EventBridge's pattern size quota, `$or` and prefix lists
//! that compile in bounded time, intrinsic functions and JSONata expressions whose results
//! would pass the payload quota, and user numbers at the extremes of their types.

use std::time::{Duration, Instant};

use agent_mesh::unstable::asl::intrinsics::Intrinsic;
use agent_mesh::unstable::asl::path::Path;
use agent_mesh::unstable::asl::{Failure, Scope, jsonata};
use agent_mesh::unstable::pattern::MAX_PATTERN_CHARS;
use agent_mesh::{ErrorKind, EventPattern, PatternSet};
use serde_json::{Map, Value, json};

/// The debug-build budget for compiling the largest patterns (they take milliseconds).
const COMPILE_BUDGET: Duration = Duration::from_secs(3);

#[test]
fn patterns_longer_than_the_quota_are_refused() {
    let values = |n: usize| (0..n).map(|i| format!("v{i:04}")).collect::<Vec<_>>();
    // Compact JSON length: {"a":[...]} with n strings of 7 characters and commas.
    let fits = json!({ "a": values(254) });
    assert!(fits.to_string().chars().count() <= MAX_PATTERN_CHARS);
    EventPattern::compile(&fits).unwrap();
    let over = json!({ "a": values(256) });
    assert!(over.to_string().chars().count() > MAX_PATTERN_CHARS);
    let err = EventPattern::compile(&over).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(err.message.contains("longer than 2048 characters"), "{err}");
    // Characters, not bytes: 2000 two-byte characters fit.
    EventPattern::compile(&json!({"a": ["é".repeat(2000)]})).unwrap();
    // Pretty-printed text is measured compact.
    let pretty = serde_json::to_string_pretty(&fits).unwrap();
    assert!(pretty.len() > MAX_PATTERN_CHARS);
    EventPattern::parse(&pretty).unwrap();
    // A huge pattern is refused without being walked through.
    let huge = json!({ "a": values(1_000_000) });
    let start = Instant::now();
    assert!(EventPattern::compile(&huge).is_err());
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

/// `n` single-field `$or` branches.
fn branches(n: usize, field: &str) -> Vec<Value> {
    (0..n)
        .map(|i| json!({ format!("{field}{i}"): [i] }))
        .collect()
}

#[test]
fn or_alternatives_compile_in_bounded_time() {
    let cases = [
        // One $or with as many branches as fit.
        json!({"$or": branches(150, "f")}),
        // Products of $or that stay at most 1000 alternatives...
        json!({"a": {"$or": branches(10, "x")}, "b": {"$or": branches(10, "y")}, "c": {"$or": branches(10, "z")}}),
        // ...and ones that would explode: refused after at most about 2000 alternatives.
        json!({"a": {"$or": branches(12, "x")}, "b": {"$or": branches(12, "y")}, "c": {"$or": branches(12, "z")}, "d": {"$or": branches(12, "w")}}),
        json!({"$or": [{"$or": branches(40, "p")}, {"$or": branches(40, "q")}], "z": {"$or": branches(40, "r")}}),
        // Long lists: prefixes, values, anything-but.
        json!({"a": (0..300).map(|i| json!({"prefix": format!("{i}")})).collect::<Vec<_>>()}),
        json!({"a": (0..400).collect::<Vec<_>>(), "b": (0..400).collect::<Vec<_>>()}),
        json!({"a": [{"anything-but": {"prefix": (0..300).map(|i| format!("{i}")).collect::<Vec<_>>()}}]}),
    ];
    for pattern in cases {
        let text = pattern.to_string();
        let start = Instant::now();
        let compiled = EventPattern::compile(&pattern);
        if let Ok(compiled) = &compiled {
            let mut set = PatternSet::new();
            set.add(1, compiled.clone());
            set.matching(&json!({"a": "1", "b": 2, "f3": 3}));
        } else if text.chars().count() <= MAX_PATTERN_CHARS {
            let err = compiled.as_ref().unwrap_err();
            assert!(err.message.contains("1000 alternatives"), "{err}");
        }
        let took = start.elapsed();
        assert!(took < COMPILE_BUDGET, "{took:?} for {}", &text[..100]);
    }
}

#[test]
fn numeric_matching_at_the_extremes() {
    let pattern = EventPattern::parse(r#"{"n": [{"numeric": [">=", -5e9, "<=", 5e9]}]}"#).unwrap();
    let exact = EventPattern::parse(r#"{"n": [9223372036854775807, 0, 1e300]}"#).unwrap();
    let not = EventPattern::parse(r#"{"n": [{"anything-but": [0, 5e9]}]}"#).unwrap();
    for (n, in_range, equal, excluded) in [
        (json!(1e308), false, false, false),
        (json!(-1e308), false, false, false),
        (json!(-0.0), true, true, true),
        (json!(0), true, true, true),
        (json!(9223372036854775807i64), false, true, false),
        (json!(9223372036854775808u64), false, false, false),
        (json!(18446744073709551615u64), false, false, false),
        (json!(-9223372036854775808i64), false, false, false),
        (json!(5e9), true, false, true),
        (json!(5.000000001e9), false, false, false),
        (json!(1e300), false, true, false),
        (json!(f64::MIN_POSITIVE), true, false, false),
    ] {
        let event = json!({ "n": n });
        assert_eq!(pattern.matches(&event), in_range, "{event}");
        assert_eq!(exact.matches(&event), equal, "{event}");
        assert_eq!(not.matches(&event), !excluded, "{event}");
        for p in [&pattern, &exact, &not] {
            assert_eq!(
                p.matches_json(&event.to_string()),
                Ok(p.matches(&event)),
                "{event}"
            );
        }
    }
    // Numbers beyond f64 in the event text are refused, not a panic.
    assert!(pattern.matches_json(r#"{"n": 1e400}"#).is_err());
    for bad in ["1e308", "5000000001", "-9223372036854775808"] {
        let text = format!(r#"{{"n": [{{"numeric": [">", {bad}]}}]}}"#);
        assert!(EventPattern::parse(&text).is_err(), "{text}");
    }
}

fn scope_eval<T>(input: &Value, f: impl FnOnce(&Scope) -> T) -> T {
    let (context, vars) = (json!({}), Map::new());
    f(&Scope {
        input,
        context: &context,
        vars: &vars,
    })
}

fn select(path: &str, input: &Value) -> Result<Value, Failure> {
    scope_eval(input, |scope| Path::parse(path).unwrap().select(scope))
}

#[test]
fn jsonpath_slices_and_indexes_at_the_extremes() {
    let input = json!({"a": [0, 1, 2, 3, 4]});
    let max = i64::MAX;
    let min = i64::MIN;
    for (path, expected) in [
        ("$.a[::-1]".to_string(), json!([4, 3, 2, 1, 0])),
        (format!("$.a[{min}:]"), json!([0, 1, 2, 3, 4])),
        (format!("$.a[:{max}]"), json!([0, 1, 2, 3, 4])),
        (format!("$.a[{max}:{min}:-1]"), json!([4, 3, 2, 1, 0])),
        (format!("$.a[{min}:{max}:{max}]"), json!([0])),
        (format!("$.a[1::{max}]"), json!([1])),
        (format!("$.a[3::{min}]"), json!([3])),
        (format!("$.a[{max}::{min}]"), json!([4])),
        (format!("$.a[{min}:{min}:{min}]"), json!([])),
        (format!("$.a[{max},{min},-1]"), json!([4])),
    ] {
        assert_eq!(select(&path, &input).unwrap(), expected, "{path}");
    }
    for path in [format!("$.a[{max}]"), format!("$.a[{min}]")] {
        assert_eq!(select(&path, &input).unwrap_err().error, "States.Runtime");
    }
    for bad in [
        "$.a[::0]",
        "$.a[9223372036854775808]",
        "$.a[-9223372036854775809:]",
    ] {
        assert!(Path::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn jsonpath_work_and_results_are_bounded() {
    let big = json!({"s": "x".repeat(200_000), "a": (0..2000).collect::<Vec<_>>()});
    // Selecting the same large value again and again is refused before it is copied.
    let repeat = format!("$[{}]", vec!["'s'"; 1000].join(","));
    assert_eq!(
        select(&repeat, &big).unwrap_err().error,
        "States.DataLimitExceeded"
    );
    // A filter whose work multiplies: every element against every element, repeatedly.
    let slow = "$.a[?(@ in $.a[?(@ in $.a[?(@ in $.a)])])]";
    let start = Instant::now();
    let failure = select(slow, &big).unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
    assert!(
        failure.cause.contains("visits more than"),
        "{}",
        failure.cause
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // Within the bounds, the same kind of paths work.
    assert_eq!(select("$.a[?(@ in [1, 3])]", &big).unwrap(), json!([1, 3]));
}

fn intrinsic(text: &str, input: &Value) -> Result<Value, Failure> {
    scope_eval(input, |scope| {
        Intrinsic::parse(text).unwrap().evaluate(scope)
    })
}

#[test]
fn intrinsic_arguments_at_the_extremes() {
    let input = json!({"a": [1, 2, 3], "max": i64::MAX, "min": i64::MIN, "u": u64::MAX});
    for (text, expected) in [
        (
            "States.ArrayRange(9223372036854775807, 9223372036854775807, 1)",
            Ok(json!([i64::MAX])),
        ),
        (
            "States.ArrayRange(-9223372036854775808, 9223372036854775807, 9223372036854775807)",
            Ok(json!([i64::MIN, -1, i64::MAX - 1])),
        ),
        (
            "States.ArrayRange($.min, $.max, $.max)",
            Ok(json!([i64::MIN, -1, i64::MAX - 1])),
        ),
        (
            "States.ArrayRange($.max, $.min, $.min)",
            Ok(json!([i64::MAX, -1])),
        ),
        ("States.ArrayRange(0, $.max, 1)", Err("at most 1000")),
        ("States.ArrayRange($.min, $.max, 1)", Err("at most 1000")),
        ("States.ArrayRange(0, 1e300, 1)", Err("at most 1000")),
        ("States.ArrayRange(1, 2, $.u)", Ok(json!([1]))),
        (
            "States.MathAdd(2147483647, 2147483647)",
            Ok(json!(4294967294i64)),
        ),
        ("States.MathAdd($.max, 1)", Err("outside the range")),
        ("States.MathAdd($.min, -1)", Err("outside the range")),
        ("States.MathAdd(1e308, 1)", Err("outside the range")),
        ("States.MathRandom($.min, $.max)", Ok(Value::Null)),
        (
            "States.MathRandom($.max, $.max, $.min)",
            Ok(json!(i64::MAX)),
        ),
        ("States.ArrayGetItem($.a, $.max)", Err("out of bounds")),
        ("States.ArrayGetItem($.a, $.min)", Err("out of bounds")),
        ("States.ArrayGetItem($.a, $.u)", Err("must be an integer")),
        ("States.ArrayGetItem($.a, 1e300)", Err("must be an integer")),
        ("States.ArrayPartition($.a, $.max)", Ok(json!([[1, 2, 3]]))),
        ("States.ArrayPartition($.a, $.min)", Err("positive")),
    ] {
        let got = intrinsic(text, &input);
        match (expected, got) {
            (Ok(Value::Null), Ok(_)) => {}
            (Ok(want), Ok(got)) => assert_eq!(got, want, "{text}"),
            (Err(part), Err(failure)) => {
                assert_eq!(failure.error, "States.IntrinsicFailure", "{text}");
                assert!(failure.cause.contains(part), "{text}: {}", failure.cause);
            }
            (want, got) => panic!("{text}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn intrinsic_results_are_bounded() {
    let input = json!({"s": "x".repeat(100_000), "a": vec!["y"; 1000], "d": ",".repeat(100_000)});
    for text in [
        "States.Array($.s, $.s, $.s)",
        "States.Format('{}{}{}', $.s, $.s, $.s)",
        "States.JsonMerge(States.StringToJson(States.JsonToString($)), $, false)",
        "States.Array($, $, $)",
    ] {
        let Err(failure) = intrinsic(text, &input) else {
            panic!("{text} succeeded");
        };
        assert_eq!(failure.error, "States.DataLimitExceeded", "{text}");
    }
    // Large inputs stay linear: a 100,000-character delimiter set, a long text.
    let start = Instant::now();
    let parts = intrinsic("States.StringSplit($.s, $.d)", &input).unwrap();
    assert_eq!(parts, json!(["x".repeat(100_000)]));
    assert_eq!(
        intrinsic("States.StringSplit($.d, $.d)", &input).unwrap(),
        json!([])
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    for text in ["States.Base64Encode($.s)", "States.Hash($.s, 'SHA-256')"] {
        let failure = intrinsic(text, &input).unwrap_err();
        assert!(
            failure.cause.contains("at most 10000"),
            "{text}: {}",
            failure.cause
        );
    }
}

fn jsonata_eval(expression: &str) -> Result<Value, Failure> {
    let states = json!({"input": {"s": "x".repeat(100_000)}});
    jsonata::evaluate(&format!("{{% {expression} %}}"), &states, &Map::new())
}

#[test]
fn jsonata_results_are_bounded() {
    for (expression, part) in [
        ("$pad('x', 1e15)", "$pad would build"),
        ("$pad('x', -1e300)", "$pad would build"),
        ("$pad('x', 9007199254740993)", "$pad would build"),
        (
            "($s := $pad('x', 1000000); $join([1..100].($s)))",
            "$join would build",
        ),
        (
            "$replace($pad('', 1000000, 'x'), 'x', 'yyyyyyyyyy')",
            "$replace would build",
        ),
        (
            "($a := $reduce([1..40], function($acc, $v) { {'a': $acc, 'b': $acc} }, 1); $string($a))",
            "$string would build",
        ),
        (
            "($a := $reduce([1..40], function($acc, $v) { {'a': $acc, 'b': $acc} }, 1); $a)",
            "larger than 262144 bytes",
        ),
        ("[1..100000].($states.input.s)", "larger than 262144 bytes"),
        (
            "$range(-9223372036854775808, 9223372036854775807, 1)",
            "more than the 1000000 allowed",
        ),
        (
            "($s := 'x'; $reduce([1..40], function($acc, $v) { $acc & $acc }, 'x'))",
            "engine failed",
        ),
    ] {
        let start = Instant::now();
        let Err(failure) = jsonata_eval(expression) else {
            panic!("{expression} succeeded");
        };
        assert_eq!(failure.error, "States.QueryEvaluationError", "{expression}");
        assert!(
            failure.cause.contains(part),
            "{expression}: {}",
            failure.cause
        );
        assert!(start.elapsed() < Duration::from_secs(8), "{expression}");
    }
    // A built-in that never reaches the time limit's checks is abandoned after it.
    let start = Instant::now();
    let stuck =
        "($a := $reduce([1..64], function($acc, $v) { {'a': $acc, 'b': $acc} }, 1); $a = $a)";
    let failure = jsonata_eval(stuck).unwrap_err();
    assert!(failure.cause.contains("abandoned"), "{}", failure.cause);
    assert!(start.elapsed() < Duration::from_secs(8));
    assert!(
        jsonata_eval("$range(9223372036854775806, -9223372036854775807, -9223372036854775807)")
            .is_ok()
    );
    // The bounded built-ins behave as the originals within the bounds.
    for (expression, expected) in [
        ("$pad('ab', 5)", json!("ab   ")),
        ("$pad('ab', -5, '#')", json!("###ab")),
        ("$pad('abc', 2)", json!("abc")),
        ("$join(['a', 'b'], '-')", json!("a-b")),
        ("$join('a')", json!("a")),
        (
            "$string({'a': [1, true, null]})",
            json!("{\"a\":[1,true,null]}"),
        ),
        ("$string('x')", json!("x")),
        ("$replace('a-b-c', '-', '+')", json!("a+b+c")),
        ("$replace('a-b-c', /-/, '+', 1)", json!("a+b-c")),
        ("$map(['a', 'b'], $string)", json!(["a", "b"])),
    ] {
        assert_eq!(jsonata_eval(expression).unwrap(), expected, "{expression}");
    }
}
