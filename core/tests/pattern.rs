//! EventBridge event patterns: the shared case table (`tests/patterns/cases.json`, also run by
//! the Python and Node bindings), `PatternSet` against one-by-one matching, and error reporting.

use agent_mesh::{ErrorKind, EventPattern, PatternSet, test_event_pattern};
use serde_json::{Value, json};

fn cases() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/patterns/cases.json");
    let text = std::fs::read_to_string(path).expect("read tests/patterns/cases.json");
    match serde_json::from_str(&text).expect("cases.json is JSON") {
        Value::Array(cases) => cases,
        other => panic!("cases.json must be an array, got {other}"),
    }
}

#[test]
fn shared_cases() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().expect("every case has a name");
        let result = test_event_pattern(&case["pattern"], case.get("event").unwrap_or(&json!({})));
        match (
            case.get("matches").and_then(Value::as_bool),
            case.get("error").and_then(Value::as_str),
            &result,
        ) {
            (Some(want), None, Ok(got)) if *got == want => {}
            (None, Some(want), Err(err))
                if err.kind == ErrorKind::InvalidInput && err.message.contains(want) => {}
            (Some(_), Some(_), _) | (None, None, _) => {
                failures.push(format!("{name}: needs exactly one of matches/error"))
            }
            _ => failures.push(format!(
                "{name}: expected {}, got {result:?}",
                case.get("error").map_or_else(
                    || format!("matches={}", case["matches"]),
                    |e| format!("error containing {e}")
                )
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn shared_cases_match_the_same_from_json_text() {
    let mut compared = 0;
    for case in &cases() {
        let name = case["name"].as_str().expect("every case has a name");
        let Ok(pattern) = EventPattern::compile(&case["pattern"]) else {
            continue;
        };
        let event = case.get("event").cloned().unwrap_or_else(|| json!({}));
        let text = event.to_string();
        match &event {
            Value::Object(_) => {
                let want = pattern.matches(&event);
                assert_eq!(pattern.matches_json(&text), Ok(want), "{name}: {text}");
                let pretty = serde_json::to_string_pretty(&event).expect("serialize");
                assert_eq!(pattern.matches_json(&pretty), Ok(want), "{name}: {pretty}");
                let mut set = PatternSet::new();
                set.add(name, pattern.clone());
                let want = if want { vec![name] } else { vec![] };
                assert_eq!(set.matching_json(&text), Ok(want), "{name}: {text}");
                compared += 1;
            }
            _ => {
                let err = pattern.matches_json(&text).unwrap_err();
                assert_eq!(err.kind, ErrorKind::InvalidInput, "{name}");
            }
        }
    }
    assert!(compared >= 100, "only {compared} cases compared");
}

#[test]
fn matching_json_rejects_what_is_not_a_json_object() {
    let pattern = EventPattern::compile(&json!({"a": [{"exists": false}]})).unwrap();
    let mut set = PatternSet::new();
    set.add(1, pattern.clone());
    for bad in [
        "",
        "[]",
        "1",
        "null",
        "\"a\"",
        "{",
        "{\"a\": 1,}",
        "{} x",
        "{\"b\": [}",
    ] {
        let err = pattern.matches_json(bad).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{bad}");
        let err = set.matching_json(bad).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{bad}");
    }
    assert_eq!(pattern.matches_json(" {\"b\": {\"a\": 1}} "), Ok(true));
    assert_eq!(
        set.matching_json(r#"{"a": {"x": 1}, "a": [{"y": [null]}]}"#),
        Ok(vec![1])
    );
    assert_eq!(
        set.matching_json(r#"{"a": {"x": 1}, "a": [[null]]}"#),
        Ok(vec![])
    );
}

#[test]
fn shared_cases_cover_every_operator() {
    let text = serde_json::to_string(&cases()).expect("serialize");
    for operator in [
        "\"prefix\"",
        "\"suffix\"",
        "\"equals-ignore-case\"",
        "\"wildcard\"",
        "\"anything-but\"",
        "\"numeric\"",
        "\"exists\"",
        "\"cidr\"",
        "\"$or\"",
    ] {
        assert!(text.contains(operator), "no case uses {operator}");
    }
}

#[test]
fn invalid_patterns_name_the_path() {
    for (pattern, path) in [
        (
            json!({"detail": {"amount": [{"numeric": ["<", "x"]}]}}),
            "detail.amount",
        ),
        (json!({"detail": {"state": "running"}}), "detail.state"),
        (
            json!({"source": ["x"], "$or": [{"a": [1]}, {"b": {"c": [{"cidr": "nope"}]}}]}),
            "$or[1].b.c",
        ),
        (json!({"source": []}), "source"),
    ] {
        let err = EventPattern::compile(&pattern).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput, "{pattern}");
        assert!(
            err.message
                .contains(&format!("invalid event pattern at {path}:")),
            "{pattern}: {}",
            err.message
        );
        assert_eq!(err.context_value("key"), Some(path));
        assert_eq!(err.context_value("operation"), Some("event_pattern"));
    }
    let err = test_event_pattern(&json!({"a": [1]}), &json!("not an object")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert!(
        err.message.contains("must be a JSON object"),
        "{}",
        err.message
    );
    assert_eq!(
        EventPattern::parse("[1").unwrap_err().kind,
        ErrorKind::InvalidInput
    );
}

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const SOURCES: &[&str] = &[
    "shop.orders",
    "shop.payments",
    "shop.shipping",
    "aws.ec2",
    "aws.s3",
];
const TYPES: &[&str] = &[
    "Order Placed",
    "Order Shipped",
    "Payment Failed",
    "Object Created",
];
const STATES: &[&str] = &["new", "pending", "paid", "failed", "shipped"];
const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "ap-south-1"];

fn event(rng: &mut Rng) -> Value {
    let items: Vec<Value> = (0..rng.next() % 3)
        .map(|_| json!({"sku": format!("sku-{}", rng.next() % 5), "qty": rng.next() % 4}))
        .collect();
    let mut event = json!({
        "source": rng.pick(SOURCES),
        "detail-type": rng.pick(TYPES),
        "region": rng.pick(REGIONS),
        "resources": [format!("arn:aws:s3:::bucket-{}", rng.next() % 3)],
        "detail": {
            "state": rng.pick(STATES),
            "amount": (rng.next() % 2000) as f64 / 10.0,
            "customer": {"id": format!("c-{}", rng.next() % 20), "vip": rng.next().is_multiple_of(2)},
            "items": items,
            "ip": format!("10.0.{}.{}", rng.next() % 4, rng.next() % 255),
        }
    });
    if rng.next().is_multiple_of(4) {
        event["detail"]["note"] = Value::Null;
    }
    event
}

fn pattern(rng: &mut Rng) -> Value {
    let leaf = |rng: &mut Rng| -> (Vec<&'static str>, Value) {
        match rng.next() % 16 {
            0 => (
                vec!["source"],
                json!([rng.pick(SOURCES), rng.pick(SOURCES)]),
            ),
            1 => (
                vec!["source"],
                json!([{"prefix": rng.pick(&["shop.", "aws.", "shop.p", ""])}]),
            ),
            2 => (vec!["detail-type"], json!([rng.pick(TYPES)])),
            3 => (
                vec!["region"],
                json!([{"prefix": rng.pick(&["us-", "eu-"])}]),
            ),
            4 => (vec!["detail", "state"], json!([rng.pick(STATES)])),
            5 => (
                vec!["detail", "state"],
                json!([{"anything-but": [rng.pick(STATES), rng.pick(STATES)]}]),
            ),
            6 => (
                vec!["detail", "amount"],
                json!([{"numeric": [">", (rng.next() % 150) as f64, "<=", 200]}]),
            ),
            7 => (
                vec!["detail", "customer", "id"],
                json!([format!("c-{}", rng.next() % 20)]),
            ),
            8 => (
                vec!["detail", "customer", "vip"],
                json!([rng.next().is_multiple_of(2)]),
            ),
            9 => (
                vec!["detail", "items", "sku"],
                json!([format!("sku-{}", rng.next() % 5)]),
            ),
            10 => (
                vec!["detail", "items", "qty"],
                json!([{"numeric": [">=", 2]}]),
            ),
            11 => (
                vec!["detail", "note"],
                json!([{"exists": rng.next().is_multiple_of(2)}]),
            ),
            12 => (vec!["detail", "ip"], json!([{"cidr": "10.0.1.0/24"}])),
            13 => (
                vec!["resources"],
                json!([{"suffix": format!("-{}", rng.next() % 3)}]),
            ),
            14 => (
                vec!["detail-type"],
                json!([{"equals-ignore-case": "order placed"}, {"wildcard": "*Failed"}]),
            ),
            _ => (vec!["detail", "note"], json!([null])),
        }
    };
    let mut pattern = json!({});
    for _ in 0..1 + rng.next() % 3 {
        let (path, value) = leaf(rng);
        insert(&mut pattern, &path, value);
    }
    if rng.next().is_multiple_of(5) {
        let (a, va) = leaf(rng);
        let (b, vb) = leaf(rng);
        let (mut left, mut right) = (json!({}), json!({}));
        insert(&mut left, &a, va);
        insert(&mut right, &b, vb);
        if EventPattern::compile(&json!({"$or": [left.clone(), right.clone()], "zz": [1]})).is_ok()
        {
            pattern["$or"] = json!([left, right]);
        }
    }
    pattern
}

fn insert(target: &mut Value, path: &[&str], value: Value) {
    let mut node = target;
    for step in &path[..path.len() - 1] {
        node = node
            .as_object_mut()
            .expect("object")
            .entry(*step)
            .or_insert_with(|| json!({}));
    }
    node[path[path.len() - 1]] = value;
}

#[test]
fn pattern_set_agrees_with_one_by_one_matching() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let events: Vec<Value> = (0..400).map(|_| event(&mut rng)).collect();
    let mut patterns = Vec::new();
    while patterns.len() < 300 {
        let json = pattern(&mut rng);
        // Generated paths may collide across $or and the outer object; skip those.
        if let Ok(p) = EventPattern::compile(&json) {
            patterns.push(p);
        }
    }
    let mut set = PatternSet::new();
    for (i, p) in patterns.iter().enumerate() {
        set.add(i, p.clone());
    }
    assert_eq!(set.len(), patterns.len());
    let texts: Vec<String> = events.iter().map(Value::to_string).collect();
    let check = |set: &PatternSet<usize>, live: &dyn Fn(usize) -> bool| {
        let mut total = 0;
        for (event, text) in events.iter().zip(&texts) {
            let mut got = set.matching(event);
            got.sort_unstable();
            let want: Vec<usize> = (0..patterns.len())
                .filter(|&i| live(i) && patterns[i].matches(event))
                .collect();
            assert_eq!(got, want, "event {event}");
            let mut got = set.matching_json(text).expect("an object");
            got.sort_unstable();
            assert_eq!(got, want, "event text {text}");
            for i in (0..patterns.len()).filter(|&i| live(i)) {
                let one = patterns[i].matches_json(text).expect("an object");
                assert_eq!(one, want.contains(&i), "pattern {i}, event text {text}");
            }
            total += want.len();
        }
        total
    };
    let total = check(&set, &|_| true);
    assert!(
        total > events.len(),
        "the corpus should produce matches, got {total}"
    );

    // Remove every third pattern, then re-add half of them under new ids.
    for i in (0..patterns.len()).step_by(3) {
        assert!(set.remove(&i).is_some());
    }
    check(&set, &|i| i % 3 != 0);
    for i in (0..patterns.len()).step_by(6) {
        set.add(i, patterns[i].clone());
    }
    check(&set, &|i| i % 3 != 0 || i % 6 == 0);
    assert!(set.contains(&0) && !set.contains(&3));
    assert_eq!(
        set.get(&0).map(EventPattern::as_json),
        Some(patterns[0].as_json())
    );
    assert_eq!(set.iter().count(), set.len());
}

#[test]
fn pattern_set_for_each_match_reports_each_pattern_once() {
    let mut set = PatternSet::new();
    set.add(
        "either",
        EventPattern::compile(&json!({"$or": [{"a": ["x"]}, {"b": [{"prefix": "y"}]}]})).unwrap(),
    );
    set.add(
        "array",
        EventPattern::compile(&json!({"tags": ["t1", "t2"]})).unwrap(),
    );
    let mut seen = Vec::new();
    set.for_each_match(
        &json!({"a": "x", "b": "yes", "tags": ["t1", "t2", "t1"]}),
        |id| seen.push(*id),
    );
    seen.sort_unstable();
    assert_eq!(seen, vec!["array", "either"]);
}
