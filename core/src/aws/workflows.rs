//! Workflows on AWS Step Functions.
//!
//! `create(name)` makes (or updates) the state machine `<prefix>agent-mesh-<env>-<name>`, run
//! with the IAM role `AGENT_MESH_WORKFLOW_ROLE_ARN` or `<prefix>agent-mesh-<env>-workflows` of
//! the caller's account (the Terraform in `infra/` creates it). Every other call maps onto one
//! Step Functions action: `StartExecution`, `DescribeExecution`, `GetExecutionHistory`,
//! `StopExecution`, `ListExecutions`, `CreateActivity`, `GetActivityTask` and `SendTask*`.
//! Activities keep the name they are given, so a definition naming an activity ARN runs
//! unchanged here and on the embedded engine. Task handlers cannot be registered: Step
//! Functions invokes the Task's resource itself.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::errors::{Target, map_sdk_error};
use super::history::history_event;
use crate::backend::WorkflowBackend;
use crate::clock::{Timestamp, from_ms};
use crate::config::AwsNames;
use crate::error::{Error, ErrorKind, Result};
use crate::page::Page;
use crate::types::workflows::{
    ActivityTask, Execution, ExecutionRef, ExecutionStatus, HistoryEvent, StateMachineInfo,
    TaskHandler,
};

/// Longest Step Functions state machine name.
const MAX_NAME: usize = 80;
/// How many `DescribeExecution` calls a listing page makes at once.
const DESCRIBE_CONCURRENCY: usize = 8;
/// First and longest pause between `DescribeExecution` polls of `wait`.
/// How long `stop` waits for a stopped execution to report that it ended.
const STOP_SETTLE: Duration = Duration::from_secs(10);
const WAIT_POLL: (Duration, Duration) = (Duration::from_millis(25), Duration::from_millis(500));

/// The account and partition the credentials belong to, for ARNs built from names.
#[derive(Debug)]
struct Identity {
    partition: String,
    account: String,
}

/// Workflows on Step Functions.
#[derive(Debug)]
pub(crate) struct StepFunctionsWorkflows {
    sfn: aws_sdk_sfn::Client,
    sts: aws_sdk_sts::Client,
    region: Option<String>,
    names: AwsNames,
    identity: OnceCell<Identity>,
}

fn sfn_status(status: &SfnStatus) -> ExecutionStatus {
    match status {
        SfnStatus::Succeeded => ExecutionStatus::Succeeded,
        SfnStatus::Failed => ExecutionStatus::Failed,
        SfnStatus::TimedOut => ExecutionStatus::TimedOut,
        SfnStatus::Aborted => ExecutionStatus::Aborted,
        // RUNNING, and PENDING_REDRIVE (a redriven execution about to run again).
        _ => ExecutionStatus::Running,
    }
}

fn timestamp(time: &aws_smithy_types::DateTime) -> Timestamp {
    from_ms(time.to_millis().unwrap_or_default())
}

/// Execution input and output text as JSON; text Step Functions returned that is not JSON
/// stays a string.
fn json_text(text: Option<&str>) -> Option<Value> {
    text.map(|t| serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned())))
}

impl StepFunctionsWorkflows {
    /// Workflows with these clients; `region` is the SDK configuration's.
    pub(crate) fn new(
        sfn: aws_sdk_sfn::Client,
        sts: aws_sdk_sts::Client,
        region: Option<String>,
        names: AwsNames,
    ) -> Self {
        StepFunctionsWorkflows {
            sfn,
            sts,
            region,
            names,
            identity: OnceCell::new(),
        }
    }

