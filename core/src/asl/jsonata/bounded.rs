//! What keeps one JSONata evaluation bounded: a screen of the source before `jsonata-rs` parses
//! it (its parser recurses once or more per level of the expression's tree), and bounded
//! versions of the built-in functions that build a string from a number or from a value whose
//! size the arena does not bound (`$pad`, `$string`, `$join`, `$replace`: a value may hold the
//! same large string many times over without costing arena memory). The evaluation itself runs
//! with an arena limit, a depth limit and a time limit (see [`super::run`]).

use jsonata_rs::{Error as JError, FunctionContext, Value as JValue};

use crate::asl::limits::{MAX_JSONATA_BYTES, MAX_JSONATA_DEPTH, MAX_JSONATA_STRING_BYTES};

type NativeResult<'a> = jsonata_rs::Result<&'a JValue<'a>>;

/// The built-ins replaced by bounded versions: `(name, wrapper)`. An expression naming one is
/// wrapped so that the name is rebound to the wrapper (`$replace` keeps the original as
/// `$__sfn_native_replace`, which the wrapper calls once the result is known to be bounded).
pub(super) const WRAPPED: [(&str, &str); 4] = [
    ("pad", "__sfn_pad"),
    ("string", "__sfn_string"),
    ("join", "__sfn_join"),
    ("replace", "__sfn_replace"),
];

/// Checks the source before it is parsed: at most [`MAX_JSONATA_BYTES`] long, and an estimate
/// of its syntax tree's depth at most [`MAX_JSONATA_DEPTH`].
pub(super) fn screen(source: &str) -> Result<(), String> {
    if source.len() > MAX_JSONATA_BYTES {
        return Err(format!(
            "the expression is {} bytes long; at most {MAX_JSONATA_BYTES} are allowed: split it (Assign intermediate results to variables)",
            source.len()
        ));
    }
    let depth = depth_bound(source);
    if depth > MAX_JSONATA_DEPTH {
        return Err(format!(
            "the expression is nested too deeply (about {depth} levels of brackets and operators; at most {MAX_JSONATA_DEPTH}): split it (Assign intermediate results to variables)"
        ));
    }
    Ok(())
}

/// An upper bound of the depth of the source's syntax tree: within each bracket, every token of
/// a comma- or semicolon-separated part may add a level (operator chains parse into a tree as
/// deep as they are long), plus the deepest bracket inside the part.
fn depth_bound(source: &str) -> usize {
    /// One open bracket: tokens of the current part, the deepest bracket closed in it, and
    /// the deepest part so far.
    #[derive(Default)]
    struct Frame {
        tokens: usize,
        inner: usize,
        deepest: usize,
    }
    impl Frame {
        fn end_part(&mut self) {
            self.deepest = self.deepest.max(self.tokens + 1 + self.inner);
            (self.tokens, self.inner) = (0, 0);
        }
    }
    let mut frames = vec![Frame::default()];
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        let top = frames.len() - 1;
        match c {
            c if c.is_whitespace() => {}
            '\'' | '"' | '`' => {
                // A string literal or a backquoted name: one token.
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
                frames[top].tokens += 1;
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            '(' | '[' | '{' => {
                frames[top].tokens += 1;
                frames.push(Frame::default());
            }
            ')' | ']' | '}' => {
                if frames.len() > 1 {
                    let mut frame = frames.pop().unwrap_or_default();
                    frame.end_part();
                    let parent = frames.len() - 1;
                    frames[parent].inner = frames[parent].inner.max(frame.deepest);
                }
            }
            ',' | ';' => frames[top].end_part(),
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                while chars
                    .peek()
                    .is_some_and(|d| d.is_alphanumeric() || *d == '_' || *d == '$')
                {
                    chars.next();
                }
                frames[top].tokens += 1;
            }
            _ => frames[top].tokens += 1,
        }
    }
    // Unclosed brackets count as closed at the end.
    while let Some(mut frame) = frames.pop() {
        frame.end_part();
        match frames.last_mut() {
            Some(parent) => parent.inner = parent.inner.max(frame.deepest),
            None => return frame.deepest,
        }
    }
    0
}

