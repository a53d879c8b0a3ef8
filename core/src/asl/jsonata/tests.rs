//! Unit tests of JSONata evaluation.

use super::*;
use serde_json::json;

fn states() -> Value {
    json!({
        "input": {"x": 3, "name": "Ada", "items": [
            {"name": "a", "price": 5}, {"name": "b", "price": 15}, {"name": "c", "price": 25}
        ], "json": "{\"k\": [1, 2.5]}", "nothing": null},
        "context": {"Execution": {"Id": "arn:aws:states:local:execution:sm:run-1"}},
        "result": {"ok": true}
    })
}

fn ev_with(expr: &str, vars: Value) -> Result<Value, Failure> {
    evaluate(
        &format!("{{% {expr} %}}"),
        &states(),
        vars.as_object().unwrap(),
    )
}

fn ev(expr: &str) -> Result<Value, Failure> {
    ev_with(expr, json!({"customer": "María", "limit": 10}))
}

/// Every `(expression, expected JSON)` pair evaluates as expected.
fn table(cases: &[(&str, &str)]) {
    let failed: Vec<String> = (cases.iter())
        .filter_map(|(expr, want)| match ev(expr) {
            Ok(got) if got == serde_json::from_str::<Value>(want).unwrap() => None,
            other => Some(format!("{expr} -> {other:?}")),
        })
        .collect();
    assert!(failed.is_empty(), "failed:\n{}", failed.join("\n"));
}

/// Every expression fails with `States.QueryEvaluationError` and a cause containing `part`.
fn fails(cases: &[(&str, &str)]) {
    for (expr, part) in cases {
        let f = ev(expr).expect_err(expr);
        assert_eq!(f.error, errors::QUERY_EVALUATION_ERROR, "{expr}");
        assert!(f.cause.contains(part), "{expr}: {}", f.cause);
    }
}

#[test]
fn recognises_and_checks_expressions() {
    assert!(is_expression("{% 1 %}") && is_expression("{%1%}"));
    for text in [" {% 1 %}", "{% 1 %} ", "$.x", "{%}"] {
        assert!(!is_expression(text), "{text}");
    }
    assert!(check("{% $states.input.items[price > 10].name %}").is_ok());
    for bad in ["{% %}", "{% 1 + %}", "{% function($a){$a}(3) %}", "$.x"] {
        assert!(check(bad).is_err(), "{bad}");
    }
    let bad = json!({"a": ["{% 1 + %}"]});
    assert!(check_template(&bad).unwrap_err().contains("(at 'a[0]')"));
    assert!(check_template(&json!({"a": "{% 1 "})).is_err());
    assert!(check_template(&json!({"a": " {% 1 %}"})).is_err());
    assert!(check_template(&json!({"a": ["{% 1 %}", "100%", 3]})).is_ok());
}

