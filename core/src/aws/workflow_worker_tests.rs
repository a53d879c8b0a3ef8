//! The Step Functions activity worker against the AWS SDK's replay HTTP client: moto has no
//! `GetActivityTask`, so these tests replay Step Functions' documented responses and check the
//! exact requests the worker sends (`GetActivityTask`, `SendTaskHeartbeat`, `SendTaskSuccess`,
//! `SendTaskFailure`), on the wire format the real service reads.

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

fn response(status: u16, body: Value) -> HttpResponse {
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
    assert!(
        e.message.contains("nope") && e.message.contains("TaskDoesNotExist"),
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
