//! Unit tests of the JSONPath evaluator.

use super::*;
use serde_json::json;

fn select(path: &str, input: &Value) -> Result<Value, Failure> {
    let (context, vars) = (json!({}), Map::new());
    let scope = Scope {
        input,
        context: &context,
        vars: &vars,
    };
    Path::parse(path).unwrap().select(&scope)
}

#[test]
fn selects_like_step_functions() {
    let input = json!({
        "foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true},
        "store.book": 1, "a b": {"c\"d": 2}, "x": {"@y": 3},
        "a": [1, 2, 3, 4], "v": [0, 10, 20, 30, 40, 50],
        "s": {"book": [{"by": "A", "p": 8}, {"by": "B", "p": 12}], "car": {"p": 19}},
        "i": [
            {"n": "a", "p": 5, "tags": ["x"]},
            {"n": "b", "p": 15, "isbn": null},
            {"n": "c", "p": 25, "tags": []}
        ],
        "limit": 20
    });
    for line in [
        // Reference paths from the docs.
        r#"$.foo => 123"#,
        r#"$.bar => ["a", "b", "c"]"#,
        r#"$.car.cdr => true"#,
        r#"$['car']["cdr"] => true"#,
        r#"$.bar[-1] => "c""#,
        // Escapes and brackets.
        r#"$.store\.book => 1"#,
        r#"$['a b']['c\"d'] => 2"#,
        r#"$.x.\@y => 3"#,
        r#"$.['store.book'] => 1"#,
        // Indefinite paths collect arrays (`$.a[0:2]` is the docs' example).
        r#"$.a[0:2] => [1, 2]"#,
        r#"$.a[0, 1] => [1, 2]"#,
        r#"$.v[-3:] => [30, 40, 50]"#,
        r#"$.v[::-2] => [50, 30, 10]"#,
        r#"$.v[4:1:-1] => [40, 30, 20]"#,
        r#"$.a[*] => [1, 2, 3, 4]"#,
        r#"$.a[9:] => []"#,
        r#"$.car.* => [true]"#,
        r#"$.s..by => ["A", "B"]"#,
        r#"$.s..p => [8, 12, 19]"#,
        r#"$.s['car','book'][0].by => ["A"]"#,
        r#"$.s.car[?(@.p > 10)].p => [19]"#,
        // Filters.
        r#"$.i[?(@.p > 10)].n => ["b", "c"]"#,
        r#"$.i[?(@.p >= 5 && @.n != 'c')].n => ["a", "b"]"#,
        r#"$.i[?(@.p < 9 || @.n == "c")].n => ["a", "c"]"#,
        r#"$.i[?(@.isbn)].n => ["b"]"#,
        r#"$.i[?(!@.tags)].n => ["b"]"#,
        r#"$.i[?(@.p > $.limit)].n => ["c"]"#,
        r#"$.i[?(@.n in ['a', 'c'])].p => [5, 25]"#,
        r#"$.i[?(@.n nin ['a', 'c'])].p => [15]"#,
        r#"$.i[?((@.p == 5.0))].n => ["a"]"#,
        r#"$.i[?(@.isbn != 1)].n => ["a", "b", "c"]"#,
        r#"$.i[?(@.p > 100)] => []"#,
        r#"$.i[*].isbn => [null]"#,
    ] {
        let (path, expected) = line.split_once(" => ").unwrap();
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(select(path, &input).unwrap(), expected, "{path}");
    }
    assert_eq!(select("$", &input).unwrap(), input);
    for text in [
        "$.foo",
        "$.b[0]",
        "$['a b'][2]",
        r"$.a\.b",
        "$$.Execution",
        "$v.x",
    ] {
        assert!(Path::parse(text).unwrap().is_reference(), "{text}");
    }
    for text in [
        "$.a[*]",
        "$..a",
        "$.a[0:2]",
        "$.a[?(@.b)]",
        "$.a[0,1]",
        "$['a','b']",
    ] {
        assert!(!Path::parse(text).unwrap().is_reference(), "{text}");
    }
}

#[test]
fn missing_values_fail_for_definite_paths() {
    let input = json!({"a": {"b": 1}, "list": [1]});
    let failure = select("$.x", &input).unwrap_err();
    assert_eq!(failure.error, errors::RUNTIME);
    assert_eq!(
        failure.cause,
        r#"The JSONPath '$.x' could not be found in the input '{"a":{"b":1},"list":[1]}'"#
    );
    for path in ["$.a.b.c", "$.list[1]", "$.a[0]", "$.list.x"] {
        assert!(select(path, &input).is_err(), "{path}");
    }
    assert_eq!(select("$.a[*].c", &input).unwrap(), json!([]));
}