    fn target<'a>(operation: &'a str, key: &'a str, resource: &'a str) -> Target<'a> {
        Target {
            operation,
            key,
            resource,
        }
    }

    /// The caller's account and partition (`GetCallerIdentity`, once).
    async fn identity(&self, operation: &str, key: &str) -> Result<&Identity> {
        self.identity
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await.map_err(|e| {
                    map_sdk_error(&Self::target(operation, key, "STS GetCallerIdentity"), e)
                })?;
                let account = out.account().unwrap_or_default().to_owned();
                let partition = out
                    .arn()
                    .and_then(|arn| arn.split(':').nth(1))
                    .unwrap_or("aws")
                    .to_owned();
                Ok(Identity { partition, account })
            })
            .await
    }

    fn region(&self, operation: &str, key: &str) -> Result<&str> {
        self.region.as_deref().ok_or_else(|| {
            Error::keyed(
                ErrorKind::Config,
                operation,
                key,
                "no AWS region is configured: set AWS_REGION or add ?region=... to the aws:// URL",
            )
        })
    }

    /// `<prefix>agent-mesh-<env>-<name>`, checked against Step Functions' length limit.
    fn state_machine_name(&self, operation: &str, name: &str) -> Result<String> {
        let full = format!("{}{name}", self.names.state_machine_prefix);
        if full.len() > MAX_NAME {
            return Err(Error::invalid_input(
                operation,
                name,
                format!(
                    "the state machine would be named '{full}' ({} characters), over Step Functions' {MAX_NAME}: use a name of at most {} characters",
                    full.len(),
                    MAX_NAME.saturating_sub(self.names.state_machine_prefix.len())
                ),
            ));
        }
        Ok(full)
    }

    /// `arn:<partition>:states:<region>:<account>:<kind>:<name>`.
    async fn arn(&self, operation: &str, kind: &str, name: &str) -> Result<String> {
        let region = self.region(operation, name)?.to_owned();
        let identity = self.identity(operation, name).await?;
        Ok(format!(
            "arn:{}:states:{region}:{}:{kind}:{name}",
            identity.partition, identity.account
        ))
    }

    /// The ARN of the state machine `name` (or `name` itself when it is an ARN).
    async fn state_machine_arn(&self, operation: &str, name: &str) -> Result<String> {
        if name.starts_with("arn:") {
            return Ok(name.to_owned());
        }
        let full = self.state_machine_name(operation, name)?;
        self.arn(operation, "stateMachine", &full).await
    }

    /// The name `create` was given, from a state machine ARN.
    fn short_name(&self, state_machine_arn: &str) -> String {
        let full = state_machine_arn
            .rsplit_once(":stateMachine:")
            .map_or(state_machine_arn, |(_, name)| name);
        let full = full.split(':').next().unwrap_or(full);
        full.strip_prefix(self.names.state_machine_prefix.as_str())
            .unwrap_or(full)
            .to_owned()
    }

    async fn role_arn(&self, operation: &str, name: &str) -> Result<String> {
        match &self.names.workflow_role_arn {
            Some(arn) => Ok(arn.clone()),
            None => {
                let identity = self.identity(operation, name).await?;
                Ok(format!(
                    "arn:{}:iam::{}:role/{}",
                    identity.partition, identity.account, self.names.workflow_role_name
                ))
            }
        }
    }

    /// The error of `CreateStateMachine`/`UpdateStateMachine`, with how to fix the workflow
    /// role when the error is about it.
    fn definition_error<E>(target: &Target<'_>, role: &str, e: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let about_role = matches!(e.code(), Some("InvalidArn" | "AccessDeniedException"))
            && e.message()
                .is_some_and(|m| m.to_lowercase().contains("role"));
        let error = map_sdk_error(target, e);
        if !about_role {
            return error;
        }
        Error::new(
            ErrorKind::Config,
            format!(
                "{}; Step Functions runs state machines with the IAM role {role}: create it with the Terraform in infra/, or set AGENT_MESH_WORKFLOW_ROLE_ARN to a role Step Functions may assume",
                error.message
            ),
        )
        .with_context("resource", role)
    }

    async fn describe_execution(&self, operation: &str, arn: &str) -> Result<Execution> {
        let out = self
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(&Self::target(operation, arn, "Step Functions execution"), e)
            })?;
        Ok(Execution {
            arn: out.execution_arn().to_owned(),
            name: out.name().unwrap_or_default().to_owned(),
            state_machine: self.short_name(out.state_machine_arn()),
            status: sfn_status(out.status()),
            input: json_text(out.input()).unwrap_or(Value::Null),
            output: json_text(out.output()),
            error: out.error().map(str::to_owned),
            cause: out.cause().map(str::to_owned),
            start_date: timestamp(out.start_date()),
            stop_date: out.stop_date().map(timestamp),
        })
    }

    /// Describes the execution until it is no longer running, or `timeout` passes (then
    /// returns it still running).
    async fn poll_until_ended(
        &self,
        operation: &str,
        arn: &str,
        timeout: Option<Duration>,
    ) -> Result<Execution> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut pause = WAIT_POLL.0;
        loop {
            let execution = self.describe_execution(operation, arn).await?;
            let now = tokio::time::Instant::now();
            if execution.status != ExecutionStatus::Running || deadline.is_some_and(|d| now >= d) {
                return Ok(execution);
            }
            let left = deadline.map_or(pause, |d| d.saturating_duration_since(now));
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 3 / 2).min(WAIT_POLL.1);
        }
    }
}

