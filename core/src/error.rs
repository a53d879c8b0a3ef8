//! The one error type of agent-mesh.
//!
//! Every failure is an [`Error`] with a [`ErrorKind`], a message that names the operation, the key
//! or resource and (where there is one) the fix, a `retryable` flag, and optional structured
//! context. Backends map their native errors onto these kinds at the backend boundary, so callers
//! never see a raw SQLite, filesystem or AWS SDK error.

use std::fmt;
use std::sync::Arc;

/// The category of an [`Error`]; the bindings expose it as a Python exception subclass and as the
/// `code` of a JavaScript `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The key, artifact, execution or resource does not exist.
    NotFound,
    /// A conditional write failed (`if_version`, `if_absent`): someone else changed the item.
    Conflict,
    /// The caller passed something malformed: a bad key, option, pattern or definition.
    InvalidInput,
    /// A value, event or payload exceeds a limit (the AWS limits hold on every backend).
    TooLarge,
    /// The backend refused access.
    PermissionDenied,
    /// The backend asked us to slow down; retry later.
    Throttled,
    /// The backend cannot be reached right now; retry later.
    Unavailable,
    /// The operation is not supported by this backend or build.
    Unsupported,
    /// The configuration (URL, environment, missing resource) is wrong.
    Config,
    /// A bug or an unexpected state inside agent-mesh or the backend.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order (used by the bindings to build their exception classes).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::InvalidInput,
        ErrorKind::TooLarge,
        ErrorKind::PermissionDenied,
        ErrorKind::Throttled,
        ErrorKind::Unavailable,
        ErrorKind::Unsupported,
        ErrorKind::Config,
        ErrorKind::Internal,
    ];

    /// The kind's name as the bindings spell it (`"NotFound"`, `"Conflict"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::InvalidInput => "InvalidInput",
            ErrorKind::TooLarge => "TooLarge",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::Throttled => "Throttled",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::Config => "Config",
            ErrorKind::Internal => "Internal",
        }
    }

    /// Whether errors of this kind are worth retrying by default.
    pub fn default_retryable(self) -> bool {
        matches!(self, ErrorKind::Throttled | ErrorKind::Unavailable)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An agent-mesh error: kind, message, whether a retry may help, and structured context
/// (`operation`, `key`, `resource`, ...). [`std::error::Error::source`] gives the underlying
/// error (an AWS SDK, SQLite or I/O error) when there is one. Two errors are equal when kind,
/// message, retryable and context are; the source is not compared.
#[derive(Debug, Clone)]
pub struct Error {
    /// The category of the failure.
    pub kind: ErrorKind,
    /// A sentence naming the operation, the key or resource, and the fix when there is one.
    pub message: String,
    /// Whether the same call may succeed if retried later.
    pub retryable: bool,
    /// Structured details, e.g. `("operation", "kv.set")`, `("key", "user:1")`.
    pub context: Vec<(String, String)>,
    /// The error this one was made from, if any.
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.message == other.message
            && self.retryable == other.retryable
            && self.context == other.context
    }
}

impl Eq for Error {}

/// `Result` with agent-mesh's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`; `retryable` follows the kind's default. The
    /// user-info of any URL in the message (`http://user:pass@host`) is replaced by `***`, so
    /// no message carries credentials, whatever produced it.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: crate::redact::redact_urls(&message.into()),
            retryable: kind.default_retryable(),
            context: Vec::new(),
            source: None,
        }
    }

    /// Records the underlying error `source` (builder style); [`std::error::Error::source`]
    /// returns it. Its text is not added to the message.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Adds a context entry (builder style).
    pub fn with_context(mut self, name: &str, value: impl Into<String>) -> Self {
        self.context.push((name.to_owned(), value.into()));
        self
    }

    /// Overrides whether the error is retryable.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// The value of a context entry, if present.
    pub fn context_value(&self, name: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `InvalidInput` for `operation` on `key`.
    pub fn invalid_input(operation: &str, key: &str, message: impl fmt::Display) -> Self {
        Self::keyed(ErrorKind::InvalidInput, operation, key, message)
    }

    /// An error of `kind` for `operation` on `key`, with both recorded as context.
    pub fn keyed(kind: ErrorKind, operation: &str, key: &str, message: impl fmt::Display) -> Self {
        Error::new(kind, format!("{operation} {key:?}: {message}"))
            .with_context("operation", operation)
            .with_context("key", key)
    }

    /// A `Config` error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    /// The `Internal` error for a panic caught at a boundary (an execution, a binding call):
    /// a bug inside agent-mesh, reported as an error instead of crashing the host process.
    pub fn from_panic(operation: &str, panic: &(dyn std::any::Any + Send)) -> Self {
        Error::internal(
            operation,
            format!(
                "a bug inside agent-mesh stopped this call ({}); please report it",
                panic_message(panic)
            ),
        )
    }

    /// An `Internal` error for `operation`, wrapping an unexpected cause.
    pub fn internal(operation: &str, cause: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Internal, format!("{operation}: {cause}"))
            .with_context("operation", operation)
    }
}

/// The message a panic's payload carries (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position of `kind` in [`ErrorKind::ALL`]. The match is exhaustive, so a new kind does
    /// not compile until it is given a position here, and the test below then fails until
    /// `ALL` (which the Python and Node bindings build their lists from) holds it too.
    fn position(kind: ErrorKind) -> usize {
        match kind {
            ErrorKind::NotFound => 0,
            ErrorKind::Conflict => 1,
            ErrorKind::InvalidInput => 2,
            ErrorKind::TooLarge => 3,
            ErrorKind::PermissionDenied => 4,
            ErrorKind::Throttled => 5,
            ErrorKind::Unavailable => 6,
            ErrorKind::Unsupported => 7,
            ErrorKind::Config => 8,
            ErrorKind::Internal => 9,
        }
    }

    #[test]
    fn all_holds_every_kind_once_with_its_name() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(position(*kind), i, "{kind:?}");
            assert_eq!(kind.to_string(), kind.name());
            assert_eq!(format!("{kind:?}"), kind.name());
        }
    }

    #[test]
    fn source_is_the_underlying_error_and_is_not_compared() {
        let io = std::io::Error::other("disk on fire");
        let e = Error::new(ErrorKind::Internal, "boom").with_source(io);
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.to_string(), "disk on fire");
        assert_eq!(e, Error::new(ErrorKind::Internal, "boom"));
        assert!(std::error::Error::source(&Error::new(ErrorKind::Internal, "x")).is_none());
        assert_eq!(e.to_string(), "Internal: boom");
    }

    #[test]
    fn sqlite_and_io_errors_keep_their_source() {
        let e = crate::sqlite::sql_error("kv.get", "k", rusqlite::Error::QueryReturnedNoRows);
        let source = std::error::Error::source(&e).expect("the SQLite error");
        assert!(
            source.downcast_ref::<rusqlite::Error>().is_some(),
            "{source:?}"
        );
        let path = std::path::Path::new("/nowhere");
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = crate::fsutil::io_error("artifacts.get", "k", path, io);
        assert_eq!(e.kind, ErrorKind::NotFound);
        let source = std::error::Error::source(&e).expect("the I/O error");
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source:?}"
        );
    }
}
