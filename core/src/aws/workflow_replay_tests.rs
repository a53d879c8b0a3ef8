//! The Step Functions backend against the AWS SDK's replay HTTP client, for what moto cannot
//! show: it has no `GetActivityTask`, so these tests replay Step Functions' documented responses
//! and check the exact requests the activity worker sends (`GetActivityTask`,
//! `SendTaskHeartbeat`, `SendTaskSuccess`, `SendTaskFailure`) on the wire format the real
//! service reads; and it accepts any well-formed role, so a refused role is replayed too.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};

use super::workflows::StepFunctionsWorkflows;
use crate::backend::WorkflowBackend;
use crate::config::{AwsNames, AwsOptions};
use crate::error::ErrorKind;
use crate::workflows::{TaskError, Workflows, handler};

const ENDPOINT: &str = "http://sfn.replay.test";
const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:review";

/// A request Step Functions' JSON protocol carries: `X-Amz-Target: AWSStepFunctions.<action>`.
fn request(action: &str, body: Value) -> HttpRequest {
    let mut request = HttpRequest::new(SdkBody::from(body.to_string()));
    request.set_uri(format!("{ENDPOINT}/")).unwrap();
    request
        .headers_mut()
        .insert("x-amz-target", format!("AWSStepFunctions.{action}"));
    request
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    request
}

/// An answer in the AWS JSON 1.0 protocol (Step Functions, DynamoDB): `status` with `body`.
pub(super) fn response(status: u16, body: Value) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(body.to_string()),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

fn backend(http: &StaticReplayClient) -> StepFunctionsWorkflows {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "replay"))
        .endpoint_url(ENDPOINT)
        .http_client(http.clone())
        .build();
    let sts_config = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            "AKID", "SECRET", None, None, "replay",
        ))
        .endpoint_url(ENDPOINT)
        .http_client(http.clone())
        .build();
    StepFunctionsWorkflows::new(
        aws_sdk_sfn::Client::from_conf(config),
        aws_sdk_sts::Client::from_conf(sts_config),
        Some("us-east-1".into()),
        AwsNames::resolve(&AwsOptions::default()),
    )
}

fn workflows(http: &StaticReplayClient) -> Workflows {
    Workflows::new(Arc::new(backend(http)))
}

/// Waits until the client has answered `count` requests (every replayed event was used).
async fn until_requests(http: &StaticReplayClient, count: usize) {
    for _ in 0..500 {
        if http.actual_requests().count() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the worker sent {} requests, {count} expected",
        http.actual_requests().count()
    );
}

#[tokio::test]
async fn activity_worker_polls_heartbeats_and_reports_success_and_failure() {
    let worker_name = format!("worker-{}", std::process::id());
    let poll = || {
        request(
            "GetActivityTask",
            json!({"activityArn": ACTIVITY, "workerName": worker_name}),
        )
    };
    let done = || response(200, json!({}));
    let http = StaticReplayClient::new(vec![
        ReplayEvent::new(
            poll(),
            response(200, json!({"taskToken": "token-1", "input": "{\"n\":21}"})),
        ),
        ReplayEvent::new(
            request("SendTaskHeartbeat", json!({"taskToken": "token-1"})),
            done(),
        ),
        ReplayEvent::new(
            request(
                "SendTaskSuccess",
                json!({"taskToken": "token-1", "output": "{\"doubled\":42}"}),
            ),
            done(),
        ),
        ReplayEvent::new(
            poll(),
            response(200, json!({"taskToken": "token-2", "input": "{\"n\":-1}"})),
        ),
        ReplayEvent::new(
            request(
                "SendTaskFailure",
                json!({"taskToken": "token-2", "error": "Negative", "cause": "n is -1; it must be >= 0"}),
            ),
            done(),
        ),
        // A long poll that ends without a task: the token is absent.
        ReplayEvent::new(poll(), response(200, json!({}))),
    ]);
    let worker = workflows(&http)
        .worker(
            ACTIVITY,
            handler(|task| async move {
                let n = task.input["n"].as_i64().unwrap();
                if n < 0 {
                    return Err(TaskError::new(
                        "Negative",
                        format!("n is {n}; it must be >= 0"),
                    ));
                }
                task.heartbeat()
                    .await
                    .map_err(|e| TaskError::new("Heartbeat", e.to_string()))?;
                Ok(json!({"doubled": n * 2}))
            }),
        )
        .await
        .unwrap();
    until_requests(&http, 6).await;
    worker.stop();
    // Targets, bodies (compared as JSON) and the content type, request by request.
    http.assert_requests_match(&[]);
}

