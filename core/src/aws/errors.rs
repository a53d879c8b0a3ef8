//! AWS SDK errors mapped to agent-mesh errors, at the backend boundary.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::{Error, ErrorKind};

/// Error codes of requests refused for their rate: nothing was done, and a later retry may pass.
const THROTTLING_CODES: [&str; 8] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "SlowDown",
    "TooManyRequestsException",
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
];

/// Error codes of a failure inside the service: the request may or may not have been applied.
const SERVER_ERROR_CODES: [&str; 6] = [
    "InternalServerError",
    "InternalError",
    "InternalException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// How a write request that failed may have ended, for callers that retry writes themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// Refused for its rate before anything was done: send it again after a pause.
    NotApplied,
    /// No answer came back (a server error, a timeout, a lost connection): it may have been
    /// applied or not.
    MaybeApplied,
    /// Refused for good (validation, access, a missing table): report it.
    Refused,
}

/// How the failed write request that got `error` may have ended.
pub(crate) fn write_failure<E>(error: &SdkError<E, HttpResponse>) -> WriteFailure
where
    E: ProvideErrorMetadata,
{
    let code = error.code().unwrap_or_default();
    if THROTTLING_CODES.contains(&code) {
        return WriteFailure::NotApplied;
    }
    let server_error = SERVER_ERROR_CODES.contains(&code)
        || error
            .raw_response()
            .is_some_and(|r| r.status().as_u16() >= 500);
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            WriteFailure::MaybeApplied
        }
        _ if server_error => WriteFailure::MaybeApplied,
        _ => WriteFailure::Refused,
    }
}

/// What an AWS call acted on, for error messages.
pub(crate) struct Target<'a> {
    /// The agent-mesh operation, e.g. `kv.set`.
    pub operation: &'a str,
    /// The key (or prefix).
    pub key: &'a str,
    /// The AWS resource, e.g. `DynamoDB table "agent-mesh-dev-kv"`.
    pub resource: &'a str,
}

/// The agent-mesh error for a failed AWS SDK call.
pub(crate) fn map_sdk_error<E>(target: &Target<'_>, error: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = error.code().unwrap_or_default().to_owned();
    let detail = error
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| error_chain(&error));
    let status = error.raw_response().map(|r| r.status().as_u16());
    let (kind, fix) = code_kind_and_fix(&code, target.resource)
        .unwrap_or_else(|| uncoded_kind_and_fix(&error, status));
    let code_text = if code.is_empty() {
        String::new()
    } else {
        format!("{code}: ")
    };
    Error::keyed(
        kind,
        target.operation,
        target.key,
        format!("{} answered {code_text}{detail}; {fix}", target.resource),
    )
    .with_context("resource", target.resource)
    .with_source(error)
}

/// The error kind and the fix to suggest for an AWS error code, if the code is known.
fn code_kind_and_fix(code: &str, resource: &str) -> Option<(ErrorKind, String)> {
    storage_kind_and_fix(code, resource)
        .or_else(|| step_functions_kind_and_fix(code, resource))
        .or_else(|| messaging_kind_and_fix(code, resource))
        .or_else(|| common_kind_and_fix(code, resource))
}

/// The error kind and the fix for an error without a known code: by how the call failed.
fn uncoded_kind_and_fix<E>(
    error: &SdkError<E, HttpResponse>,
    status: Option<u16>,
) -> (ErrorKind, String) {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => (
            ErrorKind::Unavailable,
            "the AWS endpoint did not answer; check the network or the endpoint URL and retry"
                .into(),
        ),
        SdkError::ResponseError(_) => (ErrorKind::Unavailable, "retry later".into()),
        _ if status.is_some_and(|s| s >= 500) => (ErrorKind::Unavailable, "retry later".into()),
        _ => (ErrorKind::Internal, "unexpected AWS error".into()),
    }
}

/// The kind and fix for the DynamoDB and S3 codes of conflicts and missing resources or keys.
fn storage_kind_and_fix(code: &str, resource: &str) -> Option<(ErrorKind, String)> {
    let kind_and_fix = match code {
        "ConditionalCheckFailedException"
        | "TransactionCanceledException"
        | "PreconditionFailed" => (ErrorKind::Conflict, "re-read the item and retry".into()),
        "ResourceNotFoundException" | "NoSuchBucket" => (
            ErrorKind::Config,
            format!(
                "{resource} does not exist: create it with provision() (MeshClient.provision / mesh.provision()) or the Terraform in infra/"
            ),
        ),
        "NoSuchKey" | "NotFound" | "NoSuchUpload" => (ErrorKind::NotFound, "check the key".into()),
        _ => return None,
    };
    Some(kind_and_fix)
}

