//! The compiled form of a pattern and how it matches an event.
//!
//! A pattern compiles to one or more alternatives (one per combination of `$or` branches), each
//! a [`Node`]: the fields of one JSON object, each holding a [`Leaf`] (a list of value
//! [`Matcher`]s, any of which may match) and/or a nested [`Node`]. Matching follows EventBridge:
//!
//! - an event array is flattened: a leaf matches when any scalar in it matches, a nested node
//!   when any object in it matches (so fields matched together come from the same element);
//! - operators only see leaves (strings, numbers, booleans, null): an object-valued field has no
//!   leaf, and neither has an empty array;
//! - a nested node whose field is missing (or holds no object) is matched against an empty
//!   object, so only `exists: false` can match inside it.

use serde_json::{Map, Value};

use super::cidr::{IpRange, parse_ip};
use super::text::{CaseFold, Wildcard};
use std::net::IpAddr;

/// The largest magnitude `numeric` compares (EventBridge: -5.0e9 to +5.0e9 inclusive).
pub(crate) const NUMERIC_LIMIT: f64 = 5.0e9;

/// One JSON object of a pattern alternative.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    pub(crate) fields: Vec<Field>,
}

/// One field of a [`Node`]: a leaf condition, a nested object condition, or both.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) key: Box<str>,
    pub(crate) leaf: Option<Leaf>,
    pub(crate) object: Option<Node>,
}

/// A field's list of allowed values: matches when any of them does.
#[derive(Debug, Clone, Default)]
pub(crate) struct Leaf {
    /// Value matchers (everything but `exists`).
    pub(crate) values: Vec<Matcher>,
    /// `{"exists": true}` is in the list.
    pub(crate) exists_true: bool,
    /// `{"exists": false}` is in the list.
    pub(crate) exists_false: bool,
}

/// A number from a pattern or an event, compared by value (`300` = `300.0` = `3e2`); integers
/// beyond 2^53 compare exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num {
    pub(crate) float: f64,
    pub(crate) int: Option<i128>,
}

impl Num {
    /// The number of a JSON number value.
    pub(crate) fn of(n: &serde_json::Number) -> Num {
        let int = n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from));
        let float = n.as_f64().unwrap_or(f64::NAN);
        Num { float, int }
    }

    fn equals(&self, n: &serde_json::Number) -> bool {
        let other = Num::of(n);
        match (self.int, other.int) {
            (Some(a), Some(b)) => a == b,
            _ => self.float == other.float,
        }
    }
}

/// A numeric range; `=` is a range with equal inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Range {
    pub(crate) lo: f64,
    pub(crate) lo_inclusive: bool,
    pub(crate) hi: f64,
    pub(crate) hi_inclusive: bool,
}

impl Range {
    fn contains(&self, x: f64) -> bool {
        if !(-NUMERIC_LIMIT..=NUMERIC_LIMIT).contains(&x) {
            return false;
        }
        let above = if self.lo_inclusive {
            x >= self.lo
        } else {
            x > self.lo
        };
        let below = if self.hi_inclusive {
            x <= self.hi
        } else {
            x < self.hi
        };
        above && below
    }
}

/// One value condition of a leaf.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// An exact string; an IP literal also equals other spellings of the same address.
    String { value: Box<str>, ip: Option<IpAddr> },
    /// An exact number, compared by value.
    Number(Num),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `{"prefix": ".."}`.
    Prefix(Box<str>),
    /// `{"suffix": ".."}`.
    Suffix(Box<str>),
    /// `{"prefix": {"equals-ignore-case": ".."}}`.
    PrefixIgnoreCase(CaseFold),
    /// `{"suffix": {"equals-ignore-case": ".."}}`.
    SuffixIgnoreCase(CaseFold),
    /// `{"equals-ignore-case": ".."}`.
    EqualsIgnoreCase(CaseFold),
    /// `{"wildcard": ".."}`.
    Wildcard(Wildcard),
    /// `{"numeric": [..]}`.
    Numeric(Range),
    /// `{"cidr": ".."}`.
    Cidr(IpRange),
    /// `{"anything-but": ..}`: matches any leaf the inner condition does not exclude.
    AnythingBut(Box<AnythingBut>),
}

