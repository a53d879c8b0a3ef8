//! Matching straight from JSON text: the event is parsed only as far as the patterns look.
//!
//! [`Paths`] is the tree of object keys some patterns reference. [`Paths::read`] reads an event's
//! text into a [`Doc`], a flat list of values holding only those keys: an unreferenced key's
//! value is skipped (its syntax checked, nothing built), a referenced one is kept with the same
//! shape as in the full event (arrays as they are, objects pruned to their own referenced keys,
//! strings borrowed from the text unless they have escapes, numbers parsed by `serde_json`). The
//! matcher reads a `Doc` as it reads a `serde_json::Value` (both are [`Json`]) and only ever looks
//! up referenced keys, so it sees exactly what it would see in the fully parsed event, missing
//! fields included.
//!
//! Skipped values are checked against the JSON grammar and the nesting limit of `serde_json`,
//! but not parsed: a skipped number beyond `f64` (`1e400`) or a lone UTF-16 surrogate escape in a
//! skipped string, which `serde_json::from_str` rejects, pass unnoticed.

use std::borrow::Cow;

use serde_json::Number;

use super::matcher::{Json, Node, Scalar, key_eq};
use crate::{Error, Result};

/// The object keys referenced by some pattern alternatives, as a tree; each key counts the
/// alternatives using it, so that removing one keeps the keys others still need.
#[derive(Debug, Clone, Default)]
pub(crate) struct Paths {
    children: Vec<(Box<str>, Paths)>,
    uses: u32,
}

impl Paths {
    /// The keys a pattern's compiled alternatives reference.
    pub(crate) fn of(alternatives: &[Node]) -> Paths {
        let mut paths = Paths::default();
        alternatives.iter().for_each(|node| paths.add(node));
        paths
    }

    /// Adds the keys `node` references.
    pub(crate) fn add(&mut self, node: &Node) {
        for field in &node.fields {
            let i = match self.position(field.key.as_bytes()) {
                Some(i) => i,
                None => {
                    self.children.push((field.key.clone(), Paths::default()));
                    self.children.len() - 1
                }
            };
            let child = &mut self.children[i].1;
            child.uses += 1;
            if let Some(object) = &field.object {
                child.add(object);
            }
        }
    }

    /// Undoes [`add`](Paths::add) of the same `node`.
    pub(crate) fn remove(&mut self, node: &Node) {
        for field in &node.fields {
            let Some(i) = self.position(field.key.as_bytes()) else {
                continue;
            };
            let child = &mut self.children[i].1;
            if let Some(object) = &field.object {
                child.remove(object);
            }
            child.uses -= 1;
            if child.uses == 0 {
                self.children.swap_remove(i);
            }
        }
    }

    /// The child named `key` (its bytes).
    fn position(&self, key: &[u8]) -> Option<usize> {
        self.children
            .iter()
            .position(|(k, _)| k.len() == key.len() && k.bytes().zip(key).all(|(a, b)| a == *b))
    }

    /// Reads `json`, which must be a JSON object, keeping only the referenced keys.
    pub(crate) fn read<'a>(&'a self, json: &'a str) -> Result<Doc<'a>> {
        let mut scanner = Scanner {
            text: json,
            bytes: json.as_bytes(),
            pos: 0,
            depth: 0,
            doc: Doc {
                values: Vec::with_capacity(16),
            },
        };
        match scanner.event(self) {
            Ok(()) => Ok(scanner.doc),
            Err(what) => Err(Error::invalid_input(
                "match_json",
                "event",
                format!(
                    "the event must be a JSON object like {{\"source\": \"my.app\"}}: {what} at byte {}",
                    scanner.pos
                ),
            )),
        }
    }
}

/// An event read from JSON text, holding only the referenced fields, as a flat list of values
/// (the event object first). Strings without escapes are borrowed from the text.
pub(crate) struct Doc<'a> {
    values: Vec<Slot<'a>>,
}

/// A value of a [`Doc`], with its place among the members of its array or object.
struct Slot<'a> {
    /// Its key in its object (empty in an array).
    key: &'a str,
    item: Item<'a>,
    /// The next member of the same array (in order) or object (from the last member to the
    /// first); 0 for none (the event object is no member).
    next: u32,
}

