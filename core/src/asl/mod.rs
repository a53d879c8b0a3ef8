//! The embedded Amazon States Language engine: definitions, JSONPath and JSONata data flow,
//! intrinsic functions, Choice rules and the interpreter that runs executions.
//!
//! Everything here follows the ASL specification and Step Functions' documented behaviour, so a
//! definition runs the same way locally and on AWS.

pub mod choice;
pub mod dataflow;
pub mod definition;
pub mod engine;
pub mod intrinsics;
pub mod jsonata;
pub mod limits;
mod parse;
pub mod path;
pub mod payload;
pub mod retry;

pub use dataflow::MAX_PAYLOAD_BYTES;
pub use definition::StateMachine;

use serde_json::{Map, Value};

/// A Step Functions error: the error name (`States.Runtime`, `States.TaskFailed`, a handler's
/// own name, ...) and a human-readable cause. This is what `Catch`/`Retry` match on and what a
/// failed execution reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name, matched by `ErrorEquals`.
    pub error: String,
    /// The cause text.
    pub cause: String,
}

impl Failure {
    /// A failure with the given error name and cause.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// `States.Runtime`: an invalid path, a type mismatch or another runtime error.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Failure::new(errors::RUNTIME, cause)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

/// The predefined Step Functions error names.
pub mod errors {
    /// Matches every error name (in `Retry`/`Catch`).
    pub const ALL: &str = "States.ALL";
    /// A Task failed (handler error, missing handler, ...).
    pub const TASK_FAILED: &str = "States.TaskFailed";
    /// A state ran longer than `TimeoutSeconds` or missed a heartbeat.
    pub const TIMEOUT: &str = "States.Timeout";
    /// A Task missed its `HeartbeatSeconds`.
    pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
    /// A runtime error: a path that matches nothing, a type mismatch, ...
    pub const RUNTIME: &str = "States.Runtime";
    /// A payload over 256 KB.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// An intrinsic function failed.
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
    /// A `ResultPath` could not be applied.
    pub const RESULT_PATH_MATCH_FAILURE: &str = "States.ResultPathMatchFailure";
    /// A parameter path could not be applied.
    pub const PARAMETER_PATH_FAILURE: &str = "States.ParameterPathFailure";
    /// A Map/Parallel branch failed.
    pub const BRANCH_FAILED: &str = "States.BranchFailed";
    /// No Choice rule matched and there is no `Default`.
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    /// A Map state's failures passed its tolerated threshold.
    pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
    /// A Map item reader failed.
    pub const ITEM_READER_FAILED: &str = "States.ItemReaderFailed";
    /// The task's permissions do not allow the call.
    pub const PERMISSIONS: &str = "States.Permissions";
    /// A JSONata expression failed to evaluate or returned the wrong type.
    pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
}

/// What a JSONPath expression, an intrinsic function or a JSONata expression can read: the
/// state's input (`$`), the context object (`$$`) and the workflow variables (`$name`).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The value `$` refers to.
    pub input: &'a Value,
    /// The context object `$$` (`Execution`, `State`, `StateMachine`, `Task`, `Map`).
    pub context: &'a Value,
    /// Workflow variables set by `Assign`.
    pub vars: &'a Map<String, Value>,
}

/// Validates an ASL definition the way `workflows.create` does, without storing it: the
/// parsed state machine, or `InvalidInput` listing every problem found.
pub fn validate_definition(
    name: &str,
    definition: &serde_json::Value,
) -> crate::Result<StateMachine> {
    StateMachine::parse(definition).map_err(|problems| {
        crate::Error::invalid_input(
            "workflows.create",
            name,
            format!("invalid state machine definition: {}", problems.join("; ")),
        )
    })
}
