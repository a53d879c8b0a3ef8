//! CQRS with event sourcing (guide: "Integration Patterns", 2).
//!
//! Commands are UserProfileUpdated events, appended to the user's stream user/user123/profile:
//! the timeline under user/user123/ is the user's history (the event store). A projector
//! subscribed to the events folds that history into the current state, the read model kept in
//! the KV under user:user123:profile. Queries read the KV; the history is read from the
//! timeline.
//!
//! Run it with `cargo run -p agent-mesh --example cqrs_event_sourcing` (add
//! AGENT_MESH_URL=aws://... for AWS).

use std::time::Duration;

use agent_mesh::{Event, MeshClient, Order, SetOptions, TimelineQuery};
use serde_json::{Value, json};

const COMMANDS: [(&str, &str); 3] = [
    ("email", "new@email.com"),
    ("display_name", "Ann"),
    ("email", "ann@example.com"),
];

/// Folds the user's history, oldest first, up to the event `event_id` into the current state,
/// and stores it unless the read model already holds a later state (events may arrive out of
/// order: SQS on AWS does not keep it).
async fn project(mesh: &MeshClient, user_id: &str, event_id: &str) -> agent_mesh::Result<Value> {
    let mut state = json!({"user_id": user_id, "events_applied": 0});
    let query = TimelineQuery::limit(1000).with_order(Order::OldestFirst);
    for entry in mesh
        .timeline()
        .get(&format!("user/{user_id}/"), query)
        .await?
        .items
    {
        let change = &entry.data["detail"];
        state[change["field"].as_str().unwrap_or_default()] = change["new_value"].clone();
        state["events_applied"] = json!(state["events_applied"].as_u64().unwrap_or_default() + 1);
        if entry.data["id"] == event_id {
            break;
        }
    }
    let key = format!("user:{user_id}:profile");
    let current = mesh.kv().get(&key).await?;
    if current
        .is_none_or(|item| item.value["events_applied"].as_u64() < state["events_applied"].as_u64())
    {
        mesh.kv()
            .set(&key, state.clone(), SetOptions::default())
            .await?;
    }
    Ok(state)
}

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    let pattern = json!({"detail-type": ["UserProfileUpdated"], "source": ["profile-service"]});
    let mut projector = mesh.events().subscribe(&pattern).await?;

    // Command side: each update is an event on the user's stream.
    for (field, value) in COMMANDS {
        let change = json!({"user_id": "user123", "field": field, "new_value": value});
        let event = Event::new("UserProfileUpdated", change)
            .with_source("profile-service")
            .with_stream("user/user123/profile");
        mesh.events().send(event).await?;
        println!("command UserProfileUpdated {field} = {value}");
    }

    // Projector: each event it hears brings the read model up to date with the history.
    for _ in COMMANDS {
        let event = projector
            .next_timeout(Duration::from_secs(30))
            .await?
            .expect("the projector receives each UserProfileUpdated event within 30 s");
        let state = project(
            &mesh,
            event.detail["user_id"].as_str().unwrap_or_default(),
            &event.id,
        )
        .await?;
        let (field, value) = (&event.detail["field"], &event.detail["new_value"]);
        println!(
            "projector received {} = {}: state after it {state}",
            field.as_str().unwrap_or_default(),
            value.as_str().unwrap_or_default()
        );
    }
    projector.close().await?;

    // Query side: the current state from the KV, the history from the timeline.
    let profile = mesh
        .kv()
        .get("user:user123:profile")
        .await?
        .map(|item| item.value);
    println!(
        "query   user:user123:profile = {}",
        profile.unwrap_or_default()
    );
    println!("history user/user123/ (newest first):");
    for entry in mesh
        .timeline()
        .get("user/user123/", TimelineQuery::limit(50))
        .await?
        .items
    {
        let change = &entry.data["detail"];
        let (field, value) = (
            change["field"].as_str().unwrap_or_default(),
            change["new_value"].as_str().unwrap_or_default(),
        );
        println!(
            "  {}  {}  {field} = {value}",
            entry.time.to_rfc3339(),
            entry.stream
        );
    }
    Ok(())
}
