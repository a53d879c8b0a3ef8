//! Evaluation of parsed JSONPaths within a work budget: the nodes a path selects, filters,
//! and equality of JSON values, all without recursion on the document's depth.

use serde_json::Value;

use super::{Expr, Operand, Step, is_definite, resolve_index};
use crate::asl::limits::MAX_PATH_WORK;

/// JSON equality with numbers compared by value (`1 == 1.0`), as JSONPath filters and
/// intrinsic functions compare. Walks the values without recursion.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    json_equal_within(a, b, &mut Budget::unlimited())
}

/// [`json_equal`], each pair of values compared charged to `budget` (false once it runs out).
fn json_equal_within(a: &Value, b: &Value, budget: &mut Budget) -> bool {
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        if !budget.charge(1) {
            return false;
        }
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let equal = match (x.as_i64(), y.as_i64()) {
                    (Some(x), Some(y)) => x == y,
                    _ => x.as_f64() == y.as_f64(),
                };
                if !equal {
                    return false;
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                stack.extend(x.iter().zip(y));
            }
            (Value::Object(x), Value::Object(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => stack.push((v, w)),
                        None => return false,
                    }
                }
            }
            (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
                return false;
            }
            _ if a != b => return false,
            _ => {}
        }
    }
    true
}

/// What one evaluation may still do: each node selected or visited, and each pair of values
/// compared, costs one unit of [`MAX_PATH_WORK`].
#[derive(Debug)]
pub(super) struct Budget {
    left: usize,
    pub(super) exhausted: bool,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            left: MAX_PATH_WORK,
            exhausted: false,
        }
    }
}

impl Budget {
    fn unlimited() -> Self {
        Budget {
            left: usize::MAX,
            exhausted: false,
        }
    }

    /// Spends `n` units; false (and exhausted from then on) when there were not enough.
    pub(super) fn charge(&mut self, n: usize) -> bool {
        match self.left.checked_sub(n) {
            Some(left) if !self.exhausted => {
                self.left = left;
                true
            }
            _ => {
                self.exhausted = true;
                false
            }
        }
    }
}

/// The nodes `steps` select from `start` (`doc` is `$` in filters); empty once `budget` runs
/// out.
pub(super) fn select_nodes<'a>(
    steps: &[Step],
    start: &'a Value,
    doc: &'a Value,
    budget: &mut Budget,
) -> Vec<&'a Value> {
    let mut nodes = vec![start];
    for step in steps {
        let mut next = Vec::new();
        for node in nodes {
            apply(step, node, doc, &mut next, budget);
            if budget.exhausted {
                return Vec::new();
            }
        }
        nodes = next;
    }
    nodes
}

