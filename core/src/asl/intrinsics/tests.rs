//! Unit tests of the intrinsic functions.

use super::*;
use serde_json::json;

/// Evaluates `text` against one input holding the data of every example in the docs.
fn eval(text: &str) -> Result<Value, Failure> {
    let input = json!({
        "name": "Arnav", "template": "Hello, my name is {}.", "n": 3, "s": "x".repeat(10_001),
        "someString": "{\"number\": 20}", "someJson": {"name": "Foo", "year": 2020}, "bad": "{",
        "inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5, "index": 5,
        "dups": [1, 2, 3, 3, 3, 3, 3, 3, 4, 1.0, {"x": 1, "y": [2]}, {"y": [2], "x": 1}],
        "json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1}, "c": 3},
        "input": "Data to encode", "base64": "RGF0YSB0byBlbmNvZGU=",
        "Data": "input data", "Algorithm": "SHA-1",
        "value1": 111, "step": -1, "start": 1, "end": 999,
        "inputString": "1,2,3,4,5", "splitter": ",", "list": [1, "a"], "map": {"k": [true]},
        "ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:1:image-recipe/r/1.2.3"},
        "items": [{"n": 1}, {"n": 2}], "a,b": 7
    });
    let context = json!({"Day": "TUESDAY"});
    let vars = Map::from_iter([("hi".into(), json!("hi"))]);
    let scope = Scope {
        input: &input,
        context: &context,
        vars: &vars,
    };
    Intrinsic::parse(text)
        .unwrap_or_else(|e| panic!("{e}"))
        .evaluate(&scope)
}

/// Splits a `left => right` test case.
fn case(line: &str) -> (&str, &str) {
    line.split_once(" => ").unwrap()
}

#[test]
fn examples_from_the_docs_and_more() {
    let part = |i: usize| {
        let arn = "States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2)";
        format!("States.ArrayGetItem(States.StringSplit({arn}, '.'), {i})")
    };
    let nested = format!(
        "States.Format('{{}}.{{}}', {}, {}) => \"1.2\"",
        part(0),
        part(1)
    );
    for line in [
        r#"States.Format('Hello, my name is {}.', $.name) => "Hello, my name is Arnav.""#,
        r#"States.Format($.template, $.name) => "Hello, my name is Arnav.""#,
        r#"States.Format('Name {}, year {}', $.name, 2020) => "Name Arnav, year 2020""#,
        r#"States.Format('Welcome to {}\'s list.', $.name) => "Welcome to Arnav's list.""#,
        r#"States.Format('Today is {}', $$.Day) => "Today is TUESDAY""#,
        r#"States.Format('\{{}\} \\ {} {} {}', $hi, true, null, 2.5) => "{hi} \\ true null 2.5""#,
        r#"States.Format('{} {}', $.list, $.map) => "[1, a] {k=[true]}""#,
        r#"States.StringToJson($.someString) => {"number": 20}"#,
        r#"States.JsonToString($.someJson) => "{\"name\":\"Foo\",\"year\":2020}""#,
        r#"States.Array('Foo', 2020, $.n, null) => ["Foo", 2020, 3, null]"#,
        r#"States.Array() => []"#,
        r#"States.ArrayPartition($.inputArray,4) => [[1, 2, 3, 4], [5, 6, 7, 8], [9]]"#,
        r#"States.ArrayContains($.inputArray, $.lookingFor) => true"#,
        r#"States.ArrayContains($.inputArray, 'x') => false"#,
        r#"States.ArrayRange(1, 9, 2) => [1, 3, 5, 7, 9]"#,
        r#"States.ArrayRange(9, 1, -4) => [9, 5, 1]"#,
        r#"States.ArrayRange(1, 0, 2) => []"#,
        r#"States.ArrayRange(3, 3, -1) => [3]"#,
        r#"States.ArrayRange(0.6, 2.4, 1) => [1, 2]"#,
        r#"States.ArrayGetItem($.inputArray, $.index) => 6"#,
        r#"States.ArrayLength($.inputArray) => 9"#,
        r#"States.ArrayUnique($.dups) => [1, 2, 3, 4, {"x": 1, "y": [2]}]"#,
        r#"States.Base64Encode($.input) => "RGF0YSB0byBlbmNvZGU=""#,
        // The docs print "Decoded data" here, but the text decodes to "Data to encode".
        r#"States.Base64Decode($.base64) => "Data to encode""#,
        // The docs print this SHA-1 digest with a digit missing.
        r#"States.Hash($.Data, $.Algorithm) => "aaff4a450a104cd177d28d18d74485e8cae074b7""#,
        r#"States.Hash('input data', 'MD5') => "812f45842bc6d66ee14572ce20db8e86""#,
        r#"States.JsonMerge($.json1, $.json2, false) => {"a": {"a3": 1}, "b": 2, "c": 3}"#,
        r#"States.MathAdd($.value1, $.step) => 110"#,
        r#"States.MathAdd(1.5, -0.4) => 2"#,
        r#"States.StringSplit($.inputString, $.splitter) => ["1", "2", "3", "4", "5"]"#,
        r#"States.StringSplit('This.is+a,test', '.+,') => ["This", "is", "a", "test"]"#,
        r#"States.Array($.items[?(@.n > 1)].n, $['a,b'], States.ArrayLength($.items)) => [[2], 7, 2]"#,
        &nested,
    ] {
        let (text, expected) = case(line);
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(
            eval(text).unwrap_or_else(|e| panic!("{text}: {e}")),
            expected,
            "{text}"
        );
    }
    for (algorithm, len) in [("SHA-256", 64), ("SHA-384", 96), ("SHA-512", 128)] {
        let digest = eval(&format!("States.Hash('x', '{algorithm}')")).unwrap();
        assert_eq!(digest.as_str().unwrap().len(), len);
    }
    assert_eq!(
        eval("States.ArrayRange(1, 1000, 1)")
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    let random = eval("States.MathRandom($.start, $.end)")
        .unwrap()
        .as_i64()
        .unwrap();
    assert!((1..=999).contains(&random));
    let seeded = "States.MathRandom(1, 1000000, 7)";
    assert_eq!(eval(seeded).unwrap(), eval(seeded).unwrap());
    let uuid = eval("States.UUID()").unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(uuid.as_str().unwrap())
            .unwrap()
            .get_version_num(),
        4
    );
}