#[tokio::test]
async fn task_token_errors_map_to_agent_mesh_kinds() {
    let error = |code: &str, message: &str| {
        response(
            400,
            json!({"__type": format!("com.amazonaws.states#{code}"), "message": message}),
        )
    };
    let http = StaticReplayClient::new(vec![
        ReplayEvent::new(
            request(
                "SendTaskSuccess",
                json!({"taskToken": "gone", "output": "1"}),
            ),
            error("TaskTimedOut", "Task Timed Out: 'gone'"),
        ),
        ReplayEvent::new(
            request(
                "SendTaskFailure",
                json!({"taskToken": "nope", "error": "E", "cause": "C"}),
            ),
            error("TaskDoesNotExist", "Task Does Not Exist: 'nope'"),
        ),
        ReplayEvent::new(
            request("SendTaskHeartbeat", json!({"taskToken": "bad"})),
            error("InvalidToken", "Invalid Token: 'bad'"),
        ),
        ReplayEvent::new(
            request(
                "GetActivityTask",
                json!({"activityArn": ACTIVITY, "workerName": "w"}),
            ),
            error("ActivityDoesNotExist", "Activity Does Not Exist"),
        ),
    ]);
    let wf = workflows(&http);
    let e = wf.send_task_success("gone", json!(1)).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert!(e.message.contains("no longer waiting"), "{e}");
    let e = wf.send_task_failure("nope", "E", "C").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
    // The token is named by its fingerprint, also where Step Functions' message quotes it.
    assert!(
        e.message.contains(&crate::redact::token_label("nope"))
            && !e.message.contains("'nope'")
            && e.message.contains("TaskDoesNotExist"),
        "{e}"
    );
    let e = wf.send_task_heartbeat("bad").await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
    let backend_error = backend(&http)
        .poll_activity(ACTIVITY, "w", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(backend_error.kind, ErrorKind::NotFound, "{backend_error}");
    assert!(backend_error.message.contains(ACTIVITY), "{backend_error}");
    http.assert_requests_match(&[]);
}

#[tokio::test]
async fn a_role_step_functions_refuses_is_a_config_error_naming_it() {
    let identity = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
        <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/dev</Arn>\
        <UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
        <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
    let mut sts_response =
        HttpResponse::new(StatusCode::try_from(200).unwrap(), SdkBody::from(identity));
    sts_response
        .headers_mut()
        .insert("content-type", "text/xml");
    let error = |code: &str, message: &str| {
        response(
            400,
            json!({"__type": format!("com.amazonaws.states#{code}"), "message": message}),
        )
    };
    let role = "arn:aws:iam::123456789012:role/agent-mesh-dev-workflows";
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:agent-mesh-dev-moderation";
    let http = StaticReplayClient::new(vec![
        ReplayEvent::new(HttpRequest::new(SdkBody::empty()), sts_response),
        ReplayEvent::new(
            request("UpdateStateMachine", json!({})),
            error(
                "StateMachineDoesNotExist",
                &format!("State Machine Does Not Exist: '{machine}'"),
            ),
        ),
        ReplayEvent::new(
            request("CreateStateMachine", json!({})),
            response(
                400,
                json!({"__type": "com.amazonaws.states#AccessDeniedException", "message": format!("Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role: {role}")}),
            ),
        ),
    ]);
    let e = workflows(&http)
        .create(
            "moderation",
            json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config, "{e}");
    assert!(
        e.message.contains(role) && e.message.contains("AGENT_MESH_WORKFLOW_ROLE_ARN"),
        "{e}"
    );
    assert!(e.message.contains("infra/"), "{e}");
    // The calls made: the account from STS, then Update, then Create, with the derived names.
    let sent: Vec<(String, String)> = http
        .actual_requests()
        .map(|r| {
            let target = r.headers().get("x-amz-target").unwrap_or("").to_owned();
            (
                target,
                String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned(),
            )
        })
        .collect();
    assert!(sent[0].1.contains("Action=GetCallerIdentity"), "{sent:?}");
    assert_eq!(sent[1].0, "AWSStepFunctions.UpdateStateMachine");
    let update: Value = serde_json::from_str(&sent[1].1).unwrap();
    assert_eq!(update["stateMachineArn"], machine);
    assert_eq!(update["roleArn"], role);
    assert_eq!(sent[2].0, "AWSStepFunctions.CreateStateMachine");
    let create: Value = serde_json::from_str(&sent[2].1).unwrap();
    assert_eq!(create["name"], "agent-mesh-dev-moderation");
    assert_eq!(
        serde_json::from_str::<Value>(create["definition"].as_str().unwrap()).unwrap()["StartAt"],
        "A"
    );
}
