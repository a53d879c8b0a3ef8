//! JSONPath as the Amazon States Language uses it: the Jayway syntax Step Functions accepts
//! (`$.a.b`, `$['a b']`, `$.a[0]`, `$.a[-1]`, `[*]`, slices, `..`, `[?(@.x > 1)]`), context
//! paths (`$$.Execution.Id`) and workflow-variable paths (`$name.field[0]`).
//!
//! A definite path (only names and single indexes) selects one value and fails when nothing
//! is there; an indefinite path (wildcard, slice, filter, `..`, several names or indexes)
//! selects an array of every match, possibly empty.

use serde_json::{Map, Value};

use super::{Failure, Scope, errors};

/// What a path reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the document the field applies to (usually the state's input).
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: the workflow variable `name`.
    Variable(String),
}

/// A parsed JSONPath.
#[derive(Debug, Clone)]
pub struct Path {
    text: String,
    root: Root,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Index(i64),
    /// `[0,2]`, `['a','b']`: each field or index in turn.
    Union(Vec<Step>),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Expr>),
    /// `..step`: the step applied to the node and to every node below it.
    Descendants(Box<Step>),
}

#[derive(Debug, Clone)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Exists(Operand),
    Compare(Operand, &'static str, Operand),
}

#[derive(Debug, Clone)]
enum Operand {
    /// `@...`: relative to the element under test.
    Current(Vec<Step>),
    /// `$...`: relative to the document the whole path applies to.
    Document(Vec<Step>),
    Literal(Value),
}

/// The filter comparison operators, Jayway's `in` and `nin` included (longest first).
const OPS: [&str; 8] = ["==", "!=", "<=", ">=", "<", ">", "in", "nin"];

impl Path {
    /// Parses `$...`, `$$...` or `$name...`.
    pub fn parse(text: &str) -> Result<Path, String> {
        let fail = |e: String| format!("invalid JSONPath '{text}': {e}");
        let mut cur = Cursor { rest: text };
        if !cur.eat('$') {
            return Err(fail("a path must start with '$'".into()));
        }
        let root = if cur.eat('$') {
            Root::Context
        } else if cur.peek().is_some_and(|c| c.is_alphabetic() || c == '_') {
            Root::Variable(cur.take(|c| c.is_alphanumeric() || c == '_').into())
        } else {
            Root::Input
        };
        let steps = parse_steps(&mut cur, false).map_err(fail)?;
        match cur.peek() {
            Some(c) => Err(fail(cur.error(&format!("unexpected '{c}'")))),
            None => Ok(Path {
                text: text.into(),
                root,
                steps,
            }),
        }
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the path reads from: the input, the context object or a variable.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// Whether this is a Reference Path: only `.name`, `['name']` and `[n]` steps, so it
    /// identifies a single node (required for `ResultPath` and friends).
    pub fn is_reference(&self) -> bool {
        is_definite(&self.steps)
    }

    /// Applies the path: the value for a definite path (`States.Runtime` when nothing is
    /// there), an array of all matches for an indefinite one.
    pub fn select(&self, scope: &Scope) -> Result<Value, Failure> {
        self.select_in(scope, None)
    }

    /// Like [`Path::select`], with Step Functions' message for a payload-template field.
    pub(crate) fn select_for_field(&self, scope: &Scope, field: &str) -> Result<Value, Failure> {
        self.select_in(scope, Some(field))
    }

    fn select_in(&self, scope: &Scope, field: Option<&str>) -> Result<Value, Failure> {
        let doc = self.document(scope)?;
        evaluate(&self.steps, doc, doc).ok_or_else(|| {
            let text = &self.text;
            let field = field.map(|f| format!(" specified for the field '{f}'"));
            let field = field.unwrap_or_default();
            let cause = format!("The JSONPath '{text}'{field} could not be found in the input");
            Failure::runtime(format!("{cause} '{doc}'"))
        })
    }

    /// The selected value, or `None` when nothing matches (an unknown variable, a missing
    /// field, an indefinite path with no match). For Choice rules (`IsPresent`).
    pub fn select_optional(&self, scope: &Scope) -> Option<Value> {
        let doc = self.document(scope).ok()?;
        evaluate(&self.steps, doc, doc)
            .filter(|v| is_definite(&self.steps) || v != &Value::Array(vec![]))
    }

    fn document<'a>(&self, scope: &Scope<'a>) -> Result<&'a Value, Failure> {
        match &self.root {
            Root::Input => Ok(scope.input),
            Root::Context => Ok(scope.context),
            Root::Variable(name) => scope.vars.get(name).ok_or_else(|| {
                let text = &self.text;
                Failure::runtime(format!(
                    "The JSONPath '{text}' references the variable '{name}', which is not defined"
                ))
            }),
        }
    }

    /// Writes `value` where this Reference Path points (`ResultPath`): `$` replaces `target`;
    /// missing (or null) fields are created as objects on the way. Fails with
    /// `States.ResultPathMatchFailure`, leaving `target` untouched, when a step meets a value
    /// of the wrong kind (a field of a non-object, an index of a non-array or out of range) or
    /// the path is not a reference path into the input.
    pub fn set_reference(&self, target: &mut Value, value: Value) -> Result<(), Failure> {
        if self.root != Root::Input || !self.is_reference() || !can_set(&self.steps, target) {
            let text = &self.text;
            let cause = format!("Unable to apply ReferencePath '{text}' to input '{target}'");
            return Err(Failure::new(errors::RESULT_PATH_MATCH_FAILURE, cause));
        }
        let mut node = target;
        for step in &self.steps {
            if node.is_null() {
                *node = Value::Object(Map::new());
            }
            node = match (step, node) {
                (Step::Field(name), Value::Object(map)) => {
                    map.entry(name.as_str()).or_insert(Value::Null)
                }
                (Step::Index(i), Value::Array(items)) => {
                    let i = resolve_index(*i, items.len()).unwrap_or_default();
                    &mut items[i]
                }
                (_, node) => node,
            };
        }
        *node = value;
        Ok(())
    }
}

