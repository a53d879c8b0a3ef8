//! Payload templates for JSONPath states: `Parameters`, `ResultSelector`, `ItemSelector` and
//! `Assign`.
//!
//! A field whose name ends in `.$` (however deeply nested, also inside arrays) takes its value
//! from a path (`$.x`, `$$.x`, `$var`) or an intrinsic function call and loses the `.$` suffix;
//! every other value is copied as it is.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::intrinsics::{Intrinsic, looks_like_intrinsic};
use super::path::Path;
use super::{Failure, Scope};

/// A compiled payload template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
}

#[derive(Debug, Clone)]
enum Node {
    /// A subtree without `.$` fields, copied as it is.
    Literal(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// `"field.$": "$..."`; `field` keeps its `.$` for messages.
    Path {
        field: String,
        path: Path,
    },
    /// `"field.$": "States.X(...)"`.
    Call {
        field: String,
        call: Intrinsic,
    },
}

impl Template {
    /// Compiles a template, checking that every `key.$` value is a valid path or intrinsic
    /// call and that no two fields have the same name once `.$` is removed. Errors name the
    /// offending field (`parts.first.$`).
    pub fn compile(value: &Value) -> Result<Template, String> {
        compile(value, "").map(|root| Template { root })
    }

    /// Builds the payload: paths are applied and intrinsic functions evaluated against the
    /// scope. A path that matches nothing fails with `States.Runtime`, an intrinsic function
    /// with its own error; both causes name the field.
    pub fn render(&self, scope: &Scope) -> Result<Value, Failure> {
        render(&self.root, scope)
    }
}

fn compile(value: &Value, at: &str) -> Result<Node, String> {
    let node = match value {
        Value::Object(map) => {
            let (mut fields, mut names) = (Vec::with_capacity(map.len()), HashSet::new());
            for (key, value) in map {
                let here = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                let (name, node) = match key.strip_suffix(".$") {
                    Some(name) => (name, dynamic(key, value, &here)?),
                    None => (key.as_str(), compile(value, &here)?),
                };
                if !names.insert(name) {
                    return Err(format!(
                        "The field '{here}' has the same name as another field once '.$' is removed"
                    ));
                }
                fields.push((name.to_string(), node));
            }
            Node::Object(fields)
        }
        Value::Array(items) => {
            let nodes = items
                .iter()
                .enumerate()
                .map(|(i, item)| compile(item, &format!("{at}[{i}]")));
            Node::Array(nodes.collect::<Result<_, _>>()?)
        }
        _ => return Ok(Node::Literal(value.clone())),
    };
    let literal = |node: &Node| matches!(node, Node::Literal(_));
    let is_static = match &node {
        Node::Object(fields) => fields.iter().all(|(_, node)| literal(node)),
        Node::Array(nodes) => nodes.iter().all(literal),
        _ => false,
    };
    Ok(if is_static {
        Node::Literal(value.clone())
    } else {
        node
    })
}

/// The node for a `key.$` field: a path or an intrinsic call.
fn dynamic(key: &str, value: &Value, here: &str) -> Result<Node, String> {
    let field = key.to_string();
    let reason = match value.as_str() {
        Some(text) if text.starts_with('$') => match Path::parse(text) {
            Ok(path) => return Ok(Node::Path { field, path }),
            Err(e) => e,
        },
        Some(text) if looks_like_intrinsic(text) => match Intrinsic::parse(text) {
            Ok(call) => return Ok(Node::Call { field, call }),
            Err(e) => e,
        },
        Some(text) => format!("'{text}' is neither"),
        None => format!("{value} is not a string"),
    };
    Err(format!(
        "The value for the field '{here}' must be a valid JSONPath or a valid intrinsic function \
         call: {reason}"
    ))
}

fn render(node: &Node, scope: &Scope) -> Result<Value, Failure> {
    Ok(match node {
        Node::Literal(value) => value.clone(),
        Node::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (name, node) in fields {
                map.insert(name.clone(), render(node, scope)?);
            }
            Value::Object(map)
        }
        Node::Array(nodes) => Value::Array(
            nodes
                .iter()
                .map(|node| render(node, scope))
                .collect::<Result<_, _>>()?,
        ),
        Node::Path { field, path } => path.select_for_field(scope, field)?,
        Node::Call { field, call } => call.evaluate(scope).map_err(|failure| Failure {
            error: failure.error,
            cause: format!(
                "The intrinsic function for the field '{field}' failed: {}",
                failure.cause
            ),
        })?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::errors;
    use serde_json::json;

    fn render(template: Value, input: Value) -> Result<Value, Failure> {
        let context = json!({"DayOfWeek": "TUESDAY", "Map": {"Item": {"Index": 2}}});
        let vars = Map::from_iter([("limit".to_string(), json!({"max": 5}))]);
        let scope = Scope {
            input: &input,
            context: &context,
            vars: &vars,
        };
        Template::compile(&template).unwrap().render(&scope)
    }

    #[test]
    fn example_from_the_specification() {
        let template = json!({
            "flagged": true,
            "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[-3:]"},
            "weekday.$": "$$.DayOfWeek",
            "formattedOutput.$": "States.Format('Today is {}', $$.DayOfWeek)"
        });
        let input = json!({"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]});
        let expected = json!({
            "flagged": true,
            "parts": {"first": 0, "last3": [30, 40, 50]},
            "weekday": "TUESDAY",
            "formattedOutput": "Today is TUESDAY"
        });
        assert_eq!(render(template, input).unwrap(), expected);
    }

    #[test]
    fn nested_arrays_variables_and_literals() {
        let template = json!({
            "list": [1, {"id.$": "$.id"}, ["$.not-evaluated", {"max.$": "$limit.max"}]],
            "index.$": "$$.Map.Item.Index",
            "whole.$": "$",
            "static": {"keep.$x": "$.id", "n": null}
        });
        let expected = json!({
            "list": [1, {"id": 42}, ["$.not-evaluated", {"max": 5}]],
            "index": 2,
            "whole": {"id": 42},
            "static": {"keep.$x": "$.id", "n": null}
        });
        assert_eq!(render(template, json!({"id": 42})).unwrap(), expected);
        assert_eq!(render(json!("plain"), json!({})).unwrap(), json!("plain"));
        let assign = json!({"count.$": "States.MathAdd($limit.max, 1)", "label": "x"});
        assert_eq!(
            render(assign, json!({})).unwrap(),
            json!({"count": 6, "label": "x"})
        );
    }

    #[test]
    fn render_failures_name_the_field() {
        let failure = render(json!({"a": {"x.$": "$.nope"}}), json!({"y": 1})).unwrap_err();
        assert_eq!(failure.error, errors::RUNTIME);
        let field = "specified for the field 'x.$' could not be found in the input";
        assert_eq!(
            failure.cause,
            format!(r#"The JSONPath '$.nope' {field} '{{"y":1}}'"#)
        );
        let template = json!({"v.$": "States.ArrayGetItem($.a, 3)"});
        let failure = render(template, json!({"a": [1]})).unwrap_err();
        assert_eq!(failure.error, errors::INTRINSIC_FAILURE);
        let prefix = "The intrinsic function for the field 'v.$' failed: States.ArrayGetItem";
        assert!(failure.cause.starts_with(prefix), "{}", failure.cause);
        let failure = render(json!({"v.$": "$undefined"}), json!({})).unwrap_err();
        assert!(failure.cause.contains("'undefined'"), "{}", failure.cause);
    }

    #[test]
    fn compile_errors_name_the_field() {
        for line in [
            r#"{"a": {"b.$": 3}} => The value for the field 'a.b.$' must be a valid JSONPath or a"#,
            r#"{"a": {"b.$": 3}} => intrinsic function call: 3 is not a string"#,
            r#"{"a.$": "hello"} => field 'a.$' must be"#,
            r#"{"a.$": "$.["} => invalid JSONPath"#,
            r#"{"a.$": "States.Nope()"} => unknown intrinsic function"#,
            r#"{"list": [{"c.$": ""}]} => field 'list[0].c.$'"#,
            r#"{"a": 1, "a.$": "$.x"} => The field 'a.$' has the same name as another field"#,
        ] {
            let (template, expected) = line.split_once(" => ").unwrap();
            let error = Template::compile(&serde_json::from_str(template).unwrap()).unwrap_err();
            assert!(error.contains(expected), "{template}: {error}");
        }
    }
}
