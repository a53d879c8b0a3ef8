//! JSONPath as the Amazon States Language uses it: the Jayway syntax Step Functions accepts
//! (`$.a.b`, `$['a b']`, `$.a[0]`, `$.a[-1]`, `[*]`, slices, `..`, `[?(@.x > 1)]`), context
//! paths (`$$.Execution.Id`) and workflow-variable paths (`$name.field[0]`).
//!
//! A definite path (only names and single indexes) selects one value and fails when nothing
//! is there; an indefinite path (wildcard, slice, filter, `..`, several names or indexes)
//! selects an array of every match, possibly empty.

use serde_json::{Map, Value};

use super::limits::{MAX_PATH_DEPTH, MAX_PATH_WORK, SHOWN_BYTES, Unit, measure, shown};
use super::{Failure, MAX_PAYLOAD_BYTES, Scope, errors};
use eval::{Budget, select_nodes};

pub(crate) use eval::json_equal;

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
    /// `a || b || ...` (flat, so that a long chain is no deep tree).
    Or(Vec<Expr>),
    /// `a && b && ...`.
    And(Vec<Expr>),
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
        let mut cur = Cursor {
            rest: text,
            depth: 0,
        };
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
        self.evaluate(doc)?.ok_or_else(|| {
            let text = &self.text;
            let field = field.map(|f| format!(" specified for the field '{f}'"));
            let field = field.unwrap_or_default();
            let cause = format!("The JSONPath '{text}'{field} could not be found in the input");
            Failure::runtime(format!("{cause} '{}'", shown(doc, SHOWN_BYTES)))
        })
    }

    /// The selected value, or `None` when nothing matches (an unknown variable, a missing
    /// field, an indefinite path with no match). For Choice rules (`IsPresent`). Fails only when
    /// the evaluation passes its bounds (see [`Path::select`]).
    pub fn select_optional(&self, scope: &Scope) -> Result<Option<Value>, Failure> {
        let Ok(doc) = self.document(scope) else {
            return Ok(None);
        };
        Ok(self
            .evaluate(doc)?
            .filter(|v| is_definite(&self.steps) || v != &Value::Array(vec![])))
    }

    /// Applies the steps to `doc` within the bounds: at most [`MAX_PATH_WORK`] nodes visited
    /// (`States.Runtime` past it) and, for an indefinite path, a result of at most
    /// [`MAX_PAYLOAD_BYTES`] as JSON text, refused before it is built
    /// (`States.DataLimitExceeded`).
    fn evaluate(&self, doc: &Value) -> Result<Option<Value>, Failure> {
        let mut budget = Budget::default();
        let nodes = select_nodes(&self.steps, doc, doc, &mut budget);
        let text = &self.text;
        if budget.exhausted {
            return Err(Failure::runtime(format!(
                "The JSONPath '{text}' visits more than {MAX_PATH_WORK} nodes of its input; select less (name fields instead of '..', filters or wildcards)"
            )));
        }
        if is_definite(&self.steps) {
            return Ok(nodes.first().map(|v| (*v).clone()));
        }
        let mut remaining = MAX_PAYLOAD_BYTES;
        for node in &nodes {
            match measure(node, remaining, usize::MAX, Unit::Bytes) {
                Ok(len) if len < remaining => remaining -= len + 1,
                _ => {
                    return Err(Failure::new(
                        errors::DATA_LIMIT_EXCEEDED,
                        format!(
                            "The JSONPath '{text}' selects more than {MAX_PAYLOAD_BYTES} bytes (the payload size quota); select less"
                        ),
                    ));
                }
            }
        }
        Ok(Some(Value::Array(nodes.into_iter().cloned().collect())))
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

fn is_definite(steps: &[Step]) -> bool {
    steps
        .iter()
        .all(|s| matches!(s, Step::Field(_) | Step::Index(_)))
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// The unparsed rest of the path text, and how deeply the parser is nested in it.
struct Cursor<'a> {
    rest: &'a str,
    depth: usize,
}

impl<'a> Cursor<'a> {
    /// Enters a nested construct (a bracket, a parenthesis, a negation, a literal array);
    /// fails past [`MAX_PATH_DEPTH`] levels, before the parser recurses further.
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_PATH_DEPTH {
            return Err(format!(
                "the path nests brackets, parentheses and negations deeper than {MAX_PATH_DEPTH} levels; simplify it"
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

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
    cur.enter()?;
    let step = parse_bracket_inner(cur)?;
    cur.leave();
    cur.expect("]")?;
    Ok(step)
}

/// What is between `[` and `]`.
fn parse_bracket_inner(cur: &mut Cursor) -> Result<Step, String> {
    Ok(if cur.next_is("*") {
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
    })
}

fn union(mut steps: Vec<Step>) -> Step {
    if steps.len() == 1 {
        steps.remove(0)
    } else {
        Step::Union(steps)
    }
}

/// Builds `Expr::Or` or `Expr::And`.
type Join = fn(Vec<Expr>) -> Expr;

/// A filter expression: `level` 0 parses `||`, 1 parses `&&`, 2 a negation, a parenthesised
/// expression or a comparison.
fn parse_expr(cur: &mut Cursor, level: u8) -> Result<Expr, String> {
    if level < 2 {
        let (token, join): (_, Join) = match level {
            0 => ("||", Expr::Or),
            _ => ("&&", Expr::And),
        };
        let mut terms = vec![parse_expr(cur, level + 1)?];
        while cur.next_is(token) {
            terms.push(parse_expr(cur, level + 1)?);
        }
        return Ok(match terms.len() {
            1 => terms.remove(0),
            _ => join(terms),
        });
    }
    if cur.next_is("(") {
        cur.enter()?;
        let expr = parse_expr(cur, 0)?;
        cur.leave();
        cur.expect(")")?;
        return Ok(expr);
    }
    if !cur.rest.trim_start().starts_with("!=") && cur.next_is("!") {
        cur.enter()?;
        let expr = parse_expr(cur, 2)?;
        cur.leave();
        return Ok(Expr::Not(Box::new(expr)));
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
            cur.enter()?;
            let mut items = Vec::new();
            while !cur.next_is("]") {
                if !items.is_empty() {
                    cur.expect(",")?;
                }
                items.push(parse_literal(cur)?);
            }
            cur.leave();
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

mod eval;
#[cfg(test)]
mod tests;