#[async_trait]
impl WorkflowBackend for StepFunctionsWorkflows {
    async fn create(&self, name: &str, definition: &Value) -> Result<StateMachineInfo> {
        const OP: &str = "workflows.create";
        let full = self.state_machine_name(OP, name)?;
        let role = self.role_arn(OP, name).await?;
        let arn = self.state_machine_arn(OP, name).await?;
        let text = definition.to_string();
        let resource = format!("Step Functions state machine '{full}'");
        let target = Self::target(OP, name, &resource);
        let failed = |e| Self::definition_error(&target, &role, e);
        let failed_create = |e| Self::definition_error(&target, &role, e);
        // Update first: CreateStateMachine answers an existing name with its ARN on some
        // emulators without changing the definition. A state machine that does not exist yet
        // is created; one created meanwhile by another process is updated after all.
        let update = || {
            self.sfn
                .update_state_machine()
                .state_machine_arn(&arn)
                .definition(&text)
                .role_arn(&role)
                .send()
        };
        match update().await {
            Ok(_) => {}
            Err(e) if e.code() == Some("StateMachineDoesNotExist") => {
                let created = self
                    .sfn
                    .create_state_machine()
                    .name(&full)
                    .definition(&text)
                    .role_arn(&role)
                    .send()
                    .await;
                match created {
                    Ok(_) => {}
                    Err(e) if e.code() == Some("StateMachineAlreadyExists") => {
                        update().await.map_err(failed)?;
                    }
                    Err(e) => return Err(failed_create(e)),
                }
            }
            Err(e) => return Err(failed(e)),
        }
        Ok(StateMachineInfo {
            arn,
            name: name.to_owned(),
        })
    }

    async fn start(&self, name: &str, input: &Value, execution_name: &str) -> Result<ExecutionRef> {
        const OP: &str = "workflows.start";
        let arn = self.state_machine_arn(OP, name).await?;
        let started = self
            .sfn
            .start_execution()
            .state_machine_arn(&arn)
            .name(execution_name)
            .input(input.to_string())
            .send()
            .await;
        match started {
            Ok(out) => Ok(ExecutionRef {
                arn: out.execution_arn().to_owned(),
                name: execution_name.to_owned(),
                start_date: timestamp(out.start_date()),
            }),
            // Step Functions returns the existing execution only while it runs; once it has
            // ended, the same name and input is refused. Return it then too, so a repeated start
            // behaves the same on every backend (and a different input is still a conflict).
            Err(e) if e.code() == Some("ExecutionAlreadyExists") => {
                let conflict = map_sdk_error(
                    &Self::target(OP, name, &format!("Step Functions state machine {arn}")),
                    e,
                );
                let execution_arn = format!(
                    "{}:{execution_name}",
                    arn.replacen(":stateMachine:", ":execution:", 1)
                );
                let existing = self.describe_execution(OP, &execution_arn).await?;
                if existing.input != *input {
                    return Err(conflict);
                }
                Ok(ExecutionRef {
                    arn: existing.arn,
                    name: existing.name,
                    start_date: existing.start_date,
                })
            }
            Err(e) => Err(map_sdk_error(
                &Self::target(OP, name, &format!("Step Functions state machine {arn}")),
                e,
            )),
        }
    }

    async fn describe(&self, arn: &str) -> Result<Execution> {
        self.describe_execution("workflows.describe", arn).await
    }

    async fn wait(&self, arn: &str, timeout: Option<Duration>) -> Result<Execution> {
        self.poll_until_ended("workflows.wait", arn, timeout).await
    }

