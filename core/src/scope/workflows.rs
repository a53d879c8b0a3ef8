//! Workflows in a scope: state machines and activities named `t.a.` + the name the client
//! gave; an execution or ARN of another scope is `NotFound`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::Scope;
use crate::backend::WorkflowBackend;
use crate::error::{Error, ErrorKind, Result};
use crate::page::Page;
use crate::types::workflows::{
    ActivityTask, Execution, ExecutionRef, ExecutionStatus, HistoryEvent, StateMachineInfo,
    TaskHandler,
};

/// A [`WorkflowBackend`] confined to one scope.
#[derive(Debug)]
pub(crate) struct ScopedWorkflows {
    inner: Arc<dyn WorkflowBackend>,
    scope: Scope,
}

/// The error for an ARN outside the scope: the same as for one that does not exist, so a
/// scoped client learns nothing about other scopes.
fn not_found(operation: &str, arn: &str, what: &str) -> Error {
    Error::keyed(
        ErrorKind::NotFound,
        operation,
        arn,
        format!("no such {what} in this scope; pass an ARN this client's calls returned"),
    )
}

impl ScopedWorkflows {
    /// `inner` seen through `scope`.
    pub(crate) fn new(inner: Arc<dyn WorkflowBackend>, scope: Scope) -> Self {
        ScopedWorkflows { inner, scope }
    }

    /// Checks that the state machine or execution `arn` belongs to the scope.
    fn check_arn(&self, operation: &str, arn: &str) -> Result<()> {
        match self.inner.state_machine_name(arn) {
            Some(name) if self.scope.strip_name(&name).is_some() => Ok(()),
            _ => Err(not_found(operation, arn, "execution or state machine")),
        }
    }

    /// The stored name of the state machine `name` (or its ARN, checked to be in the scope).
    fn machine(&self, operation: &str, name: &str) -> Result<String> {
        if name.starts_with("arn:") {
            self.check_arn(operation, name)?;
            Ok(name.to_owned())
        } else {
            Ok(self.scope.name(name))
        }
    }

    /// `execution` with the state machine name the scoped client gave.
    fn unscoped(&self, operation: &str, mut execution: Execution) -> Result<Execution> {
        execution.state_machine = self
            .scope
            .strip_name(&execution.state_machine)
            .ok_or_else(|| not_found(operation, &execution.arn, "execution"))?;
        Ok(execution)
    }

    /// Refuses a definition with a Task on an activity of another scope: its tasks would go
    /// to that scope's workers, and their results come back here.
    fn check_activities(&self, name: &str, definition: &Value) -> Result<()> {
        let mut stack = vec![definition];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(fields) => {
                    if let Some(Value::String(resource)) = fields.get("Resource")
                        && let Some((_, activity)) = resource.rsplit_once(":activity:")
                        && self.scope.strip_name(activity).is_none()
                    {
                        return Err(Error::invalid_input(
                            "workflows.create",
                            name,
                            format!(
                                "a Task runs the activity '{activity}', which is outside this scope; use the ARN create_activity returns in this scope"
                            ),
                        ));
                    }
                    stack.extend(fields.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks that the activity `arn` belongs to the scope.
    fn check_activity(&self, operation: &str, arn: &str) -> Result<()> {
        let name = arn.rsplit_once(":activity:").map(|(_, name)| name);
        match name {
            Some(name) if self.scope.strip_name(name).is_some() => Ok(()),
            _ => Err(not_found(operation, arn, "activity")),
        }
    }
}

#[async_trait]
impl WorkflowBackend for ScopedWorkflows {
    async fn create(&self, name: &str, definition: &Value) -> Result<StateMachineInfo> {
        self.check_activities(name, definition)?;
        let mut info = self
            .inner
            .create(&self.scope.name(name), definition)
            .await?;
        info.name = name.to_owned();
        Ok(info)
    }

    async fn start(&self, name: &str, input: &Value, execution_name: &str) -> Result<ExecutionRef> {
        let machine = self.machine("workflows.start", name)?;
        self.inner.start(&machine, input, execution_name).await
    }

    async fn describe(&self, arn: &str) -> Result<Execution> {
        const OP: &str = "workflows.describe";
        self.check_arn(OP, arn)?;
        let execution = self.inner.describe(arn).await?;
        self.unscoped(OP, execution)
    }

    async fn wait(&self, arn: &str, timeout: Option<Duration>) -> Result<Execution> {
        const OP: &str = "workflows.wait";
        self.check_arn(OP, arn)?;
        let execution = self.inner.wait(arn, timeout).await?;
        self.unscoped(OP, execution)
    }

    async fn history(&self, arn: &str) -> Result<Vec<HistoryEvent>> {
        self.check_arn("workflows.history", arn)?;
        self.inner.history(arn).await
    }

    async fn stop(&self, arn: &str, error: Option<&str>, cause: Option<&str>) -> Result<Execution> {
        const OP: &str = "workflows.stop";
        self.check_arn(OP, arn)?;
        let execution = self.inner.stop(arn, error, cause).await?;
        self.unscoped(OP, execution)
    }

    async fn list_executions(
        &self,
        name: &str,
        status: Option<ExecutionStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Execution>> {
        const OP: &str = "workflows.list_executions";
        let machine = self.machine(OP, name)?;
        let page = self
            .inner
            .list_executions(&machine, status, limit, cursor)
            .await?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|e| self.unscoped(OP, e))
                .collect::<Result<_>>()?,
            next_cursor: page.next_cursor,
        })
    }

    /// Handlers are code of this process, not data of a scope: a handler registered through a
    /// scoped client serves every state machine of this process that names it.
    fn register(&self, name: &str, handler: TaskHandler) -> Result<()> {
        self.inner.register(name, handler)
    }

    async fn create_activity(&self, name: &str) -> Result<String> {
        self.inner.create_activity(&self.scope.name(name)).await
    }

    async fn poll_activity(
        &self,
        activity_arn: &str,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<ActivityTask>> {
        self.check_activity("workflows.poll_activity", activity_arn)?;
        self.inner.poll_activity(activity_arn, worker, wait).await
    }

    async fn send_task_success(&self, token: &str, output: &Value) -> Result<()> {
        self.inner.send_task_success(token, output).await
    }

    async fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> Result<()> {
        self.inner.send_task_failure(token, error, cause).await
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        self.inner.send_task_heartbeat(token).await
    }

    fn state_machine_name(&self, arn: &str) -> Option<String> {
        self.inner
            .state_machine_name(arn)
            .and_then(|name| self.scope.strip_name(&name))
    }
}
