//! KV values over the 400 KB item limit: stored as a body in the artifact store and a pointer
//! item, and seen by clients as plain values.

use std::time::Duration;

use agent_mesh::{ErrorKind, ListOptions, MeshClient, SetOptions};
use serde_json::{Value, json};

/// Where the bodies of a client's scope are listed.
const BODIES: &str = ".agent-mesh/kv-values/";

/// A value whose JSON text is about `bytes` long, different for each `seed`.
fn value(bytes: usize, seed: u64) -> Value {
    let unit = format!("{seed:016x}");
    let text: String = unit.chars().cycle().take(bytes).collect();
    json!({"seed": seed, "text": text})
}

/// The bodies of `mesh`'s scope.
async fn bodies(mesh: &MeshClient) -> Vec<String> {
    let page = mesh
        .artifacts()
        .list(BODIES, ListOptions::limit(1000))
        .await
        .unwrap();
    page.items.into_iter().map(|m| m.key).collect()
}

pub async fn large_values_round_trip_through_every_read(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let sizes = [400_000, 1_000_000, 20_000_000];
    for (i, size) in sizes.into_iter().enumerate() {
        let v = value(size, i as u64);
        let item = kv
            .set(&format!("big/{i}"), v.clone(), SetOptions::default())
            .await
            .unwrap();
        assert_eq!((item.version, &item.value), (1, &v), "set of {size} bytes");
        let got = kv.get(&format!("big/{i}")).await.unwrap().unwrap();
        assert_eq!(got.value, v, "get of {size} bytes");
        assert_eq!(got.version, 1);
    }
    assert_eq!(bodies(mesh).await.len(), 3, "one body per large value");
    kv.set("big/small", json!("small"), SetOptions::default())
        .await
        .unwrap();
    let got = kv
        .batch_get(&["big/0", "big/none", "big/2", "big/small"])
        .await
        .unwrap();
    let values: Vec<Option<Value>> = got.into_iter().map(|i| i.map(|i| i.value)).collect();
    assert_eq!(
        values,
        vec![
            Some(value(400_000, 0)),
            None,
            Some(value(20_000_000, 2)),
            Some(json!("small"))
        ]
    );
    let page = kv.list("big/", ListOptions::limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[1].value, value(1_000_000, 1));
    // A page ends early once the bodies it read pass LIST_PAGE_BODY_BYTES (8 MiB), whatever its
    // limit: the 20 MB value comes alone, with a cursor to the rest.
    const { assert!(agent_mesh::limits::LIST_PAGE_BODY_BYTES < 20_000_000) };
    let rest = kv
        .list("big/", ListOptions::limit(10).with_cursor(page.next_cursor))
        .await
        .unwrap();
    let keys: Vec<&str> = rest.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["big/2"]);
    assert_eq!(rest.items[0].value, value(20_000_000, 2));
    let last = kv
        .list("big/", ListOptions::limit(10).with_cursor(rest.next_cursor))
        .await
        .unwrap();
    let keys: Vec<&str> = last.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!((keys, last.next_cursor), (vec!["big/small"], None));
    // The bodies are agent-mesh's own: not listed with the client's artifacts, not writable.
    let all = mesh
        .artifacts()
        .list("", ListOptions::limit(1000))
        .await
        .unwrap();
    assert!(all.items.is_empty(), "{:?}", all.items);
    let body = bodies(mesh).await.remove(0);
    let err = mesh.artifacts().get(&body).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    assert!(err.message.contains(".agent-mesh"), "{err}");
    // The upstream tools see plain values too.
    let text = "t".repeat(1_000_000);
    let args = json!({"key": "tool/big", "value": text});
    mesh.call("mesh_kv_set", args).await.unwrap();
    let got = mesh
        .call("mesh_kv_get", json!({"key": "tool/big"}))
        .await
        .unwrap();
    assert_eq!(got["value"], json!(text));
}

