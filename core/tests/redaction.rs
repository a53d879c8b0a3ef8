//! Secrets never shown: credentials and user-info in an `aws://` endpoint stay out of `Debug`
//! output and error messages, and workflow task tokens out of errors and `Debug` output, on
//! every backend. (Its own test binary: it sets AWS credential variables for the process.)

use agent_mesh::{ErrorKind, MeshClient};
use serde_json::json;

const TOKEN: &str = "AAAAKgAAAAIAAAAAsecret-task-token-0123456789";

async fn token_errors_are_fingerprinted(mesh: &MeshClient) {
    let attempts = [
        mesh.workflows().send_task_success(TOKEN, json!({})).await,
        mesh.workflows().send_task_failure(TOKEN, "E", "c").await,
        mesh.workflows().send_task_heartbeat(TOKEN).await,
    ];
    for result in attempts {
        let e = result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
        let shown = format!("{e:?} {e}");
        assert!(!shown.contains("secret-task-token"), "{shown}");
        assert!(shown.contains("task token sha256:"), "{shown}");
    }
}

#[tokio::test]
async fn task_tokens_stay_out_of_errors_in_memory_and_local_meshes() {
    token_errors_are_fingerprinted(&MeshClient::connect("memory://").await.unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("local://{}", dir.path().display());
    token_errors_are_fingerprinted(&MeshClient::connect(&url).await.unwrap()).await;
    let task = agent_mesh::ActivityTask::new(TOKEN, json!({"x": 1}));
    assert!(!format!("{task:?}").contains("secret-task-token"));
}

#[cfg(feature = "aws")]
#[tokio::test]
async fn aws_credentials_stay_out_of_debug_output_and_errors() {
    // SAFETY: this test binary reads no other environment variable concurrently.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDSECRETACCESSKEY");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "SECRETKEYVALUE0123");
        std::env::set_var("AWS_SESSION_TOKEN", "SESSIONTOKENVALUE0123");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
    let secrets = [
        "AKIDSECRETACCESSKEY",
        "SECRETKEYVALUE0123",
        "SESSIONTOKENVALUE0123",
        "endpointpass",
    ];
    let hidden = |text: &str| secrets.iter().all(|s| !text.contains(s));
    // Port 9 (discard) refuses connections: every request fails fast.
    for url in [
        "aws://?endpoint=http://enduser:endpointpass@127.0.0.1:9&region=us-east-1",
        "aws://?endpoint=http%3A%2F%2Fenduser%3Aendpointpass%40127.0.0.1%3A9",
    ] {
        let mesh = MeshClient::connect(url).await.unwrap();
        let shown = format!(
            "{mesh:?} {:?} {:?} {:?} {:?} {:?} {:?}",
            mesh.config(),
            mesh.kv(),
            mesh.artifacts(),
            mesh.events(),
            mesh.timeline(),
            mesh.workflows()
        );
        assert!(hidden(&shown), "{shown}");
        assert!(
            format!("{mesh:?}").contains("http://***@127.0.0.1:9"),
            "{mesh:?}"
        );
        let e = mesh.kv().get("k").await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
        assert!(hidden(&format!("{e:?} {e}")), "{e:?}");
        // An unknown option echoes the URL: redacted, the option's value masked.
        let e = MeshClient::connect(&format!("{url}&token=SESSIONTOKENVALUE0123"))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Config, "{e}");
        assert!(hidden(&format!("{e:?}")), "{e:?}");
    }
}