/// The error for a result over [`MAX_JSONATA_STRING_BYTES`].
fn too_long(ctx: &FunctionContext<'_, '_>, what: impl std::fmt::Display) -> JError {
    JError::D3137Error(format!(
        "${} would build {what}, more than the {MAX_JSONATA_STRING_BYTES} bytes a string may hold here",
        ctx.name.trim_start_matches("__sfn_")
    ))
}

fn arg<'a>(args: &[&'a JValue<'a>], i: usize) -> &'a JValue<'a> {
    args.get(i).copied().unwrap_or_else(JValue::undefined)
}

fn bad_arg(ctx: &FunctionContext<'_, '_>, i: usize) -> JError {
    let name = ctx.name.trim_start_matches("__sfn_").to_string();
    JError::T0410ArgumentNotValid(ctx.char_index, i, name)
}

/// `$pad(str, width [, char])`, refusing widths past [`MAX_JSONATA_STRING_BYTES`].
pub(super) fn pad<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let (text, width) = (arg(args, 0), arg(args, 1));
    if !text.is_string() || !width.is_number() {
        return Ok(JValue::undefined());
    }
    let text = text.as_str();
    let width = width.as_f64().round();
    if !width.is_finite() || width.abs() > MAX_JSONATA_STRING_BYTES as f64 {
        return Err(too_long(
            &ctx,
            format_args!("a string of {width} characters"),
        ));
    }
    let fill = arg(args, 2);
    let fill = if fill.is_string() && !fill.as_str().is_empty() {
        fill.as_str().to_string()
    } else {
        " ".to_string()
    };
    let missing = (width.abs() as usize).saturating_sub(text.chars().count());
    let padding: String = fill.chars().cycle().take(missing).collect();
    let padded = if width > 0.0 {
        format!("{text}{padding}")
    } else {
        format!("{padding}{text}")
    };
    Ok(JValue::string(ctx.arena, &padded))
}

/// `$join(strings [, separator])`, refusing results past [`MAX_JSONATA_STRING_BYTES`].
pub(super) fn join<'a>(ctx: FunctionContext<'a, '_>, args: &[&'a JValue<'a>]) -> NativeResult<'a> {
    let (strings, separator) = (arg(args, 0), arg(args, 1));
    if strings.is_undefined() || strings.is_string() {
        return Ok(strings);
    }
    let not_strings = || {
        let name = ctx.name.trim_start_matches("__sfn_").to_string();
        JError::T0412ArgumentMustBeArrayOfType(ctx.char_index, 1, name, "string".into())
    };
    if !strings.is_array() || strings.members().any(|m| !m.is_string()) {
        return Err(not_strings());
    }
    if !(separator.is_undefined() || separator.is_string()) {
        return Err(bad_arg(&ctx, 2));
    }
    let separator = if separator.is_string() {
        separator.as_str().to_string()
    } else {
        String::new()
    };
    let mut total = 0usize;
    for member in strings.members() {
        total = total.saturating_add(member.as_str().len() + separator.len());
        if total > MAX_JSONATA_STRING_BYTES {
            return Err(too_long(&ctx, "a longer string"));
        }
    }
    let parts: Vec<String> = strings.members().map(|m| m.as_str().to_string()).collect();
    Ok(JValue::string(ctx.arena, &parts.join(&separator)))
}

/// The length of `value` as JSON text, walked without recursion; `None` once it passes `max`
/// or nests deeper than `max_depth`.
fn json_len<'a>(value: &'a JValue<'a>, max: usize, max_depth: usize) -> Option<usize> {
    let mut total = 0usize;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, depth)) = stack.pop() {
        total = total.saturating_add(match value {
            JValue::String(s) => s.len() + 2,
            JValue::Array(..) | JValue::Range(..) | JValue::Object(_) if depth >= max_depth => {
                return None;
            }
            JValue::Array(..) | JValue::Range(..) => {
                stack.extend(value.members().map(|m| (m, depth + 1)));
                2 + value.len()
            }
            JValue::Object(_) => {
                let mut len = 2;
                for (k, v) in value.entries() {
                    len += k.len() + 4;
                    stack.push((v, depth + 1));
                }
                len
            }
            _ => 24,
        });
        if total > max {
            return None;
        }
    }
    Some(total)
}