/// Whether `set_reference` can follow `steps` through `target` without a type mismatch.
fn can_set(steps: &[Step], target: &Value) -> bool {
    let mut node = Some(target);
    for step in steps {
        node = match (step, node) {
            (Step::Field(_), None | Some(Value::Null)) => None,
            (Step::Field(name), Some(Value::Object(map))) => map.get(name),
            (Step::Index(i), Some(Value::Array(items))) => match resolve_index(*i, items.len()) {
                Some(i) => items.get(i),
                None => return false,
            },
            _ => return false,
        };
    }
    true
}

/// JSON equality with numbers compared by value (`1 == 1.0`), as JSONPath filters and
/// intrinsic functions compare.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn is_definite(steps: &[Step]) -> bool {
    steps
        .iter()
        .all(|s| matches!(s, Step::Field(_) | Step::Index(_)))
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// Applies `steps` to `start`: the value of a definite path (`None` when it matches
/// nothing), an array of all the matches of an indefinite one. `doc` is `$` in filters.
fn evaluate(steps: &[Step], start: &Value, doc: &Value) -> Option<Value> {
    let mut nodes = vec![start];
    for step in steps {
        let mut next = Vec::new();
        for node in nodes {
            apply(step, node, doc, &mut next);
        }
        nodes = next;
    }
    match is_definite(steps) {
        true => nodes.first().map(|v| (*v).clone()),
        false => Some(Value::Array(nodes.into_iter().cloned().collect())),
    }
}

fn apply<'a>(step: &Step, node: &'a Value, doc: &Value, out: &mut Vec<&'a Value>) {
    match (step, node) {
        (Step::Field(name), Value::Object(map)) => out.extend(map.get(name)),
        (Step::Index(i), Value::Array(items)) => {
            out.extend(resolve_index(*i, items.len()).map(|i| &items[i]))
        }
        (Step::Union(steps), _) => steps.iter().for_each(|step| apply(step, node, doc, out)),
        (Step::Wildcard, Value::Array(items)) => out.extend(items),
        (Step::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Step::Slice(start, end, step), Value::Array(items)) => {
            // RFC 9535 slices (Jayway has no step; otherwise they agree).
            let (len, step) = (items.len() as i64, step.unwrap_or(1));
            let normal = |v: i64| if v < 0 { len + v } else { v };
            let (low, high) = if step > 0 { (0, len) } else { (-1, len - 1) };
            let mut i = start
                .map_or(if step > 0 { 0 } else { len - 1 }, normal)
                .clamp(low, high);
            let stop = end
                .map_or(if step > 0 { len } else { -1 }, normal)
                .clamp(low, high);
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                out.push(&items[i as usize]);
                i += step;
            }
        }
        (Step::Filter(expr), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| test(expr, item, doc)))
        }
        // Like Jayway, a filter applied to an object tests the object itself.
        (Step::Filter(expr), Value::Object(_)) if test(expr, node, doc) => out.push(node),
        (Step::Descendants(inner), _) => {
            apply(inner, node, doc, out);
            match node {
                Value::Array(items) => items.iter().for_each(|child| apply(step, child, doc, out)),
                Value::Object(map) => map.values().for_each(|child| apply(step, child, doc, out)),
                _ => {}
            }
        }
        _ => {}
    }
}

