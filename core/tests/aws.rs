//! AWS-only checks on the moto server of `tests/with-moto.sh` (compiled with `--features
//! moto-tests`): volumes, multipart, TTL while DynamoDB still holds the item, missing resources.

use std::io::Write;
use std::time::Duration;

use agent_mesh::{ErrorKind, ListOptions, MeshClient, PutOptions, SetOptions};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

fn endpoint() -> String {
    std::env::var("AGENT_MESH_TEST_AWS_ENDPOINT")
        .expect("AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh")
}

fn url(prefix: &str) -> String {
    format!(
        "aws://?region=us-east-1&endpoint={}&prefix={prefix}",
        endpoint()
    )
}

async fn fresh(name: &str) -> (MeshClient, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let prefix = format!("{name}{:x}-", nanos & 0xffff_ffff);
    let mesh = MeshClient::connect(&url(&prefix)).await.unwrap();
    mesh.provision().await.unwrap();
    mesh.provision().await.unwrap(); // idempotent
    (mesh, prefix)
}

async fn dynamo() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_pagination_over_2500_keys_is_complete() {
    let (mesh, _) = fresh("pg").await;
    let keys: Vec<String> = (0..2500).map(|i| format!("page:{i:05}")).collect();
    for chunk in keys.chunks(100) {
        let entries = chunk.iter().map(|k| (k.clone(), json!(k))).collect();
        mesh.kv()
            .batch_set(entries, SetOptions::default())
            .await
            .unwrap();
    }
    for limit in [1000, 333] {
        let (mut seen, mut cursor) = (Vec::new(), None);
        loop {
            let page = mesh
                .kv()
                .list("page:", ListOptions::limit(limit).with_cursor(cursor))
                .await
                .unwrap();
            seen.extend(page.items.into_iter().map(|i| i.key));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(
            seen, keys,
            "limit {limit}: keys lost, repeated or out of order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_ttl_hides_items_moto_has_not_deleted() {
    let (mesh, prefix) = fresh("ttl").await;
    mesh.kv()
        .set("short", json!(1), SetOptions::ttl_seconds(1))
        .await
        .unwrap();
    assert!(mesh.kv().get("short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(mesh.kv().get("short").await.unwrap(), None);
    let raw = dynamo()
        .await
        .get_item()
        .table_name(format!("{prefix}agent-mesh-dev-kv"))
        .key("key", AttributeValue::S("short".into()))
        .send()
        .await
        .unwrap();
    let item = raw
        .item
        .expect("moto never deletes expired items, so the item is still stored");
    assert!(item.contains_key("expires_at") && item.contains_key("expires_at_ms"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_40_mib_artifact_goes_multipart_and_back_byte_identical() {
    let (mesh, _) = fresh("mp").await;
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("big.bin");
    let data: Vec<u8> = (0..40u64 * 1024 * 1024)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::File::create(&source)
        .unwrap()
        .write_all(&data)
        .unwrap();
    let meta = mesh
        .artifacts()
        .put_file(
            "models/big.bin",
            &source,
            PutOptions::content_type("application/x-model").with_metadata("run", "7"),
        )
        .await
        .unwrap();
    assert_eq!(meta.size, data.len() as u64);
    assert!(
        meta.etag.ends_with("-5"),
        "expected a 5-part multipart ETag, got {}",
        meta.etag
    );
    assert_eq!(meta.metadata.get("run").map(String::as_str), Some("7"));
    let dest = dir.path().join("copy.bin");
    mesh.artifacts()
        .get_to_file("models/big.bin", &dest)
        .await
        .unwrap();
    assert!(
        std::fs::read(&dest).unwrap() == data,
        "downloaded file differs"
    );
    // From bytes in memory too.
    let meta = mesh
        .artifacts()
        .put("models/big2.bin", data.clone(), PutOptions::default())
        .await
        .unwrap();
    assert!(meta.etag.contains('-'), "{}", meta.etag);
    let back = mesh
        .artifacts()
        .get("models/big2.bin")
        .await
        .unwrap()
        .unwrap();
    assert!(back.data == data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_listing_1200_artifacts_is_complete() {
    let (mesh, _) = fresh("ls").await;
    let keys: Vec<String> = (0..1200).map(|i| format!("logs/{i:05}.txt")).collect();
    use futures::StreamExt;
    let results: Vec<_> = futures::stream::iter(&keys)
        .map(|k| {
            mesh.artifacts().put(
                k,
                k.clone().into_bytes(),
                PutOptions::content_type("text/plain"),
            )
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "an upload failed");
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let page = mesh
            .artifacts()
            .list("logs/", ListOptions::limit(1000).with_cursor(cursor))
            .await
            .unwrap();
        assert!(page.items.iter().all(|m| m.content_type == "text/plain"));
        seen.extend(page.items.into_iter().map(|m| m.key));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, keys);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_missing_resources_are_config_errors_that_name_them() {
    let mesh = MeshClient::connect(&url("never-provisioned-"))
        .await
        .unwrap();
    let err = mesh.kv().get("k").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message.contains("never-provisioned-agent-mesh-dev-kv")
            && err.message.contains("provision()"),
        "{err}"
    );
    let err = mesh
        .artifacts()
        .put("k", b"x".to_vec(), PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message
            .contains("never-provisioned-agent-mesh-dev-artifacts"),
        "{err}"
    );
}