/// Appends to `out` what `step` selects from `node`, charging `budget` for each node.
fn apply<'a>(
    step: &Step,
    node: &'a Value,
    doc: &'a Value,
    out: &mut Vec<&'a Value>,
    budget: &mut Budget,
) {
    let push = |out: &mut Vec<&'a Value>, value: &'a Value, budget: &mut Budget| {
        if budget.charge(1) {
            out.push(value);
        }
    };
    match (step, node) {
        (Step::Field(name), Value::Object(map)) => {
            if let Some(value) = map.get(name) {
                push(out, value, budget);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(i) = resolve_index(*i, items.len()) {
                push(out, &items[i], budget);
            }
        }
        (Step::Union(steps), _) => {
            for step in steps {
                apply(step, node, doc, out, budget);
            }
        }
        (Step::Wildcard, Value::Array(items)) if budget.charge(items.len()) => out.extend(items),
        (Step::Wildcard, Value::Object(map)) if budget.charge(map.len()) => {
            out.extend(map.values())
        }
        (Step::Slice(start, end, step), Value::Array(items)) => {
            // RFC 9535 slices (Jayway has no step; otherwise they agree). Bounds are clamped to
            // the array, so only the step can overflow: then the slice ends.
            let (len, step) = (items.len() as i64, step.unwrap_or(1));
            let normal = |v: i64| if v < 0 { len.saturating_add(v) } else { v };
            let (low, high) = if step > 0 { (0, len) } else { (-1, len - 1) };
            let mut i = start
                .map_or(if step > 0 { 0 } else { len - 1 }, normal)
                .clamp(low, high);
            let stop = end
                .map_or(if step > 0 { len } else { -1 }, normal)
                .clamp(low, high);
            while (step > 0 && i < stop) || (step < 0 && i > stop) {
                push(out, &items[i as usize], budget);
                if budget.exhausted {
                    return;
                }
                match i.checked_add(step) {
                    Some(next) => i = next,
                    None => break,
                }
            }
        }
        (Step::Filter(expr), Value::Array(items)) => {
            for item in items {
                if test(expr, item, doc, budget) {
                    push(out, item, budget);
                }
                if budget.exhausted {
                    return;
                }
            }
        }
        // Like Jayway, a filter applied to an object tests the object itself.
        (Step::Filter(expr), Value::Object(_)) if test(expr, node, doc, budget) => {
            push(out, node, budget)
        }
        (Step::Descendants(inner), _) => {
            // The node and every node below it, in document order, without recursion.
            let mut stack = vec![node];
            while let Some(node) = stack.pop() {
                if !budget.charge(1) {
                    return;
                }
                apply(inner, node, doc, out, budget);
                match node {
                    Value::Array(items) => stack.extend(items.iter().rev()),
                    Value::Object(map) => stack.extend(map.values().rev()),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// A filter operand's value: one node, the nodes of an indefinite path, or a literal.
enum Sel<'a> {
    One(&'a Value),
    Many(Vec<&'a Value>),
}

fn test(expr: &Expr, node: &Value, doc: &Value, budget: &mut Budget) -> bool {
    match expr {
        Expr::Or(terms) => terms.iter().any(|e| test(e, node, doc, budget)),
        Expr::And(terms) => terms.iter().all(|e| test(e, node, doc, budget)),
        Expr::Not(e) => !test(e, node, doc, budget),
        Expr::Exists(operand) => operand_value(operand, node, doc, budget).is_some(),
        Expr::Compare(left, op, right) => {
            let left = operand_value(left, node, doc, budget);
            let right = operand_value(right, node, doc, budget);
            compare(left.as_ref(), op, right.as_ref(), budget)
        }
    }
}

/// The value of a filter operand; `None` when it selects nothing.
fn operand_value<'a>(
    operand: &'a Operand,
    node: &'a Value,
    doc: &'a Value,
    budget: &mut Budget,
) -> Option<Sel<'a>> {
    let (steps, start) = match operand {
        Operand::Literal(v) => return Some(Sel::One(v)),
        Operand::Current(steps) => (steps, node),
        Operand::Document(steps) => (steps, doc),
    };
    let nodes = select_nodes(steps, start, doc, budget);
    match is_definite(steps) {
        true => nodes.first().map(|v| Sel::One(v)),
        false if nodes.is_empty() => None,
        false => Some(Sel::Many(nodes)),
    }
}

/// Filter equality: an indefinite operand stands for the array of its nodes.
fn sel_equal(a: &Sel, b: &Sel, budget: &mut Budget) -> bool {
    let lists = |xs: &[&Value], ys: &[&Value], budget: &mut Budget| {
        xs.len() == ys.len()
            && xs
                .iter()
                .zip(ys)
                .all(|(x, y)| json_equal_within(x, y, budget))
    };
    match (a, b) {
        (Sel::One(x), Sel::One(y)) => json_equal_within(x, y, budget),
        (Sel::Many(xs), Sel::Many(ys)) => lists(xs, ys, budget),
        (Sel::Many(xs), Sel::One(y)) | (Sel::One(y), Sel::Many(xs)) => y
            .as_array()
            .is_some_and(|ys| lists(xs, &ys.iter().collect::<Vec<_>>(), budget)),
    }
}

/// A filter comparison. A missing operand makes every comparison false, so its negations
/// (`!=`, `nin`) true, as in Jayway.
fn compare(left: Option<&Sel>, op: &str, right: Option<&Sel>, budget: &mut Budget) -> bool {
    let (Some(left), Some(right)) = (left, right) else {
        return op == "!=" || op == "nin";
    };
    let order = match (left, right) {
        (Sel::One(Value::Number(a)), Sel::One(Value::Number(b))) => {
            a.as_f64().partial_cmp(&b.as_f64())
        }
        (Sel::One(Value::String(a)), Sel::One(Value::String(b))) => Some(a.cmp(b)),
        _ => None,
    };
    let mut contains = || {
        let items: Vec<&Value> = match right {
            Sel::Many(items) => items.clone(),
            Sel::One(Value::Array(items)) => items.iter().collect(),
            Sel::One(_) => return false,
        };
        items
            .into_iter()
            .any(|item| sel_equal(left, &Sel::One(item), budget))
    };
    match op {
        "==" => sel_equal(left, right, budget),
        "!=" => !sel_equal(left, right, budget),
        "in" => contains(),
        "nin" => !contains(),
        "<" => order.is_some_and(|o| o.is_lt()),
        "<=" => order.is_some_and(|o| o.is_le()),
        ">" => order.is_some_and(|o| o.is_gt()),
        ">=" => order.is_some_and(|o| o.is_ge()),
        _ => false,
    }
}
