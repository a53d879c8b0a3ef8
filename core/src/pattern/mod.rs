//! Amazon EventBridge event patterns: validation, compilation and matching.
//!
//! A pattern is a JSON object whose fields mirror the event's; each leaf is an array of allowed
//! values (any may match) and the fields of an object must all match:
//!
//! ```
//! use agent_mesh::EventPattern;
//! use serde_json::json;
//!
//! let pattern = EventPattern::parse(r#"{
//!     "source": ["shop.orders"],
//!     "detail": {"amount": [{"numeric": [">", 100]}], "state": [{"anything-but": "test"}]}
//! }"#)?;
//! assert!(pattern.matches(&json!({"source": "shop.orders", "detail": {"amount": 250, "state": "new"}})));
//! assert!(!pattern.matches(&json!({"source": "shop.orders", "detail": {"amount": 50, "state": "new"}})));
//! # Ok::<(), agent_mesh::Error>(())
//! ```
//!
//! Supported: exact strings, numbers (compared by value), booleans and null; `prefix`, `suffix`
//! (both also with `{"equals-ignore-case": ..}`), `equals-ignore-case`, `wildcard`, `anything-but`
//! (a value, a list, or `prefix`/`suffix`/`equals-ignore-case`/`wildcard`), `numeric`, `exists`,
//! `cidr` (IPv4 and IPv6) and `$or`. Event arrays match when any element matches, and fields
//! matched inside an array of objects must come from the same element. Invalid patterns are
//! rejected with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the path of
//! the offending field. [`PatternSet`] matches an event against many patterns at once.

mod cidr;
mod index;
mod json;
mod matcher;
mod parse;
mod set;
mod text;

use std::sync::Arc;

use serde_json::Value;

pub use parse::MAX_PATTERN_CHARS;
pub use set::PatternSet;

use crate::asl::limits::{Exceeded, Unit, measure};
use crate::{Error, Result};
use json::Paths;
use matcher::Node;

/// A compiled EventBridge event pattern. Cloning is cheap (the compiled form is shared).
#[derive(Debug, Clone)]
pub struct EventPattern {
    inner: Arc<Compiled>,
}

#[derive(Debug)]
struct Compiled {
    json: Value,
    /// One per combination of `$or` branches; the pattern matches when any does.
    alternatives: Vec<Node>,
    /// The event fields the alternatives look at, for matching from JSON text.
    paths: Paths,
}

impl EventPattern {
    /// Parses and validates a pattern given as JSON text.
    pub fn parse(json: &str) -> Result<EventPattern> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            parse::invalid("", format!("the pattern is not valid JSON ({e}); it must be a JSON object like {{\"source\": [\"my.app\"]}}"))
        })?;
        EventPattern::compile(&value)
    }

    /// Validates and compiles a pattern given as a JSON value (must be an object).
    pub fn compile(pattern: &Value) -> Result<EventPattern> {
        let alternatives = parse::compile(pattern)?;
        Ok(EventPattern {
            inner: Arc::new(Compiled {
                json: pattern.clone(),
                paths: Paths::of(&alternatives),
                alternatives,
            }),
        })
    }

    /// True when the event matches. Parts of the event nested more than 128 levels deep (more
    /// than JSON text can hold) are not looked at.
    pub fn matches(&self, event: &Value) -> bool {
        self.inner
            .alternatives
            .iter()
            .any(|alt| alt.matches_value(Some(event)))
    }

    /// True when the event given as JSON text matches: the same result as
    /// [`matches`](EventPattern::matches) on the event parsed with `serde_json::from_str`, but
    /// only the fields the pattern looks at are parsed (strings are borrowed from the text where
    /// they have no escapes); the rest is only checked to be valid JSON, so a number beyond
    /// `f64` or a lone UTF-16 surrogate escape in a field the pattern ignores is not an error.
    ///
    /// ```
    /// use agent_mesh::EventPattern;
    ///
    /// let pattern = EventPattern::parse(r#"{"detail": {"state": [{"prefix": "run"}]}}"#)?;
    /// assert!(pattern.matches_json(r#"{"id": "1", "detail": {"state": "running"}}"#)?);
    /// assert!(pattern.matches_json("[1]").is_err());
    /// # Ok::<(), agent_mesh::Error>(())
    /// ```
    ///
    /// Fails with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `json` is not
    /// a JSON object.
    pub fn matches_json(&self, json: &str) -> Result<bool> {
        let event = self.inner.paths.read(json)?;
        Ok(self
            .inner
            .alternatives
            .iter()
            .any(|alt| alt.matches_value(Some(event.root()))))
    }

    /// The pattern as JSON (as given).
    pub fn as_json(&self) -> &Value {
        &self.inner.json
    }

    /// The compiled alternatives (one per combination of `$or` branches).
    fn alternatives(&self) -> &[Node] {
        &self.inner.alternatives
    }
}

impl std::fmt::Display for EventPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.inner.json)
    }
}

impl std::str::FromStr for EventPattern {
    type Err = Error;

    fn from_str(json: &str) -> Result<EventPattern> {
        EventPattern::parse(json)
    }
}

/// Like EventBridge TestEventPattern: validates the pattern and tests the event, which must be
/// a JSON object nested at most 128 levels deep (as JSON text can be).
pub fn test_event_pattern(pattern: &Value, event: &Value) -> Result<bool> {
    let pattern = EventPattern::compile(pattern)?;
    if !event.is_object() {
        return Err(Error::invalid_input(
            "test_event_pattern",
            "event",
            "the event must be a JSON object like {\"source\": \"my.app\", \"detail\": {}}",
        ));
    }
    let depth = matcher::MAX_EVENT_DEPTH;
    if measure(event, usize::MAX, depth, Unit::Bytes) == Err(Exceeded::Depth) {
        return Err(Error::invalid_input(
            "test_event_pattern",
            "event",
            format!("the event nests objects and arrays deeper than {depth} levels; flatten it"),
        ));
    }
    Ok(pattern.matches(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::json;

    #[test]
    fn parse_and_match() {
        let p =
            EventPattern::parse(r#"{"source": ["a"], "detail": {"n": [{"numeric": [">", 1]}]}}"#)
                .unwrap();
        assert!(p.matches(&json!({"source": "a", "detail": {"n": 2}})));
        assert!(!p.matches(&json!({"source": "a", "detail": {"n": 1}})));
        assert_eq!(p.as_json()["source"], json!(["a"]));
        assert_eq!(p.to_string(), p.as_json().to_string());
    }

    #[test]
    fn invalid_json_text() {
        let err = EventPattern::parse("{not json").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        assert!(err.message.contains("not valid JSON"));
    }

    #[test]
    fn test_event_pattern_checks_both_arguments() {
        assert_eq!(
            test_event_pattern(&json!({"a": [1]}), &json!({"a": 1})),
            Ok(true)
        );
        let err = test_event_pattern(&json!({"a": [1]}), &json!([1])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
        let err = test_event_pattern(&json!({"a": 1}), &json!({})).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidInput);
    }
}