    async fn history(&self, arn: &str) -> Result<Vec<HistoryEvent>> {
        const OP: &str = "workflows.history";
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .sfn
                .get_execution_history()
                .execution_arn(arn)
                .max_results(1000)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    map_sdk_error(&Self::target(OP, arn, "Step Functions execution"), e)
                })?;
            let before = events.len();
            events.extend(out.events().iter().map(history_event));
            match out.next_token() {
                // A page without events ends the listing even if a token came back.
                Some(next) if events.len() > before && token.as_deref() != Some(next) => {
                    token = Some(next.to_owned());
                }
                _ => return Ok(events),
            }
        }
    }

    async fn stop(&self, arn: &str, error: Option<&str>, cause: Option<&str>) -> Result<Execution> {
        const OP: &str = "workflows.stop";
        let execution = self.describe_execution(OP, arn).await?;
        if execution.status != ExecutionStatus::Running {
            return Ok(execution);
        }
        self.sfn
            .stop_execution()
            .execution_arn(arn)
            .set_error(error.map(str::to_owned))
            .set_cause(cause.map(str::to_owned))
            .send()
            .await
            .map_err(|e| map_sdk_error(&Self::target(OP, arn, "Step Functions execution"), e))?;
        // Step Functions reports ABORTED as soon as StopExecution returns; an emulator may
        // apply the stop on its worker thread a moment later, so settle before answering.
        self.poll_until_ended(OP, arn, Some(STOP_SETTLE)).await
    }

    async fn list_executions(
        &self,
        name: &str,
        status: Option<ExecutionStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Execution>> {
        const OP: &str = "workflows.list_executions";
        let arn = self.state_machine_arn(OP, name).await?;
        let out = self
            .sfn
            .list_executions()
            .state_machine_arn(&arn)
            .max_results(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_next_token(cursor.map(str::to_owned))
            .set_status_filter(status.map(|s| SfnStatus::from(s.as_str())))
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(
                    &Self::target(OP, name, &format!("Step Functions state machine {arn}")),
                    e,
                )
            })?;
        // A listing item has no input or output: describe each, so a page holds the same
        // executions on every backend.
        let arns: Vec<String> = out
            .executions()
            .iter()
            .map(|item| item.execution_arn().to_owned())
            .collect();
        let items = futures::stream::iter(arns)
            .map(|arn| async move { self.describe_execution(OP, &arn).await })
            .buffered(DESCRIBE_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(Page {
            items,
            next_cursor: out.next_token().map(str::to_owned),
        })
    }

    fn register(&self, name: &str, _handler: TaskHandler) -> Result<()> {
        Err(Error::keyed(
            ErrorKind::Unsupported,
            "workflows.register",
            name,
            "on aws:// Step Functions invokes each Task's resource itself (Lambda, ECS, ...), so handlers cannot be registered in this process; serve the Task as an activity with workflows.worker(activity, handler), or use the local backend",
        ))
    }

    fn state_machine_name(&self, arn: &str) -> Option<String> {
        crate::backend::arn_state_machine(arn)
            .and_then(|full| full.strip_prefix(self.names.state_machine_prefix.as_str()))
            .map(str::to_owned)
    }

    async fn create_activity(&self, name: &str) -> Result<String> {
        const OP: &str = "workflows.create_activity";
        let created = self.sfn.create_activity().name(name).send().await;
        match created {
            Ok(out) => Ok(out.activity_arn().to_owned()),
            // Step Functions answers CreateActivity for an existing name with its ARN;
            // emulators (moto) refuse it instead.
            Err(e) if e.code() == Some("ActivityAlreadyExists") => {
                self.arn(OP, "activity", name).await
            }
            Err(e) => Err(map_sdk_error(
                &Self::target(OP, name, &format!("Step Functions activity '{name}'")),
                e,
            )),
        }
    }

    async fn poll_activity(
        &self,
        activity_arn: &str,
        worker: &str,
        _wait: Duration,
    ) -> Result<Option<ActivityTask>> {
        const OP: &str = "workflows.poll_activity";
        // GetActivityTask long-polls for up to 60 s; Step Functions sets that time, not us.
        let out = self
            .sfn
            .get_activity_task()
            .activity_arn(activity_arn)
            .worker_name(worker)
            .send()
            .await
            .map_err(|e| {
                map_sdk_error(
                    &Self::target(OP, activity_arn, "Step Functions activity"),
                    e,
                )
            })?;
        let Some(token) = out.task_token().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(ActivityTask {
            token: token.to_owned(),
            input: json_text(out.input()).unwrap_or(Value::Null),
        }))
    }

    async fn send_task_success(&self, token: &str, output: &Value) -> Result<()> {
        const OP: &str = "workflows.send_task_success";
        self.sfn
            .send_task_success()
            .task_token(token)
            .output(output.to_string())
            .send()
            .await
            .map_err(|e| {
                let label = crate::redact::token_label(token);
                map_sdk_error(&Self::target(OP, &label, "Step Functions task"), e)
            })?;
        Ok(())
    }

    async fn send_task_failure(&self, token: &str, error: &str, cause: &str) -> Result<()> {
        const OP: &str = "workflows.send_task_failure";
        self.sfn
            .send_task_failure()
            .task_token(token)
            .error(error)
            .cause(cause)
            .send()
            .await
            .map_err(|e| {
                let label = crate::redact::token_label(token);
                map_sdk_error(&Self::target(OP, &label, "Step Functions task"), e)
            })?;
        Ok(())
    }

    async fn send_task_heartbeat(&self, token: &str) -> Result<()> {
        const OP: &str = "workflows.send_task_heartbeat";
        self.sfn
            .send_task_heartbeat()
            .task_token(token)
            .send()
            .await
            .map_err(|e| {
                let label = crate::redact::token_label(token);
                map_sdk_error(&Self::target(OP, &label, "Step Functions task"), e)
            })?;
        Ok(())
    }
}