/// The kind and fix for Step Functions' error codes.
fn step_functions_kind_and_fix(code: &str, resource: &str) -> Option<(ErrorKind, String)> {
    let kind_and_fix = match code {
        "StateMachineDoesNotExist" => (
            ErrorKind::NotFound,
            "create the state machine with workflows.create first".into(),
        ),
        "ExecutionDoesNotExist" | "ActivityDoesNotExist" => (
            ErrorKind::NotFound,
            "check the ARN (it must name an existing execution or activity)".into(),
        ),
        "TaskDoesNotExist" => (
            ErrorKind::NotFound,
            "no task has this token; pass the token the task received".into(),
        ),
        "TaskTimedOut" => (
            ErrorKind::Conflict,
            "the task is no longer waiting: it was completed already, timed out or its execution stopped".into(),
        ),
        "ExecutionAlreadyExists" => (
            ErrorKind::Conflict,
            "an execution of this name already exists with another input; start with another name".into(),
        ),
        "StateMachineDeleting" => (
            ErrorKind::Conflict,
            "the state machine is being deleted; create it again once it is gone".into(),
        ),
        "InvalidDefinition" | "InvalidArn" | "InvalidName" | "InvalidExecutionInput"
        | "InvalidOutput" | "InvalidToken" => (
            ErrorKind::InvalidInput,
            "check the request against Step Functions' rules".into(),
        ),
        "ActivityWorkerLimitExceeded" => (
            ErrorKind::Throttled,
            "too many workers poll this activity; retry later or run fewer workers".into(),
        ),
        "ExecutionLimitExceeded" | "StateMachineLimitExceeded" | "ActivityLimitExceeded" => (
            ErrorKind::Config,
            format!("a Step Functions quota of {resource} is reached: stop or delete unused executions, state machines or activities, or raise the quota"),
        ),
        _ => return None,
    };
    Some(kind_and_fix)
}

/// The kind and fix for SQS's and EventBridge's error codes.
fn messaging_kind_and_fix(code: &str, resource: &str) -> Option<(ErrorKind, String)> {
    let kind_and_fix = match code {
        "QueueDoesNotExist" | "AWS.SimpleQueueService.NonExistentQueue" => (
            ErrorKind::NotFound,
            format!("{resource} does not exist (was it deleted?); subscribe again"),
        ),
        "QueueDeletedRecently" | "AWS.SimpleQueueService.QueueDeletedRecently" => (
            ErrorKind::Unavailable,
            format!(
                "{resource} was deleted less than 60 seconds ago; SQS refuses the name until then: retry in a minute"
            ),
        ),
        "LimitExceededException" => (
            ErrorKind::Config,
            format!(
                "an AWS quota of {resource} is reached: remove unused subscriptions (rules and queues) or raise the quota"
            ),
        ),
        "InvalidEventPatternException" => (
            ErrorKind::InvalidInput,
            "check the event pattern (agent_mesh::test_event_pattern validates it)".into(),
        ),
        "ConcurrentModificationException" => (
            ErrorKind::Unavailable,
            format!("{resource} was being changed by another call; retry"),
        ),
        _ => return None,
    };
    Some(kind_and_fix)
}

/// The kind and fix for the codes of every service: access, throttling, validation, server.
fn common_kind_and_fix(code: &str, resource: &str) -> Option<(ErrorKind, String)> {
    let kind_and_fix = match code {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId" => (
            ErrorKind::PermissionDenied,
            format!("check the AWS credentials and the IAM policy for {resource}"),
        ),
        code if THROTTLING_CODES.contains(&code) => {
            (ErrorKind::Throttled, "retry later, with backoff".into())
        }
        "ValidationException" | "InvalidArgument" | "EntityTooLarge" => (
            ErrorKind::InvalidInput,
            "check the request against the AWS limits".into(),
        ),
        code if SERVER_ERROR_CODES.contains(&code) => {
            (ErrorKind::Unavailable, "retry later".into())
        }
        _ => return None,
    };
    Some(kind_and_fix)
}

/// The text of an error and of each of its sources, joined by `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