#[test]
fn evaluation_failures() {
    for line in [
        "States.Format('{} {}', 1) => 2 placeholder(s) but 1 value(s)",
        "States.Format($.n) => must be a string",
        "States.StringToJson($.bad) => not valid JSON",
        "States.JsonMerge($.json1, $.n, false) => must be a JSON object",
        "States.JsonMerge($.json1, $.json2, $.n) => only shallow merging",
        "States.ArrayRange(0, 1000, 1) => 1001 items",
        "States.ArrayRange(0, 10, 0) => must not be 0",
        "States.ArrayGetItem($.inputArray, 9) => out of bounds",
        "States.ArrayGetItem($.inputArray, 1.5) => must be an integer",
        "States.ArrayPartition($.inputArray, 0) => positive",
        "States.ArrayLength($.index) => must be an array",
        "States.Base64Decode('%%%') => invalid Base64",
        "States.Base64Encode($.s) => at most 10000",
        "States.Hash($.s, 'MD5') => at most 10000",
        "States.Hash('x', 'SHA-2') => unknown algorithm",
        "States.MathAdd(2147483648, 1) => outside the range",
        "States.MathRandom(5, 1) => greater than",
        "States.StringSplit($.n, ',') => must be a string",
    ] {
        let (text, expected) = case(line);
        let failure = eval(text).unwrap_err();
        assert_eq!(failure.error, errors::INTRINSIC_FAILURE, "{text}");
        assert!(
            failure.cause.contains(expected),
            "{text}: {}",
            failure.cause
        );
    }
    assert_eq!(
        eval("States.Array($.nope)").unwrap_err().error,
        errors::RUNTIME
    );
}

#[test]
fn parse_errors() {
    let nest = |depth| format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth));
    assert!(Intrinsic::parse(&nest(10)).is_ok());
    let too_deep = format!("{} => nested at most 10", nest(11));
    for line in [
        "States.Nope() => unknown intrinsic function",
        "States.UUID(1) => takes 0 argument",
        "States.ArrayRange(1, 2) => takes 3 argument",
        "States.MathRandom(1) => takes 2 to 3",
        "States.Format() => at least 1",
        "States.Format(1, 2) => must be a string",
        "States.JsonToString('x') => takes a path",
        "States.JsonMerge($.a, $.b, true) => shallow",
        "States.Array('abc => unterminated",
        r"States.Array('a\b') => escape backslash",
        "States.Array('{') => must be escaped",
        "States.Array('}') => must be escaped",
        "States.Array(1 2) => expected ','",
        "States.Array(nope) => expected a string",
        "States.Array(1) x => unexpected 'x'",
        "States.Array($.a[) => invalid JSONPath",
        "States.Array => expected '('",
        &too_deep,
    ] {
        let (text, expected) = case(line);
        let error = Intrinsic::parse(text).unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
    }
    assert!(looks_like_intrinsic("States.UUID()") && !looks_like_intrinsic("$.States"));
}
