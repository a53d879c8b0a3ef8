//! Tool-surface cases of the behaviour suite: `call` with the upstream MCP tool names.

use agent_mesh::ErrorKind;
use serde_json::json;

pub async fn upstream_tools_roundtrip(mesh: &crate::TestMesh) {
    let set = mesh
        .call(
            "mesh_kv_set",
            json!({"key": "user:1", "value": "v", "ttl_hours": 1}),
        )
        .await
        .unwrap();
    assert_eq!(set["success"], true);
    assert_eq!(set["version"], 1);
    // Upstream's shape: {key, value, expires_at (epoch seconds, a number), status: "stored"}.
    assert_eq!(
        (
            set["key"].clone(),
            set["value"].clone(),
            set["status"].clone()
        ),
        (json!("user:1"), json!("v"), json!("stored"))
    );
    let now = chrono::Utc::now().timestamp();
    let expires = set["expires_at"]
        .as_i64()
        .expect("expires_at is epoch seconds");
    assert!(
        (now + 3600 - 5..=now + 3600 + 5).contains(&expires),
        "{set}"
    );
    let default_ttl = mesh
        .call("mesh_kv_set", json!({"key": "user:2", "value": {"a": 1}}))
        .await
        .unwrap();
    let expires = default_ttl["expires_at"].as_i64().unwrap();
    assert!(
        (now + 86400 - 5..=now + 86400 + 5).contains(&expires),
        "ttl_hours defaults to 24: {default_ttl}"
    );
    mesh.call("mesh_kv_delete", json!({"key": "user:2"}))
        .await
        .unwrap();
    let got = mesh
        .call("mesh_kv_get", json!({"key": "user:1"}))
        .await
        .unwrap();
    assert_eq!(
        (
            got["key"].clone(),
            got["value"].clone(),
            got["found"].clone()
        ),
        (json!("user:1"), json!("v"), json!(true))
    );
    let missing = mesh
        .call("mesh_kv_get", json!({"key": "nope"}))
        .await
        .unwrap();
    assert_eq!(
        missing,
        json!({"key": "nope", "value": null, "found": false})
    );
    let listed = mesh
        .call("mesh_kv_list", json!({"prefix": "user:"}))
        .await
        .unwrap();
    assert_eq!(listed["count"], 1);
    let deleted = mesh
        .call("mesh_kv_delete", json!({"key": "user:1"}))
        .await
        .unwrap();
    assert_eq!(deleted["deleted"], true);

    let put = mesh
        .call(
            "mesh_artifacts_put",
            json!({"key": "notes/a.md", "content": "# hi", "content_type": "text/markdown"}),
        )
        .await
        .unwrap();
    assert_eq!(put["size"], 4);
    // Upstream's shape: {key, bucket, size, content_type, status: "stored"}.
    assert_eq!(
        (
            put["key"].clone(),
            put["content_type"].clone(),
            put["status"].clone()
        ),
        (json!("notes/a.md"), json!("text/markdown"), json!("stored"))
    );
    assert!(
        put["bucket"].as_str().is_some_and(|b| !b.is_empty()),
        "{put}"
    );
    let plain = mesh
        .call(
            "mesh_artifacts_put",
            json!({"key": "notes/b.txt", "content": "b"}),
        )
        .await
        .unwrap();
    assert_eq!(plain["content_type"], "text/plain", "the upstream default");
    mesh.artifacts().delete("notes/b.txt").await.unwrap();
    mesh.call("mesh_artifacts_put", json!({"key": "bin/x", "content": "AAEC", "encoding": "base64", "content_type": "application/octet-stream"}))
        .await
        .unwrap();
    let text = mesh
        .call("mesh_artifacts_get", json!({"key": "notes/a.md"}))
        .await
        .unwrap();
    assert_eq!(
        (text["content"].clone(), text["encoding"].clone()),
        (json!("# hi"), json!("utf-8"))
    );
    // Upstream's shape: {key, content, content_type, size}.
    assert_eq!(
        (
            text["key"].clone(),
            text["content_type"].clone(),
            text["size"].clone()
        ),
        (json!("notes/a.md"), json!("text/markdown"), json!(4))
    );
    let binary = mesh
        .call("mesh_artifacts_get", json!({"key": "bin/x"}))
        .await
        .unwrap();
    assert_eq!(
        (binary["content"].clone(), binary["encoding"].clone()),
        (json!("AAEC"), json!("base64"))
    );
    let listed = mesh
        .call("mesh_artifacts_list", json!({"prefix": "", "max_keys": 1}))
        .await
        .unwrap();
    assert_eq!(listed["count"], 1);
    assert!(listed["next_cursor"].is_string());
    // Upstream's shape: {bucket, prefix, count, objects: [{key, size, modified}]}.
    assert_eq!(listed["bucket"], put["bucket"]);
    assert_eq!(listed["prefix"], "");
    let object = &listed["objects"][0];
    assert_eq!(
        (object["key"].clone(), object["size"].clone()),
        (json!("bin/x"), json!(3))
    );
    assert!(
        object["modified"]
            .as_str()
            .is_some_and(|m| m.ends_with('Z')),
        "{listed}"
    );

    let sent = mesh
        .call("mesh_event_send", json!({"detail_type": "OrderCreated", "detail": {"order_id": "ord-123"}, "source": "shop"}))
        .await
        .unwrap();
    let id = sent["event_id"].as_str().unwrap().to_owned();
    // Upstream's shape: {event_id, detail_type, source, status: "sent"}.
    assert_eq!(
        (
            sent["detail_type"].clone(),
            sent["source"].clone(),
            sent["status"].clone()
        ),
        (json!("OrderCreated"), json!("shop"), json!("sent"))
    );
    let default_source = mesh
        .call(
            "mesh_event_send",
            json!({"detail_type": "Ping", "detail": {}}),
        )
        .await
        .unwrap();
    assert_eq!(
        default_source["source"], "mcp-client",
        "the upstream default"
    );
    mesh.timeline()
        .append("user/user123/profile", json!({"step": 1}))
        .await
        .unwrap();
    let timeline = mesh
        .call(
            "mesh_timeline_get",
            json!({"prefix": "events/shop/", "max_keys": 10}),
        )
        .await
        .unwrap();
    assert_eq!(timeline["count"], 1);
    // Upstream's shape: {timeline_events: [{key, timestamp, data}]}.
    let entry = &timeline["timeline_events"][0];
    assert_eq!(entry["data"]["id"], id.as_str());
    assert_eq!(entry["stream"], "events/shop/OrderCreated");
    assert_eq!(
        entry["key"],
        format!("events/shop/OrderCreated/{}", entry["id"].as_str().unwrap())
    );
    assert!(
        entry["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{entry}"
    );
    let all = mesh
        .call("mesh_timeline_get", json!({"prefix": ""}))
        .await
        .unwrap();
    assert_eq!(all["count"], 3);
    assert_eq!(
        all["timeline_events"][0]["data"],
        json!({"step": 1}),
        "newest first"
    );
    for i in 0..12 {
        mesh.timeline()
            .append("many/s", json!({"i": i}))
            .await
            .unwrap();
    }
    let many = mesh
        .call("mesh_timeline_get", json!({"prefix": "many/"}))
        .await
        .unwrap();
    assert_eq!(many["count"], 10, "max_keys defaults to 10");

    let status = mesh.call("mesh_status", json!({})).await.unwrap();
    assert_eq!(status["status"], "ok", "{status}");
    // Upstream's shape: {environment, infrastructure: {...names}, region, timestamp}.
    for field in ["environment", "region", "timestamp", "backend"] {
        assert!(
            status[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field}: {status}"
        );
    }
    for name in [
        "kv_table",
        "artifacts_bucket",
        "event_bus",
        "timeline_table",
    ] {
        assert!(
            status["infrastructure"][name].is_string(),
            "{name}: {status}"
        );
    }
    assert_eq!(status["infrastructure"]["artifacts_bucket"], put["bucket"]);
    assert_eq!(status["probe"]["ok"], true, "{status}");
    for store in ["kv", "artifacts", "timeline"] {
        assert!(
            status["probe"]["checks"][store]["latency_ms"].is_number(),
            "{status}"
        );
    }

    // Workflows: start by state machine name, then poll the status.
    mesh.workflows()
        .create(
            "tool-echo",
            json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        )
        .await
        .unwrap();
    let started = mesh
        .call(
            "mesh_workflow_start",
            json!({"name": "tool-echo", "input": {"x": 1}, "execution_name": "tool-run"}),
        )
        .await
        .unwrap();
    assert_eq!(started["name"], "tool-run");
    assert_eq!(started["status"], "RUNNING");
    let arn = started["execution_arn"].as_str().unwrap().to_owned();
    let mut status = json!(null);
    for _ in 0..300 {
        status = mesh
            .call("mesh_workflow_status", json!({"execution_arn": arn}))
            .await
            .unwrap();
        if status["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status["status"], "SUCCEEDED", "{status}");
    assert_eq!(status["output"], json!({"x": 1}));
    assert_eq!(status["state_machine"], "tool-echo");
    let e = mesh
        .call("mesh_workflow_start", json!({"input": {}}))
        .await
        .unwrap_err();
    assert!(e.message.contains("\"name\""), "{e}");

    // The dotted names of later upstream versions are aliases, with camelCase arguments and
    // the camelCase result fields those versions returned.
    let dotted = mesh
        .call(
            "events.send",
            json!({"detailType": "OrderShipped", "detail": {"order_id": "o-1"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            dotted["detail_type"].clone(),
            dotted["source"].clone(),
            dotted["status"].clone()
        ),
        (json!("OrderShipped"), json!("mcp-client"), json!("sent"))
    );
    assert_eq!(dotted["eventId"], dotted["event_id"]);
    mesh.call(
        "kv.set",
        json!({"key": "dotted", "value": "x", "ttlHours": 2}),
    )
    .await
    .unwrap();
    let got = mesh.call("kv.get", json!({"key": "dotted"})).await.unwrap();
    assert_eq!(
        (got["value"].clone(), got["found"].clone()),
        (json!("x"), json!(true))
    );
    let dotted_status = mesh
        .call("workflow.status", json!({"executionArn": arn}))
        .await
        .unwrap();
    assert_eq!(dotted_status["executionArn"], arn.as_str());
    assert_eq!(dotted_status["status"], "SUCCEEDED");
    let listed = mesh
        .call("artifacts.list", json!({"prefix": "notes/"}))
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["key"], "notes/a.md");
    assert_eq!(listed["objects"][0]["key"], "notes/a.md");
    let got = mesh
        .call("artifacts.get", json!({"key": "notes/a.md"}))
        .await
        .unwrap();
    assert_eq!(got["contentType"], "text/markdown");
    let e = mesh
        .call(
            "events.send",
            json!({"detailType": "A", "detail_type": "B", "detail": {}}),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("\"detailType\" and \"detail_type\""),
        "{e}"
    );

    let e = mesh.call("mesh_nope", json!({})).await.unwrap_err();
    assert!(
        e.kind == ErrorKind::InvalidInput && e.message.contains("mesh_kv_get"),
        "{e}"
    );
    assert!(
        e.message.contains("kv.get"),
        "the aliases are listed too: {e}"
    );
    let e = mesh.call("mesh_kv_get", json!({})).await.unwrap_err();
    assert!(e.message.contains("\"key\""), "{e}");
    assert!(
        e.message.starts_with("mesh_kv_get: ")
            && e.message.contains("call it as mesh_kv_get {\"key\""),
        "the message names the tool, the argument and how to call it: {e}"
    );
    let e = mesh
        .call("mesh_kv_get", json!({"key": 5}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
}
