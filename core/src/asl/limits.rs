//! Bounds on what definitions, paths, intrinsic functions and JSONata expressions may cost, and
//! a size measure of JSON values that walks them without recursion.
//!
//! Definitions, patterns and expressions come from models and other agents and are evaluated
//! inside their processes, so every recursive parser and evaluator is bounded in depth, and
//! every result in size, before it can overflow the stack or allocate without bound. The AWS
//! quotas these mirror are cited where they are defined.

use serde_json::Value;

/// Deepest nesting of objects and arrays in a state machine definition (`serde_json` reads JSON
/// text no deeper than 128 levels, so a definition given as text never reaches this).
pub const MAX_DEFINITION_DEPTH: usize = 128;

/// Largest state machine definition, as compact JSON text: Step Functions' quota "Maximum size
/// of state machine definition", 1 MB, a hard quota (Step Functions developer guide, "Step
/// Functions service quotas", quotas related to accounts).
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;

/// Deepest nesting of `Parallel` branches and `Map` item processors inside one another.
pub const MAX_BLOCK_NESTING: usize = 16;

/// Deepest nesting of `And`, `Or` and `Not` in one Choice Rule.
pub const MAX_CHOICE_DEPTH: usize = 32;

/// Deepest nesting of brackets, parentheses and negations in one JSONPath (filters inside
/// filters, `!`, literal arrays).
pub const MAX_PATH_DEPTH: usize = 32;

/// Most work one JSONPath evaluation may do: each node it selects or visits (`..`, wildcards,
/// slices, filters and the paths inside them) and each pair of values a filter compares counts
/// one unit. Past it the evaluation fails with `States.Runtime`.
pub const MAX_PATH_WORK: usize = 1_000_000;

/// Longest JSONata expression, in bytes (a definition holds at most 1 MB anyway).
pub const MAX_JSONATA_BYTES: usize = 64 * 1024;

/// Deepest syntax tree of a JSONata expression, estimated from its text before it is parsed
/// (every token of an operator chain may add a level, every bracket one more): the parser and
/// evaluator of `jsonata-rs` recurse once or more per level.
pub const MAX_JSONATA_DEPTH: usize = 500;

/// Memory one JSONata evaluation may allocate for its values (its arena); past it the
/// evaluation fails with `States.QueryEvaluationError`.
pub const MAX_JSONATA_ARENA_BYTES: usize = 64 * 1024 * 1024;

/// Longest string `$pad`, `$string`, `$join` and `$replace` may build in a JSONata expression.
pub const MAX_JSONATA_STRING_BYTES: usize = 8 * 1024 * 1024;

/// Stack of the thread each JSONata expression is parsed and evaluated on (reserved, not
/// committed: only the pages a deep expression or value touches are used).
pub const JSONATA_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The longest value a failure's cause or an error message quotes, in bytes of JSON.
pub(crate) const SHOWN_BYTES: usize = 4096;

/// Why [`measure`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    /// The compact JSON text is longer than the limit.
    Size,
    /// Objects and arrays nest deeper than the limit.
    Depth,
}

/// How [`measure`] counts the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// UTF-8 bytes (payload quotas).
    Bytes,
    /// Characters (EventBridge's event pattern quota).
    Chars,
}

/// The length of `value` as compact JSON text (as `serde_json::to_string` writes it), walked
/// without recursion: stops as soon as the text passes `max_len` or objects and arrays nest
/// deeper than `max_depth` (the value itself is depth 1 when it is an object or array), so its
/// cost is bounded by `max_len` whatever the value.
pub(crate) fn measure(
    value: &Value,
    max_len: usize,
    max_depth: usize,
    unit: Unit,
) -> Result<usize, Exceeded> {
    let mut total = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((value, depth)) = stack.pop() {
        let len = match value {
            Value::Null => 4,
            Value::Bool(b) => 4 + usize::from(!*b),
            Value::Number(n) => n.to_string().len(),
            Value::String(s) => string_len(s, unit),
            Value::Array(items) => {
                if depth + 1 > max_depth {
                    return Err(Exceeded::Depth);
                }
                stack.extend(items.iter().map(|item| (item, depth + 1)));
                2 + items.len().saturating_sub(1)
            }
            Value::Object(map) => {
                if depth + 1 > max_depth {
                    return Err(Exceeded::Depth);
                }
                let mut len = 2 + map.len().saturating_sub(1);
                for (key, item) in map {
                    len = len.saturating_add(string_len(key, unit) + 1);
                    stack.push((item, depth + 1));
                }
                len
            }
        };
        total = total.saturating_add(len);
        if total > max_len {
            return Err(Exceeded::Size);
        }
    }
    Ok(total)
}

/// The length of `text` as a JSON string literal, quotes and escapes included.
pub(crate) fn string_len(text: &str, unit: Unit) -> usize {
    let escapes: usize = text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..0x20 => 5,
            _ => 0,
        })
        .sum();
    let len = match unit {
        Unit::Bytes => text.len(),
        Unit::Chars => text.chars().count(),
    };
    2 + len + escapes
}

/// `value` as JSON text for a message, when it is at most `max` bytes long; a short note
/// otherwise (a large value is never serialized, a deep one never recursed into).
pub(crate) fn shown(value: &Value, max: usize) -> String {
    match measure(value, max, usize::MAX, Unit::Bytes) {
        Ok(_) => value.to_string(),
        Err(_) => format!("(a value of more than {max} bytes of JSON)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn measures_like_serde_json() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(-1.5e300),
            json!(12345678901234567890u64),
            json!("a\"b\\c\n\u{1}é€😀"),
            json!([]),
            json!({}),
            json!({"a": [1, {"b": null, "c\u{7}": "x"}], "d": [[], {}]}),
        ];
        for value in values {
            let text = value.to_string();
            assert_eq!(measure(&value, usize::MAX, 8, Unit::Bytes), Ok(text.len()));
            let chars = text.chars().count();
            assert_eq!(measure(&value, usize::MAX, 8, Unit::Chars), Ok(chars));
            assert_eq!(measure(&value, chars, 8, Unit::Chars), Ok(chars));
            if chars > 0 {
                let short = measure(&value, chars - 1, 8, Unit::Chars);
                assert_eq!(short, Err(Exceeded::Size), "{text}");
            }
        }
        let nested = json!([[[1]]]);
        assert_eq!(measure(&nested, 100, 3, Unit::Bytes), Ok(7));
        assert_eq!(measure(&nested, 100, 2, Unit::Bytes), Err(Exceeded::Depth));
        assert_eq!(measure(&json!(1), 100, 0, Unit::Bytes), Ok(1));
    }
}
