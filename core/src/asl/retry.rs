//! `Retry` and `Catch`: which errors they match, and how long a retry waits.

use std::time::Duration;

/// Largest `IntervalSeconds` and `MaxAttempts` Step Functions accepts.
const MAX_INTERVAL: f64 = 99_999_999.0;
/// Largest `MaxDelaySeconds` Step Functions accepts (one year and a day), and the longest
/// delay ever computed.
const MAX_DELAY_SECONDS: f64 = 31_622_401.0;

use serde_json::Value;

use super::definition::QueryLanguage;
use super::errors;
use super::path::Path;

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: f64,
    /// `MaxAttempts` (default 3; 0 = never retry).
    pub max_attempts: u32,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy: FULL`.
    pub full_jitter: bool,
}

/// One `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: String,
    /// `ResultPath` (`None` = `$`; `Some(None)` = discard the error output).
    pub result_path: Option<Option<Path>>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign` (a JSONPath template or JSONata template value).
    pub assign: Option<Value>,
}

/// Whether a retrier or catcher listing `error_equals` handles `error`.
///
/// `States.ALL` matches every error and `States.TaskFailed` every error but `States.Timeout`;
/// neither matches the terminal `States.Runtime` and `States.DataLimitExceeded`, which no
/// `Retry` or `Catch` handles.
pub fn matches(error_equals: &[String], error: &str) -> bool {
    if error == errors::RUNTIME || error == errors::DATA_LIMIT_EXCEEDED {
        return false;
    }
    error_equals.iter().any(|e| {
        e == error
            || e == errors::ALL
            || (e == errors::TASK_FAILED
                && error != errors::TIMEOUT
                && error != errors::HEARTBEAT_TIMEOUT)
    })
}

fn error_equals(
    obj: &serde_json::Map<String, Value>,
    at: &str,
    last: bool,
    problems: &mut Vec<String>,
) -> Vec<String> {
    let list: Vec<String> = match obj.get("ErrorEquals").and_then(Value::as_array) {
        Some(items) if !items.is_empty() => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => {
            problems.push(format!(
                "{at}/ErrorEquals: is required: a non-empty array of error names"
            ));
            return Vec::new();
        }
    };
    if list.iter().any(|e| e == errors::ALL) && (list.len() > 1 || !last) {
        problems.push(format!(
            "{at}/ErrorEquals: States.ALL must appear alone and in the last entry"
        ));
    }
    list
}

fn entries<'a>(
    value: Option<&'a Value>,
    at: &str,
    problems: &mut Vec<String>,
) -> Vec<&'a serde_json::Map<String, Value>> {
    match value {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let o = v.as_object();
                if o.is_none() {
                    problems.push(format!("{at}[{i}]: must be an object"));
                }
                o
            })
            .collect(),
        Some(_) => {
            problems.push(format!("{at}: must be an array"));
            Vec::new()
        }
    }
}

fn unknown_fields(
    obj: &serde_json::Map<String, Value>,
    allowed: &[&str],
    at: &str,
    problems: &mut Vec<String>,
) {
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        problems.push(format!("{at}/{key}: this field is not supported here"));
    }
}

impl Retrier {
    /// Parses a `Retry` array, adding problems (with locations) to `problems`.
    pub fn parse_all(value: Option<&Value>, at: &str, problems: &mut Vec<String>) -> Vec<Retrier> {
        let items = entries(value, at, problems);
        let count = items.len();
        items
            .into_iter()
            .enumerate()
            .map(|(i, obj)| {
                let eat = format!("{at}[{i}]");
                unknown_fields(
                    obj,
                    &[
                        "ErrorEquals",
                        "IntervalSeconds",
                        "MaxAttempts",
                        "BackoffRate",
                        "MaxDelaySeconds",
                        "JitterStrategy",
                        "Comment",
                    ],
                    &eat,
                    problems,
                );
                let number =
                    |field: &str, default: f64, min: f64, problems: &mut Vec<String>| match obj
                        .get(field)
                    {
                        None => default,
                        Some(v) => match v.as_f64() {
                            Some(n) if n >= min => n,
                            _ => {
                                problems.push(format!("{eat}/{field}: must be a number >= {min}"));
                                default
                            }
                        },
                    };
                let at_most = |field: &str, value: f64, max: f64, problems: &mut Vec<String>| {
                    if value > max {
                        problems.push(format!("{eat}/{field}: must be at most {max}"));
                    }
                    value.min(max)
                };
                let interval_seconds = number("IntervalSeconds", 1.0, 1.0, problems);
                let interval_seconds =
                    at_most("IntervalSeconds", interval_seconds, MAX_INTERVAL, problems);
                let max_attempts = number("MaxAttempts", 3.0, 0.0, problems);
                let max_attempts =
                    at_most("MaxAttempts", max_attempts, MAX_INTERVAL, problems) as u32;
                let backoff_rate = number("BackoffRate", 2.0, 1.0, problems);
                let max_delay_seconds = obj
                    .get("MaxDelaySeconds")
                    .map(|_| number("MaxDelaySeconds", 0.0, 1.0, problems))
                    .map(|d| at_most("MaxDelaySeconds", d, MAX_DELAY_SECONDS, problems));
                let full_jitter = match obj.get("JitterStrategy").and_then(Value::as_str) {
                    None | Some("NONE") => false,
                    Some("FULL") => true,
                    Some(other) => {
                        problems.push(format!(
                            "{eat}/JitterStrategy: '{other}' must be FULL or NONE"
                        ));
                        false
                    }
                };
                Retrier {
                    error_equals: error_equals(obj, &eat, i + 1 == count, problems),
                    interval_seconds,
                    max_attempts,
                    backoff_rate,
                    max_delay_seconds,
                    full_jitter,
                }
            })
            .collect()
    }

    /// How long to wait before retry number `attempt` (1 for the first retry), at most
    /// [`MAX_DELAY_SECONDS`].
    pub fn delay(&self, attempt: u32) -> Duration {
        let mut seconds =
            self.interval_seconds * self.backoff_rate.powi(attempt.saturating_sub(1) as i32);
        if let Some(max) = self.max_delay_seconds {
            seconds = seconds.min(max);
        }
        if self.full_jitter {
            seconds *= rand::random::<f64>();
        }
        // Past a year (a Standard execution's longest life) a delay means "never"; capping it
        // keeps the arithmetic finite whatever the BackoffRate and attempt count.
        Duration::try_from_secs_f64(seconds.clamp(0.0, MAX_DELAY_SECONDS))
            .unwrap_or(Duration::from_secs_f64(MAX_DELAY_SECONDS))
    }
}

impl Catcher {
    /// Parses a `Catch` array, adding problems (with locations) to `problems`.
    pub fn parse_all(
        value: Option<&Value>,
        at: &str,
        language: QueryLanguage,
        problems: &mut Vec<String>,
    ) -> Vec<Catcher> {
        let items = entries(value, at, problems);
        let count = items.len();
        items
            .into_iter()
            .enumerate()
            .map(|(i, obj)| {
                let eat = format!("{at}[{i}]");
                let allowed: &[&str] = match language {
                    QueryLanguage::JsonPath => {
                        &["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"]
                    }
                    QueryLanguage::Jsonata => {
                        &["ErrorEquals", "Next", "Output", "Assign", "Comment"]
                    }
                };
                unknown_fields(obj, allowed, &eat, problems);
                let next = match obj.get("Next").and_then(Value::as_str) {
                    Some(n) => n.to_owned(),
                    None => {
                        problems.push(format!("{eat}/Next: is required"));
                        String::new()
                    }
                };
                let result_path = match obj.get("ResultPath") {
                    None => None,
                    Some(Value::Null) => Some(None),
                    Some(Value::String(p)) => match Path::parse(p) {
                        Ok(path) if path.is_reference() => Some(Some(path)),
                        Ok(_) => {
                            problems
                                .push(format!("{eat}/ResultPath: '{p}' must be a reference path"));
                            None
                        }
                        Err(e) => {
                            problems.push(format!("{eat}/ResultPath: invalid JSONPath '{p}': {e}"));
                            None
                        }
                    },
                    Some(_) => {
                        problems.push(format!(
                            "{eat}/ResultPath: must be a JSONPath string or null"
                        ));
                        None
                    }
                };
                for field in ["Output", "Assign"] {
                    if let Some(v) = obj.get(field) {
                        let checked = match language {
                            QueryLanguage::Jsonata => super::jsonata::check_template(v),
                            QueryLanguage::JsonPath => {
                                super::payload::Template::compile(v).map(|_| ())
                            }
                        };
                        if let Err(e) = checked {
                            problems.push(format!("{eat}/{field}: {e}"));
                        }
                    }
                }
                Catcher {
                    error_equals: error_equals(obj, &eat, i + 1 == count, problems),
                    next,
                    result_path,
                    output: obj.get("Output").cloned(),
                    assign: obj.get("Assign").cloned(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn task_failed_matches_everything_but_timeouts_and_terminal_errors() {
        let tf = vec!["States.TaskFailed".to_owned()];
        assert!(matches(&tf, "MyError"));
        assert!(!matches(&tf, "States.Timeout"));
        let all = vec!["States.ALL".to_owned()];
        assert!(matches(&all, "States.Timeout"));
        assert!(!matches(&all, "States.Runtime"));
        assert!(!matches(&all, "States.DataLimitExceeded"));
        assert!(matches(&["A".to_owned(), "B".to_owned()], "B"));
        assert!(!matches(&["A".to_owned()], "B"));
    }

    #[test]
    fn extreme_retry_numbers_stay_finite_and_are_validated() {
        let mut problems = Vec::new();
        let r = Retrier::parse_all(
            Some(
                &json!([{"ErrorEquals": ["X"], "IntervalSeconds": 99999999, "BackoffRate": 1e300, "MaxAttempts": 99999999}]),
            ),
            "/Retry",
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        for attempt in [1, 2, 1_000, u32::MAX] {
            assert!(r[0].delay(attempt) <= Duration::from_secs_f64(MAX_DELAY_SECONDS));
        }
        let mut problems = Vec::new();
        Retrier::parse_all(
            Some(
                &json!([{"ErrorEquals": ["X"], "IntervalSeconds": 1e12, "MaxAttempts": 1e10, "MaxDelaySeconds": 1e15}]),
            ),
            "/Retry",
            &mut problems,
        );
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn delays_follow_backoff_and_cap() {
        let mut problems = Vec::new();
        let r = Retrier::parse_all(
            Some(
                &json!([{"ErrorEquals": ["X"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxDelaySeconds": 10}]),
            ),
            "/Retry",
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(r[0].max_attempts, 3);
        assert_eq!(r[0].delay(1), Duration::from_secs(2));
        assert_eq!(r[0].delay(2), Duration::from_secs(6));
        assert_eq!(r[0].delay(3), Duration::from_secs(10));
    }

    #[test]
    fn full_jitter_draws_each_delay_below_the_backoff() {
        let mut problems = Vec::new();
        let r = Retrier::parse_all(
            Some(&json!([
                {"ErrorEquals": ["X"], "IntervalSeconds": 4, "BackoffRate": 2, "JitterStrategy": "FULL"},
                {"ErrorEquals": ["Y"], "JitterStrategy": "SOMETIMES"}
            ])),
            "/Retry",
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("/Retry[1]/JitterStrategy"),
            "{problems:?}"
        );
        let delays: Vec<Duration> = (0..200).map(|_| r[0].delay(2)).collect();
        assert!(
            delays.iter().all(|d| *d <= Duration::from_secs(8)),
            "{delays:?}"
        );
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "delays are drawn, not fixed");
        let mean = delays.iter().sum::<Duration>() / 200;
        assert!(
            mean > Duration::from_secs(3) && mean < Duration::from_secs(5),
            "uniform over [0, 8 s]: {mean:?}"
        );
    }

    #[test]
    fn states_all_must_be_alone_and_last() {
        let mut problems = Vec::new();
        Retrier::parse_all(
            Some(&json!([{"ErrorEquals": ["States.ALL", "X"]}, {"ErrorEquals": ["Y"]}])),
            "/States/T/Retry",
            &mut problems,
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("/States/T/Retry[0]/ErrorEquals")),
            "{problems:?}"
        );
    }
}