/// What an `anything-but` excludes. String forms exclude only strings and numeric forms only
/// numbers: every other leaf (numbers, booleans, null for the string forms) passes, as in
/// EventBridge.
#[derive(Debug, Clone)]
pub(crate) enum AnythingBut {
    /// `"x"` or `["x", "y"]` (sorted).
    Strings(Vec<Box<str>>),
    /// `5` or `[5, 6]`.
    Numbers(Vec<Num>),
    /// `{"prefix": ..}`.
    Prefixes(Vec<Box<str>>),
    /// `{"suffix": ..}`.
    Suffixes(Vec<Box<str>>),
    /// `{"equals-ignore-case": ..}`.
    IgnoreCase(Vec<CaseFold>),
    /// `{"wildcard": ..}`.
    Wildcards(Vec<Wildcard>),
}

impl AnythingBut {
    fn excludes(&self, value: &Value) -> bool {
        match (self, value) {
            (AnythingBut::Numbers(nums), Value::Number(n)) => nums.iter().any(|x| x.equals(n)),
            (AnythingBut::Numbers(_), _) => false,
            (_, Value::String(s)) => match self {
                AnythingBut::Strings(set) => {
                    set.binary_search_by(|x| (**x).cmp(s.as_str())).is_ok()
                }
                AnythingBut::Prefixes(ps) => ps.iter().any(|p| s.starts_with(&**p)),
                AnythingBut::Suffixes(ps) => ps.iter().any(|p| s.ends_with(&**p)),
                AnythingBut::IgnoreCase(cs) => cs.iter().any(|c| c.equals(s)),
                AnythingBut::Wildcards(ws) => ws.iter().any(|w| w.matches(s)),
                AnythingBut::Numbers(_) => false,
            },
            _ => false,
        }
    }
}

impl Matcher {
    /// True when the scalar `value` (never an array or object) satisfies this condition.
    pub(crate) fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Matcher::String { value: want, ip }, Value::String(s)) => {
                **want == **s || ip.is_some_and(|ip| parse_ip(s) == Some(ip))
            }
            (Matcher::Number(want), Value::Number(n)) => want.equals(n),
            (Matcher::Bool(want), Value::Bool(b)) => want == b,
            (Matcher::Null, Value::Null) => true,
            (Matcher::Prefix(p), Value::String(s)) => s.starts_with(&**p),
            (Matcher::Suffix(p), Value::String(s)) => s.ends_with(&**p),
            (Matcher::PrefixIgnoreCase(c), Value::String(s)) => c.is_prefix_of(s),
            (Matcher::SuffixIgnoreCase(c), Value::String(s)) => c.is_suffix_of(s),
            (Matcher::EqualsIgnoreCase(c), Value::String(s)) => c.equals(s),
            (Matcher::Wildcard(w), Value::String(s)) => w.matches(s),
            (Matcher::Numeric(r), Value::Number(n)) => n.as_f64().is_some_and(|x| r.contains(x)),
            (Matcher::Cidr(r), Value::String(s)) => r.contains(s),
            (Matcher::AnythingBut(a), v) => !a.excludes(v),
            _ => false,
        }
    }
}

/// Objects up to this size are scanned rather than hashed into.
const LINEAR_LOOKUP: usize = 12;

/// Looks `key` up in an event object: a scan for small objects (cheaper than hashing the key),
/// the map's index otherwise.
#[inline]
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= LINEAR_LOOKUP {
        map.iter().find(|(k, _)| key_eq(k, key)).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// String equality without a `memcmp` call, faster for the short keys of events.
#[inline]
fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Calls `f` on each scalar of `value` (arrays flattened, objects skipped) until it returns true.
#[inline]
pub(crate) fn any_scalar(value: &Value, f: &mut impl FnMut(&Value) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| any_scalar(item, f)),
        Value::Object(_) => false,
        scalar => f(scalar),
    }
}

