//! The "personal assistant with memory" demo: remembers a user's preferences for 30 days,
//! keeps an attachment, and reads both back; announces an upload as an event, keeps a timeline,
//! and moderates notes with a workflow (examples/workflows/content-moderation.json) served by
//! Rust handlers; on the embedded local mesh (./.agent-mesh unless AGENT_MESH_URL or
//! AGENT_MESH_DIR say otherwise). On aws:// everything but the workflow runs unchanged: its
//! Tasks are ECS tasks there, which this program cannot serve (examples/rust/saga.rs shows
//! Tasks served from a program on both backends, as callbacks).
//!
//! Run it with `cargo run -p agent-mesh --example personal_assistant`.

use agent_mesh::workflows::handler;
use agent_mesh::{
    ErrorKind, Event, ListOptions, MeshClient, PutOptions, SetOptions, StartOptions, TimelineQuery,
};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    println!("mesh: {:?}\n", mesh.config());

    // Preferences the assistant should remember for 30 days.
    let preferences = json!({
        "timezone": "PST",
        "communication_style": "concise",
        "topics": ["rust", "distributed systems"],
    });
    let stored = mesh
        .kv()
        .set(
            "user:john:preferences",
            preferences,
            SetOptions::ttl_hours(720),
        )
        .await?;
    println!(
        "stored  user:john:preferences  version {}  expires {}",
        stored.version,
        stored
            .expires_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    );

    // The last conversation's context, kept for a day.
    mesh.kv()
        .set(
            "user:john:context",
            json!({"last_topic": "resume review", "open_questions": 2}),
            SetOptions::ttl_hours(24),
        )
        .await?;

    // An attachment the user shared.
    let resume = b"%PDF-1.4\n% John's resume (demo content)\n".to_vec();
    let meta = mesh
        .artifacts()
        .put(
            "conversations/2024/resume.pdf",
            resume,
            PutOptions::content_type("application/pdf").with_metadata("owner", "john"),
        )
        .await?;
    println!(
        "stored  {}  {} bytes  {}",
        meta.key, meta.size, meta.content_type
    );

    // Next session: the assistant reads everything back.
    println!("\nread back:");
    if let Some(item) = mesh.kv().get("user:john:preferences").await? {
        println!("  preferences (v{}): {}", item.version, item.value);
    }
    let page = mesh.kv().list("user:john:", ListOptions::default()).await?;
    for item in &page.items {
        println!("  {} = {}", item.key, item.value);
    }
    if let Some(artifact) = mesh
        .artifacts()
        .get("conversations/2024/resume.pdf")
        .await?
    {
        println!(
            "  {}: {} bytes, {}, metadata {:?}, starts with {:?}",
            artifact.meta.key,
            artifact.data.len(),
            artifact.meta.content_type,
            artifact.meta.metadata,
            String::from_utf8_lossy(&artifact.data[..8])
        );
    }

    // The document processor announces the upload; a reminder agent subscribed to it reacts.
    let mut uploads = mesh
        .events()
        .subscribe(&json!({"detail-type": ["DocumentUploaded"], "detail": {"size": [{"numeric": [">", 0]}]}}))
        .await?;
    let id = mesh
        .events()
        .send(
            Event::new(
                "DocumentUploaded",
                json!({"key": "conversations/2024/resume.pdf", "size": 36}),
            )
            .with_source("document-processor")
            .with_stream("user/john/documents"),
        )
        .await?;
    let event = uploads.next().await?;
    println!(
        "\nevent {} from {}: {} {}",
        event.id, event.source, event.detail_type, event.detail
    );
    assert_eq!(event.id, id);
    uploads.close().await?;
    mesh.timeline()
        .append("user/john/profile", json!({"step": "preferences saved"}))
        .await?;
    println!("timeline of user/john/ (newest first):");
    for entry in mesh
        .timeline()
        .get("user/john/", TimelineQuery::limit(5))
        .await?
        .items
    {
        println!(
            "  {}  {:<20} {}",
            entry.time.format("%H:%M:%S%.3f"),
            entry.stream,
            entry.data
        );
    }
    moderate(&mesh).await
}

/// Runs the content-moderation state machine (the same ASL JSON runs on Step Functions) on a
/// clean note and on spam; its two Task states are served by the handlers registered here.
async fn moderate(mesh: &MeshClient) -> agent_mesh::Result<()> {
    let wf = mesh.workflows();
    let registered = wf.register(
        "content-extractor",
        handler(|task| async move {
            let text = task.input["Input"]["text"].as_str().unwrap_or_default();
            Ok(json!({"text": text.trim(), "words": text.split_whitespace().count()}))
        }),
    );
    if matches!(&registered, Err(e) if e.kind == ErrorKind::Unsupported) {
        // aws://: Step Functions runs the ECS tasks itself.
        println!(
            "\nworkflow content-moderation: skipped, its ECS tasks cannot be served from this process on aws://"
        );
        return Ok(());
    }
    registered?;
    wf.register(
        "policy-checker",
        handler(|task| async move {
            let text = task.context["Execution"]["Input"]["text"].as_str();
            let spam = text.unwrap_or_default().to_lowercase().contains("spam");
            Ok(json!({"policy_result": if spam { "unsafe" } else { "safe" }}))
        }),
    )?;
    let definition = include_str!("../workflows/content-moderation.json");
    wf.create("content-moderation", Value::from(definition))
        .await?;
    println!();
    for text in ["Notes from John's resume review", "Buy SPAM now"] {
        let input = json!({"content_id": "note-1", "text": text});
        let run = wf
            .start("content-moderation", input, StartOptions::default())
            .await?;
        let done = wf.wait(&run.arn, None).await?;
        let output = done.output.unwrap_or_default();
        println!(
            "workflow content-moderation {text:?}: {} {output}",
            done.status
        );
    }
    Ok(())
}
