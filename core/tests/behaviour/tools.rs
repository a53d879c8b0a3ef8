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
    assert!(set["expires_at"].is_string(), "{set}");
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

    let sent = mesh
        .call("mesh_event_send", json!({"detail_type": "OrderCreated", "detail": {"order_id": "ord-123"}, "source": "shop"}))
        .await
        .unwrap();
    let id = sent["event_id"].as_str().unwrap().to_owned();
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
    assert_eq!(timeline["entries"][0]["data"]["id"], id.as_str());
    assert_eq!(timeline["entries"][0]["stream"], "events/shop/OrderCreated");
    let all = mesh
        .call("mesh_timeline_get", json!({"prefix": ""}))
        .await
        .unwrap();
    assert_eq!(all["count"], 2);
    assert_eq!(
        all["entries"][0]["data"],
        json!({"step": 1}),
        "newest first"
    );

    let status = mesh.call("mesh_status", json!({})).await.unwrap();
    assert_eq!(status["status"], "ok");

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

    let e = mesh.call("mesh_nope", json!({})).await.unwrap_err();
    assert!(
        e.kind == ErrorKind::InvalidInput && e.message.contains("mesh_kv_get"),
        "{e}"
    );
    let e = mesh.call("mesh_kv_get", json!({})).await.unwrap_err();
    assert!(e.message.contains("\"key\""), "{e}");
    let e = mesh
        .call("mesh_kv_get", json!({"key": 5}))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e}");
}
