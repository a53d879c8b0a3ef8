//! Step Functions history events as agent-mesh [`HistoryEvent`]s: the `...EventDetails` object
//! of each event becomes `details`, with the camelCase field names of the Step Functions API
//! (the names the embedded engine records too).

use aws_sdk_sfn::types::HistoryEvent as SfnEvent;
use serde_json::{Map, Value};

use crate::clock::from_ms;
use crate::types::workflows::HistoryEvent;

/// A field of an event details structure, as JSON (`None` when absent).
trait Field {
    fn json(self) -> Option<Value>;
}

impl Field for &str {
    fn json(self) -> Option<Value> {
        Some(Value::String(self.to_owned()))
    }
}

impl Field for Option<&str> {
    fn json(self) -> Option<Value> {
        self.and_then(Field::json)
    }
}

impl Field for i32 {
    fn json(self) -> Option<Value> {
        Some(Value::from(self))
    }
}

impl Field for Option<i32> {
    fn json(self) -> Option<Value> {
        self.map(Value::from)
    }
}

impl Field for Option<i64> {
    fn json(self) -> Option<Value> {
        self.map(Value::from)
    }
}

/// `{"key": details.method(), ...}` without the absent fields.
macro_rules! fields {
    ($details:expr; $($key:literal => $method:ident),* $(,)?) => {{
        let details = $details;
        let mut map = Map::new();
        $(
            if let Some(value) = Field::json(details.$method()) {
                map.insert($key.to_owned(), value);
            }
        )*
        Value::Object(map)
    }};
}

/// One Step Functions history event as an agent-mesh history event.
pub(crate) fn history_event(event: &SfnEvent) -> HistoryEvent {
    HistoryEvent {
        id: u64::try_from(event.id()).unwrap_or_default(),
        previous_event_id: u64::try_from(event.previous_event_id()).unwrap_or_default(),
        timestamp: from_ms(event.timestamp().to_millis().unwrap_or_default()),
        event_type: event.r#type().as_str().to_owned(),
        details: details(event),
    }
}

/// The event's details object (`{}` for events without one, like `PassStateEntered`'s
/// siblings `ParallelStateStarted`).
fn details(e: &SfnEvent) -> Value {
    if let Some(d) = e.execution_started_event_details() {
        return fields!(d; "input" => input, "roleArn" => role_arn);
    }
    if let Some(d) = e.execution_succeeded_event_details() {
        return fields!(d; "output" => output);
    }
    if let Some(d) = e.execution_failed_event_details() {
        return fields!(d; "error" => error, "cause" => cause);
    }
    if let Some(d) = e.execution_aborted_event_details() {
        return fields!(d; "error" => error, "cause" => cause);
    }
    if let Some(d) = e.execution_timed_out_event_details() {
        return fields!(d; "error" => error, "cause" => cause);
    }
    if let Some(d) = e.state_entered_event_details() {
        return fields!(d; "name" => name, "input" => input);
    }
    if let Some(d) = e.state_exited_event_details() {
        return fields!(d; "name" => name, "output" => output);
    }
    if let Some(d) = e.task_scheduled_event_details() {
        return fields!(d;
            "resource" => resource, "resourceType" => resource_type, "region" => region,
            "parameters" => parameters, "timeoutInSeconds" => timeout_in_seconds,
            "heartbeatInSeconds" => heartbeat_in_seconds);
    }
    if let Some(d) = e.task_started_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type);
    }
    if let Some(d) = e.task_submitted_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "output" => output);
    }
    if let Some(d) = e.task_succeeded_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "output" => output);
    }
    if let Some(d) = e.task_failed_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "error" => error, "cause" => cause);
    }
    if let Some(d) = e.task_start_failed_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "error" => error, "cause" => cause);
    }
    if let Some(d) = e.task_submit_failed_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "error" => error, "cause" => cause);
    }
    if let Some(d) = e.task_timed_out_event_details() {
        return fields!(d; "resource" => resource, "resourceType" => resource_type, "error" => error, "cause" => cause);
    }
    if let Some(d) = e.activity_scheduled_event_details() {
        return fields!(d;
            "resource" => resource, "input" => input, "timeoutInSeconds" => timeout_in_seconds,
            "heartbeatInSeconds" => heartbeat_in_seconds);
    }
    if let Some(d) = e.activity_started_event_details() {
        return fields!(d; "workerName" => worker_name);
    }
    if let Some(d) = e.activity_succeeded_event_details() {
        return fields!(d; "output" => output);
    }
    if let Some(d) = e.lambda_function_scheduled_event_details() {
        return fields!(d; "resource" => resource, "input" => input, "timeoutInSeconds" => timeout_in_seconds);
    }
    if let Some(d) = e.lambda_function_succeeded_event_details() {
        return fields!(d; "output" => output);
    }
    if let Some(d) = e.map_state_started_event_details() {
        return fields!(d; "length" => length);
    }
    let iteration = e
        .map_iteration_started_event_details()
        .or(e.map_iteration_succeeded_event_details())
        .or(e.map_iteration_failed_event_details())
        .or(e.map_iteration_aborted_event_details());
    if let Some(d) = iteration {
        return fields!(d; "name" => name, "index" => index);
    }
    if let Some(d) = e.map_run_started_event_details() {
        return fields!(d; "mapRunArn" => map_run_arn);
    }
    if let Some(d) = e.evaluation_failed_event_details() {
        return fields!(d; "error" => error, "cause" => cause, "location" => location, "state" => state);
    }
    error_details(e)
}

/// The `{error, cause}` details of the failure events not handled above.
fn error_details(e: &SfnEvent) -> Value {
    macro_rules! first_error {
        ($($method:ident),*) => {
            $(
                if let Some(d) = e.$method() {
                    return fields!(d; "error" => error, "cause" => cause);
                }
            )*
        };
    }
    first_error!(
        activity_failed_event_details,
        activity_schedule_failed_event_details,
        activity_timed_out_event_details,
        lambda_function_failed_event_details,
        lambda_function_schedule_failed_event_details,
        lambda_function_start_failed_event_details,
        lambda_function_timed_out_event_details,
        map_run_failed_event_details
    );
    Value::Object(Map::new())
}