/// A value of a [`Doc`]; an array or object holds its first member (0 when empty).
enum Item<'a> {
    String(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Null,
    Array(u32),
    Object(u32),
}

impl<'a> Doc<'a> {
    /// The event object.
    pub(crate) fn root(&self) -> At<'_, 'a> {
        At { doc: self, at: 0 }
    }
}

/// A value of a [`Doc`].
#[derive(Clone, Copy)]
pub(crate) struct At<'d, 'a> {
    doc: &'d Doc<'a>,
    at: u32,
}

impl<'d, 'a> At<'d, 'a> {
    fn slot(&self) -> &'d Slot<'a> {
        &self.doc.values[self.at as usize]
    }

    /// The members of an array or object whose first member is `first`.
    fn members(&self, first: u32) -> impl Iterator<Item = (&'a str, At<'d, 'a>)> + use<'d, 'a> {
        let doc = self.doc;
        let mut at = first;
        std::iter::from_fn(move || {
            if at == 0 {
                return None;
            }
            let member = At { doc, at };
            at = member.slot().next;
            Some((member.slot().key, member))
        })
    }
}

impl Json for At<'_, '_> {
    #[inline]
    fn scalar(&self) -> Option<Scalar<'_>> {
        match &self.slot().item {
            Item::String(s) => Some(Scalar::String(s)),
            Item::Number(n) => Some(Scalar::Number(n)),
            Item::Bool(b) => Some(Scalar::Bool(*b)),
            Item::Null => Some(Scalar::Null),
            Item::Array(_) | Item::Object(_) => None,
        }
    }

    #[inline]
    fn items(&self) -> Option<impl Iterator<Item = Self>> {
        match self.slot().item {
            Item::Array(first) => Some(self.members(first).map(|(_, member)| member)),
            _ => None,
        }
    }

    #[inline]
    fn is_object(&self) -> bool {
        matches!(self.slot().item, Item::Object(_))
    }

    /// The last member named `key`, as `serde_json` keeps the last of duplicate keys (an
    /// object's members are linked from the last).
    #[inline]
    fn get(&self, key: &str) -> Option<Self> {
        match self.slot().item {
            Item::Object(first) => self
                .members(first)
                .find(|(k, _)| key_eq(k, key))
                .map(|(_, member)| member),
            _ => None,
        }
    }
}

/// How many bytes at the start of `bytes` can be in a string as they are (no `"`, `\\` or control
/// character), eight at a time, and whether the byte after them is a `"`: telling it from the
/// word already read rather than reading it again shortens the chain of dependent loads through
/// a string.
#[inline]
fn plain_bytes(bytes: &[u8]) -> (usize, bool) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each zero byte; only the lowest one is exact (a borrow may flag bytes
    // above it), which is all that is used.
    let zeros = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut n = 0;
    while let Some(word) = bytes[n..].first_chunk::<8>() {
        let x = u64::from_le_bytes(*word);
        let quotes = zeros(x ^ (ONES * u64::from(b'"')));
        let special = quotes
            | zeros(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if special != 0 {
            let first = special & special.wrapping_neg();
            return (
                n + (special.trailing_zeros() / 8) as usize,
                first & quotes != 0,
            );
        }
        n += 8;
    }
    n += bytes[n..]
        .iter()
        .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
        .count();
    (n, bytes.get(n) == Some(&b'"'))
}

/// The most nested arrays and objects an event may have (as `serde_json`).
const MAX_DEPTH: usize = 128;

/// What is wrong with the text; the scanner's position says where.
type Scan<T> = std::result::Result<T, &'static str>;

/// A validating JSON reader that skips the values no pattern looks at without building them.
/// Its small steps are always inlined, so that the position stays in a register from one token
/// to the next.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    doc: Doc<'a>,
}

impl<'a> Scanner<'a> {
    /// Fails with `what` at byte `at`.
    #[cold]
    fn fail_at<T>(&mut self, what: &'static str, at: usize) -> Scan<T> {
        self.pos = at;
        Err(what)
    }

    #[inline(always)]
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips white space, then the byte `b`.
    #[inline(always)]
    fn expect(&mut self, b: u8, what: &'static str) -> Scan<()> {
        self.space();
        if self.peek() != Some(b) {
            return Err(what);
        }
        self.pos += 1;
        Ok(())
    }