fn test(expr: &Expr, node: &Value, doc: &Value) -> bool {
    let value = |operand: &Operand| {
        let (found, definite) = match operand {
            Operand::Literal(v) => return Some(v.clone()),
            Operand::Current(steps) => (evaluate(steps, node, doc), is_definite(steps)),
            Operand::Document(steps) => (evaluate(steps, doc, doc), is_definite(steps)),
        };
        found.filter(|v| definite || v != &Value::Array(vec![]))
    };
    match expr {
        Expr::Or(a, b) => test(a, node, doc) || test(b, node, doc),
        Expr::And(a, b) => test(a, node, doc) && test(b, node, doc),
        Expr::Not(e) => !test(e, node, doc),
        Expr::Exists(operand) => value(operand).is_some(),
        Expr::Compare(left, op, right) => compare(value(left).as_ref(), op, value(right).as_ref()),
    }
}

/// A filter comparison. A missing operand makes every comparison false, so its negations
/// (`!=`, `nin`) true, as in Jayway.
fn compare(left: Option<&Value>, op: &str, right: Option<&Value>) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return op == "!=" || op == "nin";
    };
    let order = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    let contains = || {
        right
            .as_array()
            .is_some_and(|items| items.iter().any(|v| json_equal(left, v)))
    };
    match op {
        "==" => json_equal(left, right),
        "!=" => !json_equal(left, right),
        "in" => contains(),
        "nin" => !contains(),
        "<" => order.is_some_and(|o| o.is_lt()),
        "<=" => order.is_some_and(|o| o.is_le()),
        ">" => order.is_some_and(|o| o.is_gt()),
        ">=" => order.is_some_and(|o| o.is_ge()),
        _ => false,
    }
}

/// The unparsed rest of the path text.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.rest = &self.rest[c.len_utf8()..];
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        self.eat_str(c.encode_utf8(&mut [0; 4]))
    }

    fn eat_str(&mut self, s: &str) -> bool {
        self.rest
            .strip_prefix(s)
            .map(|rest| self.rest = rest)
            .is_some()
    }

    /// Skips whitespace, then eats `s` if it comes next.
    fn next_is(&mut self, s: &str) -> bool {
        self.take(char::is_whitespace);
        self.eat_str(s)
    }

    fn take(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(|c| !keep(c)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn expect(&mut self, s: &str) -> Result<(), String> {
        if self.next_is(s) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{s}'")))
        }
    }

    fn error(&self, message: &str) -> String {
        match self.rest {
            "" => format!("{message} at the end"),
            rest => format!("{message} at '{rest}'"),
        }
    }
}

fn parse_steps(cur: &mut Cursor, in_filter: bool) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    loop {
        let descend = cur.eat_str("..");
        if !descend && !cur.eat('.') && cur.peek() != Some('[') {
            return Ok(steps);
        }
        let step = if cur.peek() == Some('[') {
            parse_bracket(cur)?
        } else if cur.eat('*') {
            Step::Wildcard
        } else {
            Step::Field(read_name(cur, in_filter)?)
        };
        steps.push(if descend {
            Step::Descendants(Box::new(step))
        } else {
            step
        });
    }
}

/// A dot-notation field name; a backslash escapes the next character (`$.a\.b`).
fn read_name(cur: &mut Cursor, in_filter: bool) -> Result<String, String> {
    let mut name = String::new();
    while let Some(c) = cur.peek() {
        if c == '.' || c == '[' || (in_filter && (c.is_whitespace() || ")=!<>&|,".contains(c))) {
            break;
        }
        cur.bump();
        name.push(if c == '\\' {
            cur.bump()
                .ok_or("a path must not end with an escape backslash")?
        } else {
            c
        });
    }
    match name.as_str() {
        "" => Err(cur.error("expected a field name")),
        _ if name.ends_with("()") => Err(format!(
            "JSONPath functions such as '{name}' are not supported"
        )),
        _ => Ok(name),
    }
}

fn read_quoted(cur: &mut Cursor) -> Result<String, String> {
    cur.take(char::is_whitespace);
    let quote = cur
        .bump()
        .filter(|c| *c == '\'' || *c == '"')
        .ok_or_else(|| cur.error("expected a quote"))?;
    let mut text = String::new();
    loop {
        match cur.bump() {
            Some(c) if c == quote => return Ok(text),
            Some('\\') => text.extend(cur.bump()),
            Some(c) => text.push(c),
            None => return Err(cur.error("unterminated quoted name")),
        }
    }
}

fn read_int(cur: &mut Cursor) -> Result<Option<i64>, String> {
    cur.take(char::is_whitespace);
    let sign = if cur.eat('-') { "-" } else { "" };
    match (sign, cur.take(|c| c.is_ascii_digit())) {
        ("", "") => Ok(None),
        (sign, digits) => format!("{sign}{digits}")
            .parse()
            .map(Some)
            .map_err(|_| cur.error("invalid index")),
    }
}

