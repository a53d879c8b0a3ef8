//! Exit codes of the `agent-mesh` command, one per error kind, and the failure type the
//! subcommands return.

use std::fmt;

use crate::error::{Error, ErrorKind};

/// The command succeeded.
pub const OK: i32 = 0;
/// The command ran but what it watched failed: a workflow execution ended `FAILED`,
/// `TIMED_OUT` or `ABORTED` (`workflows run`, `workflows start --wait`).
pub const FAILED: i32 = 1;
/// Bad usage: an unknown command or flag, a malformed argument (clap's code), or an
/// `InvalidInput` error from the mesh.
pub const USAGE: i32 = 2;

/// The exit code for an error of `kind`.
pub fn code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidInput => USAGE,
        ErrorKind::NotFound => 3,
        ErrorKind::Conflict => 4,
        ErrorKind::TooLarge => 5,
        ErrorKind::PermissionDenied => 6,
        ErrorKind::Throttled => 7,
        ErrorKind::Unavailable => 8,
        ErrorKind::Unsupported => 9,
        ErrorKind::Config => 10,
        ErrorKind::Internal => 11,
    }
}

/// The exit code table, as `agent-mesh --help` prints it.
pub const TABLE: &str = "\
Exit codes:
  0   success
  1   a workflow execution ended FAILED, TIMED_OUT or ABORTED (workflows run, start --wait)
  2   usage: unknown command or flag, malformed argument, or InvalidInput
  3   NotFound (no such key, artifact, execution, state machine)
  4   Conflict (a conditional write failed: --if-version, --if-absent)
  5   TooLarge (a limit was exceeded)
  6   PermissionDenied
  7   Throttled (retry later)
  8   Unavailable (the backend cannot be reached; retry later)
  9   Unsupported (not on this backend or build)
  10  Config (mesh URL, environment, missing AWS resource)
  11  Internal (a bug: please report it)";

/// Why a command stopped: an exit code, a message for stderr (empty for none) and, for mesh
/// errors, the error kind (printed with `--json`).
#[derive(Debug)]
pub struct Failure {
    /// The process exit code.
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
    /// The error kind, when the failure is a mesh error.
    pub kind: Option<ErrorKind>,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
            kind: None,
        }
    }

    /// A watched operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Failure {
            code: FAILED,
            message: message.into(),
            kind: None,
        }
    }

    /// A quiet stop with `code` (stdout was closed by its reader, ...).
    pub fn quiet(code: i32) -> Self {
        Failure {
            code,
            message: String::new(),
            kind: None,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure {
            code: code(e.kind),
            message: e.to_string(),
            kind: Some(e.kind),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a subcommand returns.
pub type CliResult<T = ()> = std::result::Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_code_and_the_table_lists_it() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in ErrorKind::ALL {
            let code = code(kind);
            assert!(seen.insert(code), "{kind} shares code {code}");
            assert!(
                TABLE.contains(&format!("  {code:<3} ")) && TABLE.contains(kind.name()),
                "{kind}: {code}"
            );
        }
        assert!(!seen.contains(&FAILED));
    }
}
