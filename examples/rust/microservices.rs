//! Event-driven microservices (guide: "Integration Patterns", 1).
//!
//! Service A (orders) sends one OrderCreated event. Three services subscribed before it was
//! sent: inventory and shipping listen for OrderCreated, analytics for every event. Inventory
//! reserves the stock and announces InventoryReserved, which only analytics hears. Each service
//! prints what it received; in production each would be its own process.
//!
//! Run it with `cargo run -p agent-mesh --example microservices` (add AGENT_MESH_URL=aws://...
//! for AWS).

use std::collections::BTreeMap;
use std::time::Duration;

use agent_mesh::{Event, MeshClient, ReceivedEvent, SetOptions, Subscription};
use serde_json::json;

/// The next `count` events of a subscription (at most 30 s each), printed as they come.
async fn receive(
    name: &str,
    sub: &mut Subscription,
    count: usize,
) -> agent_mesh::Result<Vec<ReceivedEvent>> {
    let mut events = Vec::new();
    for _ in 0..count {
        let event = sub
            .next_timeout(Duration::from_secs(30))
            .await?
            .unwrap_or_else(|| panic!("{name}: no event within 30 s"));
        println!(
            "{name} received {} from {} {}",
            event.detail_type, event.source, event.detail
        );
        events.push(event);
    }
    Ok(events)
}

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    let events = mesh.events();
    let mut inventory = events
        .subscribe(&json!({"detail-type": ["OrderCreated"]}))
        .await?;
    let mut shipping = events
        .subscribe(&json!({"detail-type": ["OrderCreated"]}))
        .await?;
    let mut analytics = events
        .subscribe(&json!({"source": [{"prefix": ""}]}))
        .await?; // every event

    // Service A: order processing
    let order = json!({"order_id": "ord-123", "customer_id": "cust-456"});
    events
        .send(Event::new("OrderCreated", order).with_source("orders"))
        .await?;

    // Service B: inventory management reserves the stock and says so.
    for order in receive("inventory", &mut inventory, 1).await? {
        let id = order.detail["order_id"].as_str().unwrap_or_default();
        let reservation = json!({"sku": "iphone-15", "quantity": 1});
        mesh.kv()
            .set(
                &format!("inventory:reservation:{id}"),
                reservation,
                SetOptions::default(),
            )
            .await?;
        let reserved = json!({"order_id": id, "sku": "iphone-15"});
        events
            .send(Event::new("InventoryReserved", reserved).with_source("inventory"))
            .await?;
    }
    // Service C: shipping prepares a shipment.
    for order in receive("shipping", &mut shipping, 1).await? {
        let id = order.detail["order_id"].as_str().unwrap_or_default();
        let shipment = json!({"status": "label_created", "carrier": "ups"});
        mesh.kv()
            .set(
                &format!("shipping:shipment:{id}"),
                shipment,
                SetOptions::default(),
            )
            .await?;
    }
    // Service D: analytics counts everything it hears.
    let mut counts = BTreeMap::<String, u32>::new();
    for event in receive("analytics", &mut analytics, 2).await? {
        *counts.entry(event.detail_type).or_default() += 1;
    }
    mesh.kv()
        .set(
            "analytics:events:count",
            json!(counts),
            SetOptions::default(),
        )
        .await?;

    // Anything else would show up here.
    for (name, sub) in [
        ("inventory", inventory),
        ("shipping", shipping),
        ("analytics", analytics),
    ] {
        let mut sub = sub;
        match sub.next_timeout(Duration::from_millis(500)).await? {
            Some(extra) => println!("{name}: unexpected {}", extra.detail_type),
            None => println!("{name}: nothing else"),
        }
        sub.close().await?;
    }
    for key in [
        "inventory:reservation:ord-123",
        "shipping:shipment:ord-123",
        "analytics:events:count",
    ] {
        let value = mesh.kv().get(key).await?.map(|item| item.value);
        println!("stored  {key} = {}", value.unwrap_or_default());
    }
    Ok(())
}
