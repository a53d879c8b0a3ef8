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
    // Provisioning enabled the table's TTL on `expires_at`, so DynamoDB deletes such items.
    let ttl = dynamo()
        .await
        .describe_time_to_live()
        .table_name(format!("{prefix}agent-mesh-dev-kv"))
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .expect("a TTL description");
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(
        ttl.time_to_live_status(),
        Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );
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

/// Sets `key` to `value` with default options, which must succeed.
async fn set(mesh: &MeshClient, key: &str, value: serde_json::Value) -> agent_mesh::KvItem {
    mesh.kv()
        .set(key, value, SetOptions::default())
        .await
        .unwrap()
}

/// Two clients on one table: each remembers what it last saw of a key and writes it with a
/// conditional `PutItem`; when the other client wrote in between, the write still lands on
/// the current version (never overwriting the other's write with a stale version).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_writes_from_two_clients_never_reuse_a_stale_version() {
    let (a, prefix) = fresh("two").await;
    let b = MeshClient::connect(&url(&prefix)).await.unwrap();
    let first = set(&a, "shared", json!(0)).await;
    for round in 1..=10u64 {
        let writer = if round % 2 == 0 { &a } else { &b };
        let item = set(writer, "shared", json!(round)).await;
        assert_eq!(item.version, round + 1, "round {round}");
        assert_eq!(
            item.created_at, first.created_at,
            "round {round}: created_at kept"
        );
    }
    let last = b.kv().get("shared").await.unwrap().unwrap();
    assert_eq!((last.value, last.version), (json!(10), 11));

    // Read, then another client writes, then a conditional write on what was read: Conflict.
    let seen = a.kv().get("shared").await.unwrap().unwrap();
    set(&b, "shared", json!("b")).await;
    let err = a
        .kv()
        .set("shared", json!("a"), SetOptions::if_version(seen.version))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    let now = a.kv().get("shared").await.unwrap().unwrap();
    assert_eq!((now.value, now.version), (json!("b"), 12));
    let ok = a
        .kv()
        .set("shared", json!("a"), SetOptions::if_version(12))
        .await
        .unwrap();
    assert_eq!(ok.version, 13);

    // Absent when read, created by the other client, then written: version 2, not 1.
    assert_eq!(a.kv().get("late").await.unwrap(), None);
    set(&b, "late", json!("b")).await;
    let late = set(&a, "late", json!("a")).await;
    assert_eq!(late.version, 2);
    assert_eq!(b.kv().get("late").await.unwrap().unwrap().value, json!("a"));
}

/// A key deleted and re-created by another client after this one read it: a write checks the
/// version like the local backend does, and keeps the new item's creation time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_write_after_another_client_recreated_the_key_keeps_its_created_at() {
    let (a, prefix) = fresh("aba").await;
    let b = MeshClient::connect(&url(&prefix)).await.unwrap();
    set(&a, "k", json!(1)).await;
    let seen = a.kv().get("k").await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(b.kv().delete("k").await.unwrap());
    let recreated = set(&b, "k", json!(2)).await;
    assert_eq!(recreated.version, seen.version);
    assert_ne!(recreated.created_at, seen.created_at);
    let written = a
        .kv()
        .set("k", json!(3), SetOptions::if_version(seen.version))
        .await
        .unwrap();
    assert_eq!(written.version, 2);
    assert_eq!(written.created_at, recreated.created_at);
    assert_eq!(b.kv().get("k").await.unwrap().unwrap(), written);
}

/// An item with attributes agent-mesh does not write (another tool's) is updated, never
/// replaced whole, so those attributes survive a write; an item that expired after it was read
/// is re-created at version 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_writes_keep_foreign_attributes_and_recreate_expired_items() {
    let (mesh, prefix) = fresh("own").await;
    let table = format!("{prefix}agent-mesh-dev-kv");
    let ddb = dynamo().await;
    ddb.put_item()
        .table_name(&table)
        .item("key", AttributeValue::S("tagged".into()))
        .item("value", AttributeValue::S("\"v\"".into()))
        .item("version", AttributeValue::N("4".into()))
        .item("created_at", AttributeValue::N("1700000000000".into()))
        .item("kv_shard", AttributeValue::S("kv".into()))
        .item("owner", AttributeValue::S("billing".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(mesh.kv().get("tagged").await.unwrap().unwrap().version, 4);
    let item = set(&mesh, "tagged", json!("w")).await;
    assert_eq!(item.version, 5);
    let raw = ddb
        .get_item()
        .table_name(&table)
        .key("key", AttributeValue::S("tagged".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw.get("owner"), Some(&AttributeValue::S("billing".into())));

    for n in 1..=2 {
        mesh.kv()
            .set(
                "brief",
                json!(n),
                SetOptions::ttl(Duration::from_millis(500)),
            )
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let again = set(&mesh, "brief", json!(3)).await;
    assert_eq!((again.version, again.expires_at), (1, None));
}
