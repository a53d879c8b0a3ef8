//! The history events of a Task state, named and detailed as Step Functions records them:
//! `Activity*` for an activity ARN, `LambdaFunction*` for a Lambda function ARN, and `Task*`
//! (with `resource` and `resourceType`) for service integrations and handlers.

use serde_json::{Value, json};

use crate::asl::{Failure, errors};

/// Which family of history events a Task resource records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Activity,
    LambdaFunction,
    Task,
}

/// The events of one Task resource: each method gives an event's type and details.
pub(super) struct TaskEvents<'a> {
    resource: &'a str,
    family: Family,
}

impl<'a> TaskEvents<'a> {
    /// The events for a Task whose `Resource` is `resource`.
    pub(super) fn of(resource: &'a str) -> Self {
        let family = if resource.starts_with("arn:aws:states:") && resource.contains(":activity:") {
            Family::Activity
        } else if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") {
            Family::LambdaFunction
        } else {
            Family::Task
        };
        TaskEvents { resource, family }
    }

    fn name(&self, phase: &str) -> String {
        let prefix = match self.family {
            Family::Activity => "Activity",
            Family::LambdaFunction => "LambdaFunction",
            Family::Task => "Task",
        };
        format!("{prefix}{phase}")
    }

    /// `details` with `resource` and `resourceType` added, as `Task*` events carry them.
    fn task_details(&self, mut details: Value) -> Value {
        if self.family == Family::Task {
            details["resource"] = json!(self.resource);
            details["resourceType"] = json!(resource_type(self.resource));
        }
        details
    }

    /// `...Scheduled`: the input (`parameters` for `Task*`) and the time limits.
    pub(super) fn scheduled(
        &self,
        input: &Value,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    ) -> (String, Value) {
        let mut details = json!({"timeoutInSeconds": timeout, "heartbeatInSeconds": heartbeat});
        match self.family {
            Family::Task => details["parameters"] = json!(input.to_string()),
            _ => {
                details["resource"] = json!(self.resource);
                details["input"] = json!(input.to_string());
            }
        }
        if self.family == Family::LambdaFunction {
            details
                .as_object_mut()
                .map(|d| d.remove("heartbeatInSeconds"));
        }
        (self.name("Scheduled"), self.task_details(details))
    }

    /// `...Started`.
    pub(super) fn started(&self) -> (String, Value) {
        (self.name("Started"), self.task_details(json!({})))
    }

    /// `...Succeeded` with the output.
    pub(super) fn succeeded(&self, output: &Value) -> (String, Value) {
        let details = json!({"output": output.to_string()});
        (self.name("Succeeded"), self.task_details(details))
    }

    /// `...TimedOut` for `States.Timeout` and `States.HeartbeatTimeout`, else `...Failed`.
    pub(super) fn failed(&self, failure: &Failure) -> (String, Value) {
        let timed_out =
            failure.error == errors::TIMEOUT || failure.error == errors::HEARTBEAT_TIMEOUT;
        let details = json!({"error": failure.error, "cause": failure.cause});
        let phase = if timed_out { "TimedOut" } else { "Failed" };
        (self.name(phase), self.task_details(details))
    }
}

/// The `resourceType` Step Functions reports for a Task resource (`lambda`, `ecs`, ...).
fn resource_type(resource: &str) -> &str {
    resource
        .strip_prefix("arn:aws:states:::")
        .and_then(|r| r.split(':').next())
        .or_else(|| {
            resource
                .strip_prefix("arn:aws:")
                .and_then(|r| r.split(':').next())
        })
        .unwrap_or("handler")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_named_by_the_resource_family() {
        let activity = TaskEvents::of("arn:aws:states:us-east-1:123456789012:activity:review");
        let (name, details) = activity.scheduled(&json!({"a": 1}), Some(30), Some(5));
        assert_eq!(name, "ActivityScheduled");
        assert_eq!(
            details,
            json!({"resource": "arn:aws:states:us-east-1:123456789012:activity:review", "input": "{\"a\":1}", "timeoutInSeconds": 30, "heartbeatInSeconds": 5})
        );
        assert_eq!(activity.started().0, "ActivityStarted");
        assert_eq!(
            activity.succeeded(&json!(true)),
            ("ActivitySucceeded".to_owned(), json!({"output": "true"}))
        );
        let timeout = Failure::new(errors::HEARTBEAT_TIMEOUT, "no heartbeat");
        assert_eq!(activity.failed(&timeout).0, "ActivityTimedOut");

        let lambda = TaskEvents::of("arn:aws:lambda:us-east-1:123456789012:function:summarise");
        let (name, details) = lambda.scheduled(&json!({}), None, None);
        assert_eq!(name, "LambdaFunctionScheduled");
        assert!(details.get("heartbeatInSeconds").is_none(), "{details}");
        let failed = Failure::new("Boom", "it broke");
        assert_eq!(
            lambda.failed(&failed),
            (
                "LambdaFunctionFailed".to_owned(),
                json!({"error": "Boom", "cause": "it broke"})
            )
        );

        let integration = TaskEvents::of("arn:aws:states:::lambda:invoke");
        let (name, details) = integration.scheduled(&json!({"x": 1}), None, None);
        assert_eq!(name, "TaskScheduled");
        assert_eq!(details["resourceType"], "lambda");
        assert_eq!(details["parameters"], "{\"x\":1}");
        assert_eq!(
            TaskEvents::of("summarise").started().1["resourceType"],
            "handler"
        );
        assert_eq!(integration.failed(&failed).0, "TaskFailed");
    }
}
