//! Core errors crossing into JavaScript.
//!
//! napi-rs rejects async calls only with its own status codes, so the native error's message
//! carries the whole core error as JSON after [`MARKER`]; `index.js` turns it back into an
//! `Error` whose `code` is the kind name (`"Conflict"`, ...), with `retryable` and `context`.

use serde_json::json;

/// Prefix of a native error message that carries an agent-mesh error as JSON.
pub const MARKER: &str = "agent-mesh-error:";

/// A napi result.
pub type Result<T> = napi::Result<T>;

/// The napi error carrying `error`.
pub fn to_js(error: agent_mesh::Error) -> napi::Error {
    let context: serde_json::Map<String, serde_json::Value> = error
        .context
        .into_iter()
        .map(|(k, v)| (k, v.into()))
        .collect();
    let payload = json!({
        "kind": error.kind.name(),
        "message": error.message,
        "retryable": error.retryable,
        "context": context,
    });
    napi::Error::new(napi::Status::GenericFailure, format!("{MARKER}{payload}"))
}

/// Converts core results into napi results.
pub trait IntoJs<T> {
    /// Maps the error, keeping its kind, message and context.
    fn js(self) -> Result<T>;
}

impl<T> IntoJs<T> for agent_mesh::Result<T> {
    fn js(self) -> Result<T> {
        self.map_err(to_js)
    }
}

/// An `InvalidInput` error for `operation` on `key`.
pub fn invalid(operation: &str, key: &str, why: impl std::fmt::Display) -> napi::Error {
    to_js(agent_mesh::Error::invalid_input(operation, key, why))
}

/// A timeout given in milliseconds as a `Duration`: `InvalidInput` for NaN, infinities,
/// negative numbers and more than a year (omit it to wait without a limit).
pub fn timeout_ms(operation: &str, key: &str, ms: f64) -> Result<std::time::Duration> {
    agent_mesh::unstable::validate::timeout(operation, key, ms / 1000.0).js()
}