/// Calls `f` on each object of `value` (arrays flattened) until it returns true; records in `seen`
/// whether there was any object at all.
fn any_object(
    value: &Value,
    seen: &mut bool,
    f: &mut impl FnMut(&Map<String, Value>) -> bool,
) -> bool {
    match value {
        Value::Object(map) => {
            *seen = true;
            f(map)
        }
        Value::Array(items) => items.iter().any(|item| any_object(item, seen, f)),
        _ => false,
    }
}

impl Leaf {
    /// True when the field's value (`None` when the field is missing) satisfies the leaf.
    pub(crate) fn matches(&self, value: Option<&Value>) -> bool {
        if self.exists_true || self.exists_false {
            let present = value.is_some_and(|v| any_scalar(v, &mut |_| true));
            if (self.exists_true && present) || (self.exists_false && !present) {
                return true;
            }
        }
        match value {
            Some(v) if !self.values.is_empty() => {
                any_scalar(v, &mut |s| self.values.iter().any(|m| m.matches(s)))
            }
            _ => false,
        }
    }
}

impl Node {
    /// True when the event value at this node's position matches: an object, an array holding
    /// objects (any may match), or anything else / nothing (matched as an empty object).
    pub(crate) fn matches_value(&self, value: Option<&Value>) -> bool {
        match value {
            Some(Value::Object(map)) => self.matches_map(Some(map)),
            Some(v @ Value::Array(_)) => {
                let mut seen = false;
                any_object(v, &mut seen, &mut |map| self.matches_map(Some(map)))
                    || (!seen && self.matches_map(None))
            }
            _ => self.matches_map(None),
        }
    }

    /// True when every field matches in `map` (`None`: an absent object).
    pub(crate) fn matches_map(&self, map: Option<&Map<String, Value>>) -> bool {
        self.fields.iter().all(|field| {
            let value = map.and_then(|m| lookup(m, &field.key));
            field.leaf.as_ref().is_none_or(|leaf| leaf.matches(value))
                && field
                    .object
                    .as_ref()
                    .is_none_or(|node| node.matches_value(value))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn leaf(values: Vec<Matcher>) -> Leaf {
        Leaf {
            values,
            ..Leaf::default()
        }
    }

    #[test]
    fn scalars_and_arrays() {
        let l = leaf(vec![Matcher::String {
            value: "a".into(),
            ip: None,
        }]);
        assert!(l.matches(Some(&json!("a"))));
        assert!(l.matches(Some(&json!(["x", ["a"]]))));
        assert!(!l.matches(Some(&json!({"a": "a"}))));
        assert!(!l.matches(None));
        let n = leaf(vec![Matcher::Number(Num::of(&serde_json::Number::from(
            300,
        )))]);
        assert!(n.matches(Some(&json!(300.0))));
        assert!(!n.matches(Some(&json!("300"))));
    }

    #[test]
    fn exists() {
        let yes = Leaf {
            exists_true: true,
            ..Leaf::default()
        };
        let no = Leaf {
            exists_false: true,
            ..Leaf::default()
        };
        for (value, present) in [
            (Some(json!(null)), true),
            (Some(json!([])), false),
            (Some(json!({"x": 1})), false),
            (Some(json!([{"x": 1}, 2])), true),
            (None, false),
        ] {
            assert_eq!(yes.matches(value.as_ref()), present, "{value:?}");
            assert_eq!(no.matches(value.as_ref()), !present, "{value:?}");
        }
    }

    #[test]
    fn numeric_limits() {
        let r = Range {
            lo: 0.0,
            lo_inclusive: false,
            hi: f64::INFINITY,
            hi_inclusive: true,
        };
        assert!(r.contains(5e9));
        assert!(!r.contains(5.1e9));
        assert!(!r.contains(0.0));
    }
}
