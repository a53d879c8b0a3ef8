//! Error mapping and retries at the DynamoDB boundary, against the AWS SDK's replay HTTP client
//! (moto cannot be made to answer access denied or throttling): which errors are retried, how
//! often, and which kind and message each maps to.

use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use serde_json::json;

use super::kv::DynamoKv;
use super::workflow_replay_tests::response;
use crate::backend::KvBackend;
use crate::error::ErrorKind;

const ENDPOINT: &str = "http://dynamodb.replay.test";
const TABLE: &str = "agent-mesh-dev-kv";

fn get_item() -> HttpRequest {
    let mut request = HttpRequest::new(SdkBody::empty());
    request.set_uri(format!("{ENDPOINT}/")).unwrap();
    request
}

fn error(status: u16, kind: &str, message: &str) -> ReplayEvent {
    ReplayEvent::new(
        get_item(),
        response(
            status,
            json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message}),
        ),
    )
}

fn found() -> ReplayEvent {
    ReplayEvent::new(
        get_item(),
        response(
            200,
            json!({"Item": {"key": {"S": "k"}, "value": {"S": "1"}, "version": {"N": "1"}, "created_at": {"N": "1"}, "updated_at": {"N": "1"}}}),
        ),
    )
}

/// The KV backend on `http`, retrying as the real backend does (but without waiting long).
fn kv(http: &StaticReplayClient) -> DynamoKv {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "replay"))
        .endpoint_url(ENDPOINT)
        .retry_config(super::retry_config().with_initial_backoff(Duration::from_millis(1)))
        .http_client(http.clone())
        .build();
    DynamoKv::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        TABLE.into(),
        true,
    )
}

#[tokio::test]
async fn throttling_is_retried_five_times_then_reported_retryable() {
    let http = StaticReplayClient::new(
        (0..5)
            .map(|_| {
                error(
                    400,
                    "ThrottlingException",
                    "Rate of requests exceeds the allowed throughput.",
                )
            })
            .collect(),
    );
    let err = kv(&http).get("k").await.unwrap_err();
    assert_eq!(http.actual_requests().count(), 5, "five attempts in all");
    assert_eq!(err.kind, ErrorKind::Throttled, "{err}");
    assert!(err.retryable, "{err}");
    assert!(
        err.message.contains("kv.get") && err.message.contains("k"),
        "{err}"
    );
}

#[tokio::test]
async fn transient_server_errors_are_retried_until_one_succeeds() {
    let http = StaticReplayClient::new(vec![
        error(500, "InternalServerError", "Internal server error"),
        error(400, "ProvisionedThroughputExceededException", "exceeded"),
        found(),
    ]);
    let item = kv(&http).get("k").await.unwrap().expect("the item");
    assert_eq!((item.value, item.version), (json!(1), 1));
    assert_eq!(http.actual_requests().count(), 3);
}

#[tokio::test]
async fn access_denied_is_not_retried_and_names_the_table_and_the_fix() {
    let http = StaticReplayClient::new(vec![
        error(
            400,
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/agent is not authorized to perform: dynamodb:GetItem",
        ),
        found(),
    ]);
    let err = kv(&http).get("k").await.unwrap_err();
    assert_eq!(http.actual_requests().count(), 1, "not retried");
    assert_eq!(err.kind, ErrorKind::PermissionDenied, "{err}");
    assert!(!err.retryable);
    let text = err.to_string();
    assert!(text.contains(TABLE) && text.contains("IAM"), "{text}");
    // The SDK's error is kept as the source, for callers that walk the chain.
    let source = std::error::Error::source(&err).expect("the SDK error as source");
    assert!(
        format!("{source:?}").contains("AccessDeniedException"),
        "{source:?}"
    );
}

#[tokio::test]
async fn validation_errors_and_missing_tables_are_not_retried() {
    for (kind, expected) in [
        ("ValidationException", ErrorKind::InvalidInput),
        ("ResourceNotFoundException", ErrorKind::Config),
    ] {
        let http = StaticReplayClient::new(vec![error(400, kind, "refused"), found()]);
        let err = kv(&http).get("k").await.unwrap_err();
        assert_eq!(http.actual_requests().count(), 1, "{kind}: not retried");
        assert_eq!(err.kind, expected, "{kind}: {err}");
        assert!(!err.retryable, "{kind}");
    }
}

/// An unconditional write of 2 under `k`.
fn set_k_to_2() -> crate::backend::KvWrite {
    crate::backend::KvWrite {
        key: "k".into(),
        value: json!(2),
        encoded: "2".into(),
        expires_at: None,
        condition: crate::backend::WriteCondition::Always,
        body: None,
    }
}

/// `GetItem`'s answer: `k` at `version`, created at epoch ms 1.
fn item_at(version: u64) -> ReplayEvent {
    ReplayEvent::new(
        get_item(),
        response(
            200,
            json!({"Item": {"key": {"S": "k"}, "value": {"S": "1"}, "version": {"N": version.to_string()}, "created_at": {"N": "1"}, "updated_at": {"N": "1"}}}),
        ),
    )
}

#[tokio::test]
async fn a_lost_write_answer_the_item_no_longer_tells_is_an_unknown_outcome() {
    // get (the client learns version 1), the put's answer is lost (500), the read back finds
    // version 50 of the same incarnation without write ids: it cannot be told whether the put
    // was applied, so the set fails, not retryable, instead of guessing.
    let http = StaticReplayClient::new(vec![
        item_at(1),
        error(500, "InternalServerError", "answer lost"),
        item_at(50),
    ]);
    let kv = kv(&http);
    kv.get("k").await.unwrap();
    let err = kv.set(set_k_to_2()).await.unwrap_err();
    assert_eq!(
        http.actual_requests().count(),
        3,
        "get, put, read back; nothing re-sent"
    );
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err}");
    assert!(!err.retryable, "{err}");
    assert_eq!(err.context_value("outcome"), Some("unknown"));
    assert!(err.message.contains("read the key"), "{err}");
}

#[tokio::test]
async fn a_throttled_write_is_sent_again_planned_from_a_fresh_read() {
    let http = StaticReplayClient::new(vec![
        item_at(1),
        error(400, "ThrottlingException", "slow down"),
        item_at(1),
        ReplayEvent::new(get_item(), response(200, json!({}))),
    ]);
    let kv = kv(&http);
    kv.get("k").await.unwrap();
    let item = kv.set(set_k_to_2()).await.unwrap().item;
    assert_eq!((item.version, item.value), (2, json!(2)));
    assert_eq!(
        http.actual_requests().count(),
        4,
        "get, throttled put, read, put"
    );
}
