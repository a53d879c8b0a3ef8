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
            let i = match self.position(&field.key) {
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
            let Some(i) = self.position(&field.key) else {
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

    fn position(&self, key: &str) -> Option<usize> {
        let key = key.as_bytes();
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
                items: Vec::with_capacity(16),
                members: Vec::with_capacity(16),
            },
            stack: Vec::with_capacity(16),
        };
        match scanner.event(self) {
            Ok(()) => Ok(scanner.doc),
            Err((what, at)) => Err(Error::invalid_input(
                "match_json",
                "event",
                format!(
                    "the event must be a JSON object like {{\"source\": \"my.app\"}}: {what} at byte {at}"
                ),
            )),
        }
    }
}

/// An event read from JSON text, holding only the referenced fields, as a flat list of values
/// (the event object first). Strings without escapes are borrowed from the text.
pub(crate) struct Doc<'a> {
    items: Vec<Item<'a>>,
    /// The members of the arrays and objects: (key, item); an array's keys are empty.
    members: Vec<(&'a str, u32)>,
}

/// One value of a [`Doc`]; arrays and objects are ranges of its members.
enum Item<'a> {
    String(Cow<'a, str>),
    Number(Number),
    Bool(bool),
    Null,
    Array(u32, u32),
    Object(u32, u32),
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

impl At<'_, '_> {
    fn item(&self) -> &Item<'_> {
        &self.doc.items[self.at as usize]
    }

    fn members(&self, start: u32, end: u32) -> &[(&str, u32)] {
        &self.doc.members[start as usize..end as usize]
    }
}

impl Json for At<'_, '_> {
    #[inline]
    fn scalar(&self) -> Option<Scalar<'_>> {
        match self.item() {
            Item::String(s) => Some(Scalar::String(s)),
            Item::Number(n) => Some(Scalar::Number(n)),
            Item::Bool(b) => Some(Scalar::Bool(*b)),
            Item::Null => Some(Scalar::Null),
            Item::Array(..) | Item::Object(..) => None,
        }
    }

    #[inline]
    fn items(&self) -> Option<impl Iterator<Item = Self>> {
        match *self.item() {
            Item::Array(start, end) => {
                let doc = self.doc;
                Some(
                    self.members(start, end)
                        .iter()
                        .map(move |&(_, at)| At { doc, at }),
                )
            }
            _ => None,
        }
    }

    #[inline]
    fn is_object(&self) -> bool {
        matches!(self.item(), Item::Object(..))
    }

    /// The last member named `key`, as `serde_json` keeps the last of duplicate keys.
    #[inline]
    fn get(&self, key: &str) -> Option<Self> {
        match *self.item() {
            Item::Object(start, end) => self
                .members(start, end)
                .iter()
                .rev()
                .find(|(k, _)| key_eq(k, key))
                .map(|&(_, at)| At { doc: self.doc, at }),
            _ => None,
        }
    }
}