    /// Enters an array or object (at its opening bracket).
    #[inline]
    fn enter(&mut self) -> Scan<()> {
        self.pos += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("recursion limit exceeded");
        }
        Ok(())
    }

    /// The whole event: one object, pruned to `paths`, and nothing after it.
    fn event(&mut self, paths: &'a Paths) -> Scan<()> {
        self.space();
        if self.peek() != Some(b'{') {
            return Err("expected an object");
        }
        self.object(paths)?;
        self.space();
        if self.pos != self.bytes.len() {
            return Err("trailing characters");
        }
        Ok(())
    }

    /// Adds a value to the document, returning its index.
    fn push(&mut self, item: Item<'a>) -> u32 {
        self.doc.values.push(Slot {
            key: "",
            item,
            next: 0,
        });
        (self.doc.values.len() - 1) as u32
    }

    /// The value at `paths`, pruned to its keys; returns its index.
    fn value(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.space();
        let start = self.pos;
        let item = match self.peek() {
            Some(b'{') => return self.object(paths),
            Some(b'[') => return self.array(paths),
            Some(b'"') => {
                if self.skip_string()? {
                    match serde_json::from_str(&self.text[start..self.pos]) {
                        Ok(s) => Item::String(Cow::Owned(s)),
                        Err(_) => return self.fail_at("invalid string", start),
                    }
                } else {
                    Item::String(Cow::Borrowed(&self.text[start + 1..self.pos - 1]))
                }
            }
            Some(b't') => {
                self.literal(b"true")?;
                Item::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Item::Bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Item::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                self.skip_number()?;
                match self.text[start..self.pos].parse() {
                    Ok(n) => Item::Number(n),
                    Err(_) => return self.fail_at("number out of range", start),
                }
            }
            _ => return Err("expected a value"),
        };
        Ok(self.push(item))
    }

    /// An object (at its `{`), pruned to the keys of `paths`.
    fn object(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.enter()?;
        let slot = self.push(Item::Null);
        let mut first = 0;
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                let child = self.key(paths)?;
                match child {
                    Some(i) => {
                        let (key, child) = &paths.children[i];
                        let at = self.value(child)?;
                        let member = &mut self.doc.values[at as usize];
                        member.key = key;
                        member.next = first;
                        first = at;
                    }
                    None => self.skip_value()?,
                }
                if self.end_of(b'}', "expected ',' or '}'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        self.doc.values[slot as usize].item = Item::Object(first);
        Ok(slot)
    }

    /// A member's key and its `:`; the child of `paths` it names, if any.
    #[inline(always)]
    fn key(&mut self, paths: &'a Paths) -> Scan<Option<usize>> {
        self.space();
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err("expected a key");
        }
        let child = if self.skip_string()? {
            match serde_json::from_str::<String>(&self.text[start..self.pos]) {
                Ok(key) => paths.position(key.as_bytes()),
                Err(_) => return self.fail_at("invalid key", start),
            }
        } else {
            paths.position(&self.bytes[start + 1..self.pos - 1])
        };
        self.expect(b':', "expected ':'")?;
        Ok(child)
    }

    /// An array (at its `[`), its elements pruned to `paths`.
    fn array(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.enter()?;
        let slot = self.push(Item::Null);
        let (mut first, mut last) = (0, 0);
        self.space();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                let at = self.value(paths)?;
                if first == 0 {
                    first = at;
                } else {
                    self.doc.values[last as usize].next = at;
                }
                last = at;
                if self.end_of(b']', "expected ',' or ']'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        self.doc.values[slot as usize].item = Item::Array(first);
        Ok(slot)
    }

    /// After a member: true at the closing `close`, false after a `,`.
    #[inline(always)]
    fn end_of(&mut self, close: u8, what: &'static str) -> Scan<bool> {
        self.space();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(what),
        }
    }

    /// Checks and skips one value: scalars here, arrays and objects in
    /// [`skip_container`](Scanner::skip_container).
    #[inline(always)]
    fn skip_value(&mut self) -> Scan<()> {
        self.space();
        match self.peek() {
            Some(b'"') => {
                self.skip_string()?;
            }
            Some(b'-' | b'0'..=b'9') => self.skip_number()?,
            Some(b'{' | b'[') => self.skip_container()?,
            Some(b't') => self.literal(b"true")?,
            Some(b'f') => self.literal(b"false")?,
            Some(b'n') => self.literal(b"null")?,
            _ => return Err("expected a value"),
        }
        Ok(())
    }

    /// Checks and skips an array or object (at its opening bracket).
    fn skip_container(&mut self) -> Scan<()> {
        let object = self.peek() == Some(b'{');
        let close = if object { b'}' } else { b']' };
        self.enter()?;
        self.space();
        if self.peek() == Some(close) {
            self.pos += 1;
        } else {
            loop {
                if object {
                    self.skip_key()?;
                }
                self.skip_value()?;
                let what = if object {
                    "expected ',' or '}'"
                } else {
                    "expected ',' or ']'"
                };
                if self.end_of(close, what)? {
                    break;
                }
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Checks and skips a member's key and its `:`.
    #[inline(always)]
    fn skip_key(&mut self) -> Scan<()> {
        self.space();
        if self.peek() != Some(b'"') {
            return Err("expected a key");
        }
        self.skip_string()?;
        self.expect(b':', "expected ':'")
    }

    #[inline(always)]
    fn literal(&mut self, word: &'static [u8]) -> Scan<()> {
        if !self.bytes[self.pos..].starts_with(word) {
            return Err("expected a value");
        }
        self.pos += word.len();
        Ok(())
    }

    /// Skips digits, returning how many.
    #[inline(always)]
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    #[inline(always)]
    fn skip_number(&mut self) -> Scan<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err("invalid number");
            }
        }
        Ok(())
    }

    /// Checks and skips a string (at its opening quote); true when it has escapes.
    #[inline(always)]
    fn skip_string(&mut self) -> Scan<bool> {
        let pos = self.pos + 1;
        let (plain, quote) = plain_bytes(&self.bytes[pos..]);
        if quote {
            self.pos = pos + plain + 1;
            return Ok(false);
        }
        self.pos = pos + plain;
        self.string_rest()
    }

    /// The rest of a string after its plain start: escapes, or an error.
    #[cold]
    #[inline(never)]
    fn string_rest(&mut self) -> Scan<bool> {
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(true);
                }
                Some(b'\\') => self.escape()?,
                Some(_) => return Err("control character in string"),
                None => return Err("unterminated string"),
            }
            self.pos += plain_bytes(&self.bytes[self.pos..]).0;
        }
    }

    /// Checks and skips an escape sequence (at its backslash).
    fn escape(&mut self) -> Scan<()> {
        self.pos += 1;
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
            }
            Some(b'u') => {
                let hex = self.bytes.get(self.pos + 1..self.pos + 5);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err("invalid escape");
                }
                self.pos += 5;
            }
            _ => return Err("invalid escape"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventPattern;
    use serde_json::{Map, Value, json};

    impl Paths {
        /// The event as a `serde_json::Value`, pruned.
        fn prune(&self, json: &str) -> Result<Value> {
            let doc = self.read(json)?;
            Ok(to_value(doc.root()))
        }
    }

    /// `value` with only the keys of `paths`: what [`Paths::prune`] should give.
    fn prune_value(value: &Value, paths: &Paths) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| {
                        let (_, child) = &paths.children[paths.position(k.as_bytes())?];
                        Some((k.clone(), prune_value(v, child)))
                    })
                    .collect(),
            ),
            Value::Array(items) => items.iter().map(|v| prune_value(v, paths)).collect(),
            scalar => scalar.clone(),
        }
    }

    fn to_value(at: At<'_, '_>) -> Value {
        match at.slot().item {
            Item::String(ref s) => Value::String(s.to_string()),
            Item::Number(ref n) => Value::Number(n.clone()),
            Item::Bool(b) => Value::Bool(b),
            Item::Null => Value::Null,
            Item::Array(first) => at.members(first).map(|(_, m)| to_value(m)).collect(),
            Item::Object(first) => {
                // Members are linked from the last: insert them in the text's order.
                let members: Vec<_> = at.members(first).collect();
                let mut map = Map::new();
                for (k, m) in members.into_iter().rev() {
                    map.insert(k.to_owned(), to_value(m));
                }
                Value::Object(map)
            }
        }
    }

    #[test]
    fn keeps_only_referenced_keys() {
        let p = EventPattern::compile(
            &json!({"a": ["x"], "b": {"c": [1]}, "$or": [{"d": [2]}, {"b": {"e": [3]}}]}),
        )
        .unwrap();
        let paths = Paths::of(p.alternatives());
        let text = r#"{"a": ["x", {"y": 1}], "z": {"deep": [1, 2]}, "b": [{"c": 1, "q": 2}, 5, {"e": "s\u00e9"}], "d": {"w": 1}}"#;
        assert_eq!(
            paths.prune(text).unwrap(),
            json!({"a": ["x", {}], "b": [{"c": 1}, 5, {"e": "sé"}], "d": {}})
        );
        for bad in ["[1]", "\"x\"", "{\"a\": 1", "{} {}", "{\"a\": tru}"] {
            assert!(paths.prune(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validates_like_serde_json() {
        let paths = Paths::of(
            EventPattern::compile(&json!({"k": {"a": [1]}}))
                .unwrap()
                .alternatives(),
        );
        let deep = format!("{{\"x\": {}{}}}", "[".repeat(130), "]".repeat(130));
        let mut texts: Vec<String> = [
            r#"{"x": [1, -0, 0.5, -1.5e+3, 2E-2, true, false, null, "\"\\\/\b\f\n\r\t\u00e9", {}, []]}"#,
            r#"{"x": 01}"#,
            r#"{"x": 1.}"#,
            r#"{"x": .5}"#,
            r#"{"x": 1e}"#,
            r#"{"x": -}"#,
            r#"{"x": +1}"#,
            r#"{"x": tru}"#,
            r#"{"x": nul}"#,
            r#"{"x": "\x"}"#,
            r#"{"x": "\u12g4"}"#,
            "{\"x\": \"a\tb\"}",
            r#"{"x": [1,]}"#,
            r#"{"x": {"a" 1}}"#,
            r#"{"x": {"a": 1,}}"#,
            r#"{"x": {1: 1}}"#,
            r#"{"x": [1 2]}"#,
            r#"{"x": "open}"#,
            r#"{"k": {"a": 1e400}}"#,
            r#"{"k": [{"a": [1, {"b": 2}]}, 3, {"\u0061": 4}]}"#,
            r#"{"k": {"a": 1}, "k": 2}"#,
            " \t\r\n{ } \n",
            "{}x",
            "",
        ]
        .map(String::from)
        .to_vec();
        texts.push(deep);
        for text in &texts {
            let full = serde_json::from_str::<Value>(text);
            let pruned = paths.prune(text);
            assert_eq!(full.is_ok(), pruned.is_ok(), "{text}: {pruned:?}");
            if let (Ok(full), Ok(pruned)) = (full, pruned) {
                assert_eq!(pruned, prune_value(&full, &paths), "{text}");
            }
        }
    }

    #[test]
    fn plain_bytes_stops_at_quotes_escapes_and_control_characters() {
        let text = "abcdefgh\u{e9}ijklmnop\"q\\r\u{1f}s\u{7f}t\u{20}uvwxyz0123456789\u{0}!";
        let bytes = text.as_bytes();
        for start in 0..bytes.len() {
            let want = bytes[start..]
                .iter()
                .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
                .count();
            let quote = bytes.get(start + want) == Some(&b'"');
            assert_eq!(plain_bytes(&bytes[start..]), (want, quote), "from {start}");
        }
    }

    #[test]
    fn removing_keeps_shared_keys() {
        let a = EventPattern::compile(&json!({"a": {"b": [1]}})).unwrap();
        let b = EventPattern::compile(&json!({"a": {"c": [1]}, "d": [1]})).unwrap();
        let mut paths = Paths::of(a.alternatives());
        b.alternatives().iter().for_each(|n| paths.add(n));
        a.alternatives().iter().for_each(|n| paths.remove(n));
        let text = r#"{"a": {"b": 1, "c": 2}, "d": 3}"#;
        assert_eq!(paths.prune(text).unwrap(), json!({"a": {"c": 2}, "d": 3}));
        b.alternatives().iter().for_each(|n| paths.remove(n));
        assert_eq!(paths.prune(text).unwrap(), json!({}));
    }
}