fn parse_bracket(cur: &mut Cursor) -> Result<Step, String> {
    cur.expect("[")?;
    let step = if cur.next_is("*") {
        Step::Wildcard
    } else if cur.next_is("?") {
        cur.expect("(")?;
        let expr = parse_expr(cur, 0)?;
        cur.expect(")")?;
        Step::Filter(Box::new(expr))
    } else if cur.rest.trim_start().starts_with(['\'', '"']) {
        let mut steps = vec![Step::Field(read_quoted(cur)?)];
        while cur.next_is(",") {
            steps.push(Step::Field(read_quoted(cur)?));
        }
        union(steps)
    } else {
        let first = read_int(cur)?;
        if cur.next_is(":") {
            let end = read_int(cur)?;
            let step = if cur.next_is(":") {
                read_int(cur)?
            } else {
                None
            };
            if step == Some(0) {
                return Err(cur.error("a slice step must not be 0"));
            }
            Step::Slice(first, end, step)
        } else {
            let mut steps = vec![Step::Index(first.ok_or_else(|| {
                cur.error("expected an index, a quoted name, '*', a slice or a filter")
            })?)];
            while cur.next_is(",") {
                steps.push(Step::Index(
                    read_int(cur)?.ok_or_else(|| cur.error("expected an index"))?,
                ));
            }
            union(steps)
        }
    };
    cur.expect("]")?;
    Ok(step)
}

fn union(mut steps: Vec<Step>) -> Step {
    if steps.len() == 1 {
        steps.remove(0)
    } else {
        Step::Union(steps)
    }
}

/// Builds `Expr::Or` or `Expr::And`.
type Join = fn(Box<Expr>, Box<Expr>) -> Expr;

/// A filter expression: `level` 0 parses `||`, 1 parses `&&`, 2 a negation, a parenthesised
/// expression or a comparison.
fn parse_expr(cur: &mut Cursor, level: u8) -> Result<Expr, String> {
    if level < 2 {
        let (token, join): (_, Join) = match level {
            0 => ("||", Expr::Or),
            _ => ("&&", Expr::And),
        };
        let mut left = parse_expr(cur, level + 1)?;
        while cur.next_is(token) {
            left = join(Box::new(left), Box::new(parse_expr(cur, level + 1)?));
        }
        return Ok(left);
    }
    if cur.next_is("(") {
        let expr = parse_expr(cur, 0)?;
        cur.expect(")")?;
        return Ok(expr);
    }
    if !cur.rest.trim_start().starts_with("!=") && cur.next_is("!") {
        return Ok(Expr::Not(Box::new(parse_expr(cur, 2)?)));
    }
    let left = parse_operand(cur)?;
    cur.take(char::is_whitespace);
    let word = cur
        .rest
        .split(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or_default();
    let is_op = |op: &&str| {
        if op.starts_with(char::is_alphabetic) {
            *op == word
        } else {
            cur.rest.starts_with(op)
        }
    };
    match OPS.into_iter().find(is_op) {
        _ if cur.rest.starts_with("=~") || cur.rest.starts_with("===") => {
            Err(cur.error("unsupported filter operator"))
        }
        Some(op) => {
            cur.eat_str(op);
            Ok(Expr::Compare(left, op, parse_operand(cur)?))
        }
        None if !word.is_empty() => Err(format!("the filter operator '{word}' is not supported")),
        None if matches!(left, Operand::Literal(_)) => {
            Err(cur.error("expected a comparison operator"))
        }
        None => Ok(Expr::Exists(left)),
    }
}

fn parse_operand(cur: &mut Cursor) -> Result<Operand, String> {
    cur.take(char::is_whitespace);
    if cur.eat('@') {
        return Ok(Operand::Current(parse_steps(cur, true)?));
    }
    if !cur.eat('$') {
        return parse_literal(cur).map(Operand::Literal);
    }
    match cur.peek() {
        Some(c) if c.is_alphabetic() || c == '$' => {
            Err(cur.error("only '@' and '$' paths are supported in filters"))
        }
        _ => Ok(Operand::Document(parse_steps(cur, true)?)),
    }
}

fn parse_literal(cur: &mut Cursor) -> Result<Value, String> {
    cur.take(char::is_whitespace);
    match cur.peek() {
        Some('\'' | '"') => read_quoted(cur).map(Value::String),
        Some('[') => {
            cur.bump();
            let mut items = Vec::new();
            while !cur.next_is("]") {
                if !items.is_empty() {
                    cur.expect(",")?;
                }
                items.push(parse_literal(cur)?);
            }
            Ok(Value::Array(items))
        }
        _ => {
            let word = cur.take(|c| c.is_alphanumeric() || "+-.".contains(c));
            match serde_json::from_str::<Value>(word) {
                Ok(value @ (Value::Null | Value::Bool(_) | Value::Number(_))) => Ok(value),
                _ => Err(cur.error(&format!("invalid filter value '{word}'"))),
            }
        }
    }
}

#[cfg(test)]
mod tests;