/// How many bytes at the start of `bytes` can be in a string as they are (no `"`, `\\` or control
/// character), eight at a time.
#[inline]
fn plain_bytes(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut n = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // Bytes below 0x20, equal to '"' or equal to '\\' (a zero byte after xor).
        let special = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')));
        if special != 0 {
            return n + (special.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + chunks
        .remainder()
        .iter()
        .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
        .count()
}

/// The most nested arrays and objects an event may have (as `serde_json`).
const MAX_DEPTH: usize = 128;

/// What is wrong with the text, and where.
type Scan<T> = std::result::Result<T, (&'static str, usize)>;

/// A validating JSON reader that skips the values no pattern looks at without building them.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    doc: Doc<'a>,
    /// The members of the arrays and objects being read.
    stack: Vec<(&'a str, u32)>,
}

impl<'a> Scanner<'a> {
    fn fail<T>(&self, what: &'static str) -> Scan<T> {
        Err((what, self.pos))
    }

    #[inline]
    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips white space, then the byte `b`.
    #[inline]
    fn expect(&mut self, b: u8, what: &'static str) -> Scan<()> {
        self.space();
        if self.peek() != Some(b) {
            return self.fail(what);
        }
        self.pos += 1;
        Ok(())
    }

    fn enter(&mut self) -> Scan<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("recursion limit exceeded");
        }
        Ok(())
    }

    /// The whole event: one object, pruned to `paths`, and nothing after it.
    fn event(&mut self, paths: &'a Paths) -> Scan<()> {
        self.space();
        if self.peek() != Some(b'{') {
            return self.fail("expected an object");
        }
        self.object(paths)?;
        self.space();
        if self.pos != self.bytes.len() {
            return self.fail("trailing characters");
        }
        Ok(())
    }

    fn push(&mut self, item: Item<'a>) -> u32 {
        self.doc.items.push(item);
        (self.doc.items.len() - 1) as u32
    }

    /// Moves the members read since `mark` from the stack to the document.
    fn members_since(&mut self, mark: usize) -> (u32, u32) {
        let start = self.doc.members.len() as u32;
        self.doc.members.extend(self.stack.drain(mark..));
        (start, self.doc.members.len() as u32)
    }

    /// The value at `paths`, pruned to its keys; returns its item.
    fn value(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.space();
        let start = self.pos;
        let item = match self.peek() {
            Some(b'{') => return self.object(paths),
            Some(b'[') => return self.array(paths),
            Some(b'"') => {
                if self.skip_string()? {
                    let text = &self.text[start..self.pos];
                    Item::String(Cow::Owned(
                        serde_json::from_str(text).map_err(|_| ("invalid string", start))?,
                    ))
                } else {
                    Item::String(Cow::Borrowed(&self.text[start + 1..self.pos - 1]))
                }
            }
            Some(b't') => {
                self.literal("true")?;
                Item::Bool(true)
            }
            Some(b'f') => {
                self.literal("false")?;
                Item::Bool(false)
            }
            Some(b'n') => {
                self.literal("null")?;
                Item::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                self.skip_number()?;
                let text = &self.text[start..self.pos];
                Item::Number(text.parse().map_err(|_| ("number out of range", start))?)
            }
            _ => return self.fail("expected a value"),
        };
        Ok(self.push(item))
    }

    /// An object (at its `{`), pruned to the keys of `paths`.
    fn object(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.pos += 1;
        self.enter()?;
        let slot = self.push(Item::Null);
        let mark = self.stack.len();
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.space();
                let start = self.pos;
                if self.peek() != Some(b'"') {
                    return self.fail("expected a key");
                }
                let child = if self.skip_string()? {
                    let key: String = serde_json::from_str(&self.text[start..self.pos])
                        .map_err(|_| ("invalid key", start))?;
                    paths.position(&key)
                } else {
                    paths.position(&self.text[start + 1..self.pos - 1])
                };
                self.expect(b':', "expected ':'")?;
                match child {
                    Some(i) => {
                        let (key, child) = &paths.children[i];
                        let at = self.value(child)?;
                        self.stack.push((key, at));
                    }
                    None => self.skip_value()?,
                }
                if self.end_of(b'}', "expected ',' or '}'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        let (start, end) = self.members_since(mark);
        self.doc.items[slot as usize] = Item::Object(start, end);
        Ok(slot)
    }

    /// An array (at its `[`), its elements pruned to `paths`.
    fn array(&mut self, paths: &'a Paths) -> Scan<u32> {
        self.pos += 1;
        self.enter()?;
        let slot = self.push(Item::Null);
        let mark = self.stack.len();
        self.space();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                let at = self.value(paths)?;
                self.stack.push(("", at));
                if self.end_of(b']', "expected ',' or ']'")? {
                    break;
                }
            }
        }
        self.depth -= 1;
        let (start, end) = self.members_since(mark);
        self.doc.items[slot as usize] = Item::Array(start, end);
        Ok(slot)
    }

    /// After a member: true at the closing `close`, false after a `,`.
    #[inline]
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
            _ => self.fail(what),
        }
    }

    /// Checks and skips one value.
    fn skip_value(&mut self) -> Scan<()> {
        self.space();
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                self.space();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.space();
                        if self.peek() != Some(b'"') {
                            return self.fail("expected a key");
                        }
                        self.skip_string()?;
                        self.expect(b':', "expected ':'")?;
                        self.skip_value()?;
                        if self.end_of(b'}', "expected ',' or '}'")? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                self.space();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_value()?;
                        if self.end_of(b']', "expected ',' or ']'")? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            Some(b'"') => {
                self.skip_string()?;
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => self.skip_number()?,
            _ => return self.fail("expected a value"),
        }
        Ok(())
    }

    fn literal(&mut self, word: &'static str) -> Scan<()> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return self.fail("expected a value");
        }
        self.pos += word.len();
        Ok(())
    }

    /// Skips digits, returning how many.
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn skip_number(&mut self) -> Scan<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return self.fail("invalid number"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return self.fail("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return self.fail("invalid number");
            }
        }
        Ok(())
    }

    /// Checks and skips a string (at its opening quote); true when it has escapes.
    #[inline]
    fn skip_string(&mut self) -> Scan<bool> {
        self.pos += 1;
        let mut escaped = false;
        loop {
            self.pos += plain_bytes(&self.bytes[self.pos..]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return self.fail("invalid escape");
                            }
                            self.pos += 5;
                        }
                        _ => return self.fail("invalid escape"),
                    }
                }
                Some(_) => return self.fail("control character in string"),
                None => return self.fail("unterminated string"),
            }
        }
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
                        let (_, child) = &paths.children[paths.position(k)?];
                        Some((k.clone(), prune_value(v, child)))
                    })
                    .collect(),
            ),
            Value::Array(items) => items.iter().map(|v| prune_value(v, paths)).collect(),
            scalar => scalar.clone(),
        }
    }

    fn to_value(at: At<'_, '_>) -> Value {
        match *at.item() {
            Item::String(ref s) => Value::String(s.to_string()),
            Item::Number(ref n) => Value::Number(n.clone()),
            Item::Bool(b) => Value::Bool(b),
            Item::Null => Value::Null,
            Item::Array(start, end) => at
                .members(start, end)
                .iter()
                .map(|&(_, i)| to_value(At { doc: at.doc, at: i }))
                .collect(),
            Item::Object(start, end) => {
                let mut map = Map::new();
                for &(k, i) in at.members(start, end) {
                    map.insert(k.to_owned(), to_value(At { doc: at.doc, at: i }));
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
            assert_eq!(plain_bytes(&bytes[start..]), want, "from {start}");
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