#[test]
fn expressions_read_states_and_variables() {
    table(&[
        ("1 + 2", "3"),
        ("7 / 2", "3.5"),
        ("$states.input.x * 2", "6"),
        ("'Hello, ' & $states.input.name", r#""Hello, Ada""#),
        ("$states.input.nothing", "null"),
        (
            "$states.context.Execution.Id",
            r#""arn:aws:states:local:execution:sm:run-1""#,
        ),
        ("$states.result.ok", "true"),
        ("$customer", r#""María""#),
        ("$limit + 1", "11"),
        ("$unknownVariable ? 1 : 2", "2"),
        ("1/0", r#""Infinity""#),
    ]);
    // Variables named like built-in functions shadow them, as in JSONata.
    let shadowing = json!({"count": 7, "random": 0.5, "type": "t"});
    let got = ev_with("[$count + 1, $random, $sum([$count]), $type]", shadowing).unwrap();
    assert_eq!(got, json!([8, 0.5, 7, "t"]));
}

#[test]
fn templates_nest_through_objects_and_arrays() {
    let template = json!({
        "static": "Hello",
        "title": "{% $states.input.name %}",
        "not-evaluated": "$customer",
        "nested": {"list": [1, "{% $limit %}", {"deep": "{% $customer %}"}], "n": null},
        "spaced": " {% 1 %}"
    });
    let vars = json!({"customer": "María", "limit": 10});
    let out = evaluate_template(&template, &states(), vars.as_object().unwrap()).unwrap();
    let want = json!({
        "static": "Hello",
        "title": "Ada",
        "not-evaluated": "$customer",
        "nested": {"list": [1, 10, {"deep": "María"}], "n": null},
        "spaced": " {% 1 %}"
    });
    assert_eq!(out, want);
    let (states, vars) = (states(), Map::new());
    assert_eq!(
        evaluate_template(&json!("{% [1, 2] %}"), &states, &vars).unwrap(),
        json!([1, 2])
    );
    assert_eq!(
        evaluate_template(&json!(42), &states, &vars).unwrap(),
        json!(42)
    );
}

#[test]
fn undefined_parse_and_evaluation_errors() {
    fails(&[
        (
            "$states.input.absent",
            "'$states.input.absent' returned nothing (undefined).",
        ),
        (
            "$states.input.items[price > 100]",
            "returned nothing (undefined)",
        ),
        ("1 +", "evaluating the JSONata expression '1 +': S0"),
        ("'unterminated", "S0101"),
        ("$states.input.name + 1", "T2001"),
        ("$error('boom')", ": boom"),
        ("function($x) { $x }", "is a function"),
        ("$eval('1')", "T1006"),
        // jsonata-rs panics on these; the panic is caught.
        ("$states.input.items.(%.x)", "Parent not yet implemented"),
        ("function($a){$a}(3)", "engine failed"),
        (
            "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))",
            "U1001",
        ),
    ]);
    assert!(evaluate("$.x", &states(), &Map::new()).is_err());
    let template = json!({"a": {"b": [0, "{% $states.input.absent %}"]}});
    let f = evaluate_field("Output", &template, &states(), &Map::new()).unwrap_err();
    assert_eq!(
        f.cause,
        "The JSONata expression '$states.input.absent' specified for the field \
         'Output/a/b[1]' returned nothing (undefined)."
    );
}

#[test]
fn step_functions_functions() {
    table(&[
        ("$partition([1,2,3,4,5], 2)", "[[1, 2], [3, 4], [5]]"),
        ("$partition([1,2,3,4], 2.9)", "[[1, 2], [3, 4]]"),
        ("$range(0, 10, 2)", "[0, 2, 4, 6, 8, 10]"),
        ("$range(5, 0, -2)", "[5, 3, 1]"),
        ("$range(1, 1, 1)", "1"),
        (
            "$hash('input data', 'MD5')",
            r#""812f45842bc6d66ee14572ce20db8e86""#,
        ),
        (
            "$hash('abc', 'SHA-1')",
            r#""a9993e364706816aba3e25717850c26c9cd0d89d""#,
        ),
        (
            "$substring($hash('abc', 'SHA-256'), 0, 16)",
            r#""ba7816bf8f01cfea""#,
        ),
        (
            "$length($hash('abc', 'SHA-384')) + $length($hash('abc', 'SHA-512'))",
            "224",
        ),
        (
            "$random(42) = $random(42) and $random(42) != $random(43)",
            "true",
        ),
        ("$random() >= 0 and $random() < 1", "true"),
        ("$substring($uuid(), 14, 1) & $length($uuid())", r#""436""#),
        ("$parse($states.input.json)", r#"{"k": [1, 2.5]}"#),
        ("$parse('[1, \"a\"]')[1]", r#""a""#),
    ]);
    fails(&[
        ("$partition([1,2], 0)", "undefined"),
        ("$range(0, 10, -1)", "undefined"),
        (
            "$hash('abc', 'SHA-3')",
            "Unsupported hashing algorithm 'SHA-3'",
        ),
        ("$parse('{nope')", "not valid JSON"),
    ]);
}

#[test]
fn common_jsonata() {
    table(&[
        ("$sum($states.input.items.price)", "45"),
        ("$count($states.input.items)", "3"),
        ("$map([1,2,3], function($v) { $v * 2 })", "[2, 4, 6]"),
        ("$filter([1,2,3,4], function($v) { $v % 2 = 0 })", "[2, 4]"),
        ("$reduce([1,2,3], function($a, $b) { $a + $b })", "6"),
        (
            "[$string(42), $string({'a': 1}), $string(true)]",
            r#"["42", "{\"a\":1}", "true"]"#,
        ),
        ("$number('12.5')", "12.5"),
        ("$join(['a','b','c'], '-')", r#""a-b-c""#),
        ("$uppercase('abc') & $lowercase('DEF')", r#""ABCdef""#),
        ("$contains('hello', 'ell')", "true"),
        (
            "[$exists($states.input.x), $exists($states.input.absent)]",
            "[true, false]",
        ),
        ("$split('a,b', ',')", r#"["a", "b"]"#),
        ("$substring('hello', 1, 3)", r#""ell""#),
        ("$sort($keys({'a': 1, 'b': 2}))", r#"["a", "b"]"#),
        ("$merge([{'a': 1}, {'b': 2}])", r#"{"a": 1, "b": 2}"#),
        ("$states.input.items[price > 10].name", r#"["b", "c"]"#),
        ("$states.input.items[price > 20].name", r#""c""#),
        ("$states.input.items[-1].price", "25"),
        ("$states.input.x > 2 ? 'big' : 'small'", r#""big""#),
        (
            "{'n': $states.input.name, 't': $sum($states.input.items.price)}",
            r#"{"n": "Ada", "t": 45}"#,
        ),
        ("[1..3]", "[1, 2, 3]"),
        ("($states.input.items.{'k': name})[1]", r#"{"k": "b"}"#),
        (
            "$states.input.items{name: price}",
            r#"{"a": 5, "b": 15, "c": 25}"#,
        ),
        ("$states.input.items^(>price)[0].name", r#""c""#),
        (
            "[$max([1, 5, 3]), $round(2.567, 2), $abs(-2)]",
            "[5, 2.57, 2]",
        ),
        ("$distinct($append([1, 1], [2]))", "[1, 2]"),
        (
            "$replace('a-b', '-', '+') & $base64encode('hi')",
            r#""a+baGk=""#,
        ),
        (
            "($states.input ~> |items|{'n': 1}|).items[n = 1] ~> $count()",
            "3",
        ),
        (
            "$fromMillis(1700000000000, '[Y0001]-[M01]-[D01]')",
            r#""2023-11-14""#,
        ),
        ("($x := 5; $x * 2)", "10"),
        ("$type('x')", r#""string""#),
        (
            "[$type(null), $type(1), $type([]), $type({}), $type($sum)]",
            r#"["null", "number", "array", "object", "function"]"#,
        ),
        ("[$average([1, 2, 3, 4]), $average(3)]", "[2.5, 3]"),
    ]);
}
