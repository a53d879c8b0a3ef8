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

use serde_json::Value;

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
    fn excludes(&self, value: Scalar<'_>) -> bool {
        match (self, value) {
            (AnythingBut::Numbers(nums), Scalar::Number(n)) => nums.iter().any(|x| x.equals(n)),
            (AnythingBut::Numbers(_), _) => false,
            (_, Scalar::String(s)) => match self {
                AnythingBut::Strings(set) => set.binary_search_by(|x| (**x).cmp(s)).is_ok(),
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
    /// True when the scalar `value` satisfies this condition.
    pub(crate) fn matches(&self, value: Scalar<'_>) -> bool {
        match (self, value) {
            (Matcher::String { value: want, ip }, Scalar::String(s)) => {
                **want == *s || ip.is_some_and(|ip| parse_ip(s) == Some(ip))
            }
            (Matcher::Number(want), Scalar::Number(n)) => want.equals(n),
            (Matcher::Bool(want), Scalar::Bool(b)) => *want == b,
            (Matcher::Null, Scalar::Null) => true,
            (Matcher::Prefix(p), Scalar::String(s)) => s.starts_with(&**p),
            (Matcher::Suffix(p), Scalar::String(s)) => s.ends_with(&**p),
            (Matcher::PrefixIgnoreCase(c), Scalar::String(s)) => c.is_prefix_of(s),
            (Matcher::SuffixIgnoreCase(c), Scalar::String(s)) => c.is_suffix_of(s),
            (Matcher::EqualsIgnoreCase(c), Scalar::String(s)) => c.equals(s),
            (Matcher::Wildcard(w), Scalar::String(s)) => w.matches(s),
            (Matcher::Numeric(r), Scalar::Number(n)) => n.as_f64().is_some_and(|x| r.contains(x)),
            (Matcher::Cidr(r), Scalar::String(s)) => r.contains(s),
            (Matcher::AnythingBut(a), v) => !a.excludes(v),
            _ => false,
        }
    }
}

/// A scalar of an event: a string, number, boolean or null.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    String(&'a str),
    Number(&'a serde_json::Number),
    Bool(bool),
    Null,
}

/// An event value the matcher reads: a parsed `&serde_json::Value`, or an event read from JSON
/// text with only the fields some patterns look at (see [`json`](super::json)).
pub(crate) trait Json: Copy {
    /// The value when it is a scalar (not an array or object).
    fn scalar(&self) -> Option<Scalar<'_>>;
    /// The elements when the value is an array.
    fn items(&self) -> Option<impl Iterator<Item = Self>>;
    /// True when the value is an object.
    fn is_object(&self) -> bool;
    /// The field `key` when the value is an object that has it.
    fn get(&self, key: &str) -> Option<Self>;
}

/// Objects up to this size are scanned rather than hashed into.
const LINEAR_LOOKUP: usize = 12;

impl Json for &Value {
    #[inline]
    fn scalar(&self) -> Option<Scalar<'_>> {
        match self {
            Value::String(s) => Some(Scalar::String(s)),
            Value::Number(n) => Some(Scalar::Number(n)),
            Value::Bool(b) => Some(Scalar::Bool(*b)),
            Value::Null => Some(Scalar::Null),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    #[inline]
    fn items(&self) -> Option<impl Iterator<Item = Self>> {
        match self {
            Value::Array(items) => Some(items.iter()),
            _ => None,
        }
    }

    #[inline]
    fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// A scan for small objects (cheaper than hashing the key), the map's index otherwise.
    #[inline]
    fn get(&self, key: &str) -> Option<Self> {
        let Value::Object(map) = self else {
            return None;
        };
        if map.len() <= LINEAR_LOOKUP {
            map.iter().find(|(k, _)| key_eq(k, key)).map(|(_, v)| v)
        } else {
            map.get(key)
        }
    }
}

/// String equality without a `memcmp` call, faster for the short keys of events: a word at a
/// time (the last word overlapping the one before).
#[inline]
pub(crate) fn key_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let word =
            |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        let word =
            |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// The deepest an event's arrays and objects are looked into (`serde_json`'s limit for JSON
/// text, and the scanner's): the matcher recurses once per level, so values nested deeper in an
/// event given as a `serde_json::Value` are not looked at (they match nothing).
pub(crate) const MAX_EVENT_DEPTH: usize = 128;

/// Calls `f` on each scalar of `value` (arrays flattened, objects skipped) until it returns true;
/// `depth` is the nesting of `value` in the event.
#[inline]
fn any_scalar<J: Json>(value: J, depth: usize, f: &mut impl FnMut(Scalar<'_>) -> bool) -> bool {
    match value.items() {
        Some(mut items) => {
            depth < MAX_EVENT_DEPTH && items.any(|item| any_scalar(item, depth + 1, f))
        }
        None => value.scalar().is_some_and(f),
    }
}

/// Calls `f` on each object of `value` (arrays flattened) with its depth until it returns true;
/// records in `seen` whether there was any object at all.
fn any_object<J: Json>(
    value: J,
    depth: usize,
    seen: &mut bool,
    f: &mut impl FnMut(J, usize) -> bool,
) -> bool {
    if value.is_object() {
        *seen = true;
        return f(value, depth);
    }
    match value.items() {
        Some(mut items) => {
            depth < MAX_EVENT_DEPTH && items.any(|item| any_object(item, depth + 1, seen, f))
        }
        None => false,
    }
}

impl Leaf {
    /// True when the field's value (`None` when the field is missing) satisfies the leaf.
    #[cfg(test)]
    pub(crate) fn matches<J: Json>(&self, value: Option<J>) -> bool {
        self.matches_at(value, 1)
    }

    /// [`matches`](Leaf::matches) for a value at `depth` in the event.
    fn matches_at<J: Json>(&self, value: Option<J>, depth: usize) -> bool {
        if self.exists_true || self.exists_false {
            let present = value.is_some_and(|v| any_scalar(v, depth, &mut |_| true));
            if (self.exists_true && present) || (self.exists_false && !present) {
                return true;
            }
        }
        match value {
            Some(v) if !self.values.is_empty() => {
                any_scalar(v, depth, &mut |s| self.values.iter().any(|m| m.matches(s)))
            }
            _ => false,
        }
    }
}

impl Node {
    /// True when the event value at this node's position matches: an object, an array holding
    /// objects (any may match), or anything else / nothing (matched as an empty object).
    pub(crate) fn matches_value<J: Json>(&self, value: Option<J>) -> bool {
        self.matches_at(value, 0)
    }

    /// [`matches_value`](Node::matches_value) for a value at `depth` in the event.
    fn matches_at<J: Json>(&self, value: Option<J>, depth: usize) -> bool {
        match value {
            Some(v) if v.is_object() => self.matches_map(Some(v), depth),
            Some(v) if v.items().is_some() => {
                let mut seen = false;
                any_object(v, depth, &mut seen, &mut |map, depth| {
                    self.matches_map(Some(map), depth)
                }) || (!seen && self.matches_map(None::<J>, depth))
            }
            _ => self.matches_map(None::<J>, depth),
        }
    }

    /// True when every field matches in the object `map` (`None`: an absent object) at `depth`.
    fn matches_map<J: Json>(&self, map: Option<J>, depth: usize) -> bool {
        // Members of an object nested deeper than the limit are not looked at.
        let map = map.filter(|_| depth < MAX_EVENT_DEPTH);
        self.fields.iter().all(|field| {
            let value = map.and_then(|m| m.get(&field.key));
            field
                .leaf
                .as_ref()
                .is_none_or(|leaf| leaf.matches_at(value, depth + 1))
                && field
                    .object
                    .as_ref()
                    .is_none_or(|node| node.matches_at(value, depth + 1))
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
        assert!(!l.matches(None::<&Value>));
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
    fn key_equality() {
        let keys = [
            "", "a", "b", "ab", "abc", "abd", "abcd", "abce", "xbcd", "abcdefg", "abcdefh",
        ];
        let long = [
            "abcdefgh",
            "abcdefgi",
            "bbcdefgh",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
        ];
        let longer = [
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "abcdefghXjklmnopq",
        ];
        for a in keys.iter().chain(&long).chain(&longer) {
            for b in keys.iter().chain(&long).chain(&longer) {
                assert_eq!(key_eq(a, b), a == b, "{a} {b}");
            }
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