/// `$string(value [, prettify])`, refusing values whose text would pass
/// [`MAX_JSONATA_STRING_BYTES`] or that nest deeper than 128 levels.
pub(super) fn string<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JValue<'a>],
) -> NativeResult<'a> {
    if args.len() > 2 {
        return Err(bad_arg(&ctx, 2));
    }
    let value = match args.first() {
        Some(value) => *value,
        None if ctx.input.is_array() && ctx.input.has_flags(jsonata_rs::ArrayFlags::WRAPPED) => {
            &ctx.input[0]
        }
        None => ctx.input,
    };
    let pretty = arg(args, 1);
    if !(pretty.is_undefined() || pretty.is_bool()) {
        return Err(bad_arg(&ctx, 2));
    }
    match value {
        JValue::Undefined | JValue::String(_) => return Ok(value),
        _ if value.is_function() => return Ok(JValue::string(ctx.arena, "")),
        JValue::Number(_) if !value.is_finite() => {
            return Err(JError::D3001StringNotFinite(ctx.char_index));
        }
        _ => {}
    }
    // Pretty printing indents: at most 2 bytes per level and line.
    let Some(len) = json_len(value, MAX_JSONATA_STRING_BYTES / 4, 128) else {
        return Err(too_long(
            &ctx,
            "a longer string (or nests deeper than 128 levels)",
        ));
    };
    debug_assert!(len <= MAX_JSONATA_STRING_BYTES);
    Ok(JValue::string(ctx.arena, &value.serialize(*pretty == true)))
}

/// `$replace(str, pattern, replacement [, limit])`: the built-in, once the result is known to
/// stay within [`MAX_JSONATA_STRING_BYTES`] (a function as replacement is called by the
/// built-in, its results unchecked).
pub(super) fn replace<'a>(
    ctx: FunctionContext<'a, '_>,
    args: &[&'a JValue<'a>],
) -> NativeResult<'a> {
    let (text, pattern, replacement) = (arg(args, 0), arg(args, 1), arg(args, 2));
    if text.is_string() && replacement.is_string() {
        let (text, replacement) = (text.as_str(), replacement.as_str().len());
        let matches = match pattern {
            JValue::String(p) if !p.is_empty() => text.matches(p.as_str()).count(),
            // A regular expression matches at most once per character (empty matches fail).
            _ => text.len() + 1,
        };
        if text
            .len()
            .saturating_add(matches.saturating_mul(replacement))
            > MAX_JSONATA_STRING_BYTES
        {
            return Err(too_long(&ctx, "a longer string"));
        }
    }
    match ctx.frame.lookup("__sfn_native_replace") {
        Some(native @ JValue::NativeFn { name, .. }) if name == "replace" => {
            ctx.evaluate_function(native, args)
        }
        _ => Err(JError::D3137Error(
            "$replace is not available here (its name was rebound)".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_bounds() {
        assert_eq!(depth_bound(""), 1);
        assert_eq!(depth_bound("1"), 2);
        assert!(depth_bound("1 + 1 + 1") >= 5);
        assert!(depth_bound("((((1))))") >= 5);
        assert!(depth_bound("{'a': 1, 'b': 2, 'c': 3}") < 8);
        assert!(depth_bound("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]") < 6);
        // Brackets inside strings and comments do not count; unbalanced ones do no harm.
        assert_eq!(depth_bound("'((((' /* (((( */"), 2);
        assert!(depth_bound("((((") >= 5 && depth_bound("))))") >= 1);
        let long = vec!["1"; 1000].join("+");
        assert!(screen(&long).is_err());
        assert!(screen(&"x".repeat(MAX_JSONATA_BYTES + 1)).is_err());
    }
}