pub async fn values_over_64_mib_are_too_large(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let limit = agent_mesh::unstable::validate::MAX_KV_ITEM_BYTES
        - agent_mesh::unstable::validate::KV_ITEM_OVERHEAD;
    let key = "edge";
    // JSON string: the text plus two quotes. An item of exactly 400,000 bytes stays inline.
    let fits = json!("x".repeat(limit - key.len() - 2));
    kv.set(key, fits.clone(), SetOptions::default())
        .await
        .unwrap();
    assert!(
        bodies(mesh).await.is_empty(),
        "an item within the limit has no body"
    );
    let over = json!("x".repeat(limit - key.len() - 1));
    kv.set(key, over.clone(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(kv.get(key).await.unwrap().unwrap().value, over);
    assert_eq!(bodies(mesh).await.len(), 1, "one byte over has a body");
    let max = agent_mesh::unstable::validate::MAX_KV_VALUE_BYTES;
    let err = kv
        .set(key, json!("x".repeat(max - 1)), SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooLarge);
    assert!(
        err.message.contains("64 MiB") && err.message.contains("\"edge\""),
        "{err}"
    );
    assert_eq!(
        kv.get(key).await.unwrap().unwrap().value,
        over,
        "the old value survives"
    );
    assert_eq!(bodies(mesh).await.len(), 1);
}

pub async fn large_values_keep_ttl_conditions_and_versions(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    let ttl = SetOptions::ttl(Duration::from_millis(1500));
    let item = kv.set("ttl", value(500_000, 1), ttl).await.unwrap();
    assert!(item.expires_at.is_some());
    assert_eq!(
        kv.get("ttl").await.unwrap().unwrap().value,
        value(500_000, 1)
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(kv.get("ttl").await.unwrap(), None);
    assert_eq!(kv.batch_get(&["ttl"]).await.unwrap(), vec![None]);
    assert!(
        kv.list("ttl", ListOptions::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // An expired large value counts as absent for if_absent; its body goes with the new write.
    kv.set("ttl", value(500_000, 2), SetOptions::if_absent())
        .await
        .unwrap();
    assert_eq!(bodies(mesh).await.len(), 1, "the expired body was released");

    let v1 = kv
        .set("cas", value(600_000, 1), SetOptions::if_absent())
        .await
        .unwrap();
    assert_eq!(v1.version, 1);
    let v2 = kv
        .set("cas", value(600_000, 2), SetOptions::if_version(1))
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    for refused in [SetOptions::if_version(1), SetOptions::if_absent()] {
        let err = kv.set("cas", value(600_000, 3), refused).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
    }
    let now = kv.get("cas").await.unwrap().unwrap();
    assert_eq!((now.version, now.value), (2, value(600_000, 2)));
    assert_eq!(
        now.created_at, v1.created_at,
        "created_at is kept across overwrites"
    );
    assert_eq!(
        bodies(mesh).await.len(),
        2,
        "refused writes leave no body behind"
    );
    let v3 = kv
        .set("cas", json!("small again"), SetOptions::if_version(2))
        .await
        .unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(bodies(mesh).await.len(), 1);
}

pub async fn large_values_leave_no_orphan_bodies(mesh: &crate::TestMesh) {
    let kv = mesh.kv();
    kv.set("a", value(450_000, 1), SetOptions::default())
        .await
        .unwrap();
    let first = bodies(mesh).await;
    assert_eq!(first.len(), 1);
    kv.set("a", value(450_000, 2), SetOptions::default())
        .await
        .unwrap();
    let second = bodies(mesh).await;
    assert_eq!(second.len(), 1, "an overwrite releases the old body");
    assert_ne!(first, second);
    kv.set("a", json!(1), SetOptions::default()).await.unwrap();
    assert!(
        bodies(mesh).await.is_empty(),
        "a small overwrite releases it"
    );
    kv.set("a", value(450_000, 3), SetOptions::default())
        .await
        .unwrap();
    assert!(kv.delete("a").await.unwrap());
    assert!(bodies(mesh).await.is_empty(), "a delete releases it");
    assert!(!kv.delete("a").await.unwrap());

    let batch = |entries: Vec<(&str, Value)>| {
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<Vec<_>>()
    };
    kv.batch_set(
        batch(vec![
            ("b", value(700_000, 1)),
            ("c", value(700_000, 2)),
            ("d", json!("small")),
        ]),
        SetOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(bodies(mesh).await.len(), 2);
    let got = kv.batch_get(&["b", "c", "d"]).await.unwrap();
    assert_eq!(got[1].as_ref().unwrap().value, value(700_000, 2));
    kv.batch_set(
        batch(vec![("b", json!(0)), ("c", value(700_000, 3))]),
        SetOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(bodies(mesh).await.len(), 1);
    assert_eq!(kv.get("c").await.unwrap().unwrap().value, value(700_000, 3));
    assert!(kv.delete("c").await.unwrap());
    assert!(bodies(mesh).await.is_empty());
    // Writes refused after their bodies were stored (a key too long only with the scope's
    // prefix, which the backend's scope layer checks) leave no body behind.
    let scoped = mesh.scope("refused").unwrap();
    let long = "k".repeat(1020);
    let err = scoped
        .kv()
        .set(&long, value(700_000, 4), SetOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    let err = scoped
        .kv()
        .batch_set(
            batch(vec![("e", value(700_000, 4)), (long.as_str(), json!(1))]),
            SetOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput, "{err}");
    assert_eq!(scoped.kv().get("e").await.unwrap(), None);
    assert!(bodies(&scoped).await.is_empty());

    // A tenant's bodies stay in its scope, where its IAM policy reaches.
    let tenant = mesh.scope("large-t").unwrap();
    tenant
        .kv()
        .set("k", value(450_000, 5), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(bodies(&tenant).await.len(), 1);
    assert!(bodies(mesh).await.is_empty());
    assert_eq!(
        tenant.kv().get("k").await.unwrap().unwrap().value,
        value(450_000, 5)
    );
    let root_view = mesh.kv().get("tenants/large-t/k").await.unwrap().unwrap();
    assert_eq!(root_view.value, value(450_000, 5));
    assert!(tenant.kv().delete("k").await.unwrap());
    assert!(bodies(&tenant).await.is_empty());
}
