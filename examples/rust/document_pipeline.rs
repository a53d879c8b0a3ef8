//! Document processing pipeline (guide: "Quick Start Examples", 2).
//!
//! A document is stored as an artifact and announced with the guide's DocumentUploaded event.
//! The event starts the document-pipeline workflow (examples/workflows/document-pipeline.json),
//! which extracts the text, classifies it and routes it to legal review; the result is kept in
//! the KV.
//!
//! The processors are functions in this program: each Task of the workflow sends an event with
//! its task token (events:putEvents.waitForTaskToken), this program does the work and answers
//! with send_task_success. The same definition runs on the embedded engine and on Step
//! Functions.
//!
//! Run it with `cargo run -p agent-mesh --example document_pipeline` (add
//! AGENT_MESH_URL=aws://... for AWS).

use std::time::Duration;

use agent_mesh::{
    AwsNames, Event, ExecutionStatus, MeshClient, MeshConfig, PutOptions, SetOptions, StartOptions,
};
use serde_json::{Value, json};

const CONTRACT: &str = "%PDF-1.4 (a text stand-in for a PDF)
MASTER SERVICES AGREEMENT between ABC Corp and Example Ltd.
1. Confidentiality: each party keeps the other's data confidential.
2. Termination: either party may terminate with 30 days notice.
3. Governing law: this agreement is governed by the laws of Delaware.
";
const LABELS: [(&str, &[&str]); 4] = [
    ("contract", &["agreement", "party"]),
    ("confidentiality", &["confidential"]),
    ("termination", &["terminate"]),
    ("jurisdiction", &["governing law"]),
];

/// The bus the definition's Tasks send to: the mesh's bus on AWS (the embedded engine ignores it).
fn event_bus(mesh: &MeshClient) -> String {
    match mesh.config() {
        MeshConfig::Aws(options) => AwsNames::resolve(options).event_bus,
        _ => "agent-mesh-local".to_owned(),
    }
}

/// The work one Task asks for.
async fn process(mesh: &MeshClient, task: &str, document: &Value) -> agent_mesh::Result<Value> {
    Ok(match task {
        "ExtractText" => {
            let key = document["key"].as_str().unwrap_or_default();
            let artifact = mesh
                .artifacts()
                .get(key)
                .await?
                .expect("the uploaded document");
            let content = String::from_utf8_lossy(&artifact.data).into_owned();
            let text = content
                .split_once('\n')
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            json!({"text": text, "words": text.split_whitespace().count()})
        }
        _ => {
            let text = document["extracted"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            let labels: Vec<&str> = LABELS
                .iter()
                .filter(|(_, words)| words.iter().any(|w| text.contains(w)))
                .map(|(label, _)| *label)
                .collect();
            json!({"labels": labels})
        }
    })
}

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    let definition = include_str!("../workflows/document-pipeline.json")
        .replace("${EventBus}", &event_bus(&mesh));
    mesh.workflows()
        .create("document-pipeline", Value::from(definition))
        .await?;
    let uploads_pattern =
        json!({"detail-type": ["DocumentUploaded"], "source": ["document-processor"]});
    let mut uploads = mesh.events().subscribe(&uploads_pattern).await?;
    let mut tasks = mesh
        .events()
        .subscribe(&json!({"source": ["document-pipeline"]}))
        .await?;

    let meta = mesh
        .artifacts()
        .put(
            "documents/contract.pdf",
            CONTRACT.as_bytes().to_vec(),
            PutOptions::content_type("application/pdf"),
        )
        .await?;
    println!(
        "stored  {} ({} bytes, {})",
        meta.key, meta.size, meta.content_type
    );
    let detail = json!({
        "document_id": "doc-123",
        "bucket": "agent-mesh-artifacts",
        "key": "documents/contract.pdf",
        "processing_type": "legal_review"
    });
    mesh.events()
        .send(Event::new("DocumentUploaded", detail).with_source("document-processor"))
        .await?;

    let upload = uploads
        .next_timeout(Duration::from_secs(30))
        .await?
        .expect("a DocumentUploaded event within 30 s");
    println!(
        "event   {} from {}: {}",
        upload.detail_type, upload.source, upload.detail
    );
    let run = mesh
        .workflows()
        .start(
            "document-pipeline",
            upload.detail.clone(),
            StartOptions::default(),
        )
        .await?;
    println!(
        "started document-pipeline for {}",
        upload.detail["document_id"].as_str().unwrap_or_default()
    );

    // Serve the workflow's Tasks until it ends.
    while mesh.workflows().describe(&run.arn).await?.status == ExecutionStatus::Running {
        let Some(task) = tasks.next_timeout(Duration::from_millis(250)).await? else {
            continue;
        };
        let result = process(&mesh, &task.detail_type, &task.detail["document"]).await?;
        let mut shown = result.clone();
        shown.as_object_mut().map(|fields| fields.remove("text"));
        println!("task    {} done: {shown}", task.detail_type);
        let token = task.detail["task_token"].as_str().unwrap_or_default();
        mesh.workflows().send_task_success(token, result).await?;
    }
    uploads.close().await?;
    tasks.close().await?;

    let done = mesh.workflows().describe(&run.arn).await?;
    let output = done.output.clone().unwrap_or_default();
    println!("workflow document-pipeline: {} {output}", done.status);
    if done.status == ExecutionStatus::Succeeded {
        mesh.kv()
            .set("document:doc-123:analysis", output, SetOptions::default())
            .await?;
        println!("stored  document:doc-123:analysis");
    }
    Ok(())
}