#[test]
fn context_and_variables() {
    let (input, context) = (json!({}), json!({"Execution": {"Id": "exec-1"}}));
    let vars = Map::from_iter([("order".to_string(), json!({"items": [{"id": 7}]}))]);
    let scope = Scope {
        input: &input,
        context: &context,
        vars: &vars,
    };
    let path = |t: &str| Path::parse(t).unwrap();
    for (text, expected) in [
        ("$$.Execution.Id", Some(json!("exec-1"))),
        ("$$", Some(context.clone())),
        ("$order.items[0].id", Some(json!(7))),
        ("$order.items[*].id", Some(json!([7]))),
        ("$order.missing", None),
        ("$order.items[?(@.id > 9)]", None),
        ("$nope", None),
    ] {
        assert_eq!(path(text).select_optional(&scope), Ok(expected), "{text}");
    }
    assert_eq!(path("$order").root(), &Root::Variable("order".into()));
    assert_eq!(path("$$.x").root(), &Root::Context);
    let unknown = path("$nope.x").select(&scope).unwrap_err();
    assert!(unknown.cause.contains("'nope'"), "{}", unknown.cause);
    let field = path("$.x")
        .select_for_field(&scope, "x.$")
        .unwrap_err()
        .cause;
    assert!(field.starts_with("The JSONPath '$.x' specified for the field 'x.$' could not"));
}

#[test]
fn invalid_paths() {
    for (text, expected) in [
        ("", "must start with '$'"),
        ("a.b", "must start with '$'"),
        ("$.", "expected a field name"),
        ("$..", "expected a field name"),
        ("$[", "expected an index"),
        ("$['a'", "expected ']'"),
        ("$['a", "unterminated"),
        ("$[a]", "expected an index"),
        ("$.a[1:2:0]", "must not be 0"),
        ("$.a.length()", "functions such as 'length()'"),
        ("$x-y", "unexpected '-'"),
        ("$.a[?(@.b =~ /x/)]", "unsupported filter operator"),
        ("$.a[?(@.b empty true)]", "operator 'empty'"),
        ("$.a[?($x.b)]", "only '@' and '$'"),
        ("$.a[?(@.b == nope)]", "invalid filter value"),
        ("$.a[?(1)]", "expected a comparison"),
        ("$.a\\", "escape backslash"),
    ] {
        let error = Path::parse(text).unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
    }
}

/// Applies `path` as a ResultPath writing 6 into `target`.
fn set(path: &str, mut target: Value) -> Result<Value, Failure> {
    let path = Path::parse(path).unwrap();
    path.set_reference(&mut target, json!(6)).map(|()| target)
}

#[test]
fn result_paths() {
    let raw = json!({"master": {"detail": [1, 2, 3]}});
    let sum = json!({"master": {"detail": [1, 2, 3], "result": {"sum": 6}}});
    for (path, target, expected) in [
        // The examples of the specification.
        (
            "$.master.detail",
            raw.clone(),
            json!({"master": {"detail": 6}}),
        ),
        ("$.master.result.sum", raw.clone(), sum),
        (
            "$.b.greeting",
            json!({"a": 1}),
            json!({"a": 1, "b": {"greeting": 6}}),
        ),
        ("$", raw.clone(), json!(6)),
        (
            "$.master.detail[-2]",
            raw.clone(),
            json!({"master": {"detail": [1, 6, 3]}}),
        ),
        ("$.n.x", json!({"n": null}), json!({"n": {"x": 6}})),
    ] {
        assert_eq!(set(path, target).unwrap(), expected, "{path}");
    }
    let failure = set("$.x", json!("foo")).unwrap_err();
    assert_eq!(failure.error, errors::RESULT_PATH_MATCH_FAILURE);
    let cause = r#"Unable to apply ReferencePath '$.x' to input '"foo"'"#;
    assert_eq!(failure.cause, cause);
    for bad in [
        "$.master.detail.x",
        "$.master.detail[5]",
        "$.master.y[0]",
        "$$.x",
        "$v",
    ] {
        let mut target = raw.clone();
        let failure = Path::parse(bad)
            .unwrap()
            .set_reference(&mut target, json!(1));
        assert_eq!(
            failure.unwrap_err().error,
            errors::RESULT_PATH_MATCH_FAILURE,
            "{bad}"
        );
        assert_eq!(target, raw, "{bad} must leave the target untouched");
    }
}

#[test]
fn json_equality_compares_numbers_by_value() {
    assert!(json_equal(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
    assert!(!json_equal(&json!([1]), &json!(["1"])));
}
