//! Saga pattern for distributed transactions (guide: "Integration Patterns", 3).
//!
//! A BookingRequested event starts the booking saga (examples/workflows/booking-saga.json):
//! reserve a flight, reserve a hotel, charge the payment. When a step fails, the state machine's
//! Catch runs the compensation steps (cancel the hotel, cancel the flight) and the execution
//! fails with BookingFailed. Two bookings run: saga-789 is confirmed, saga-790's card is declined
//! and its reservations are compensated. Each service keeps the saga state in the KV.
//!
//! The services are functions in this program. Each Task of the state machine sends an event
//! with its task token (events:putEvents.waitForTaskToken); this program receives it, does the
//! work and answers with send_task_success or send_task_failure. That works on the embedded
//! engine and on Step Functions alike, with no Lambda or ECS task to deploy.
//!
//! Run it with `cargo run -p agent-mesh --example saga` (add AGENT_MESH_URL=aws://... for AWS).

use std::collections::BTreeMap;
use std::time::Duration;

use agent_mesh::{
    AwsNames, Event, ExecutionRef, ExecutionStatus, MeshClient, MeshConfig, ReceivedEvent,
    SetOptions, StartOptions,
};
use serde_json::{Value, json};

const PAYMENT_LIMIT: i64 = 2000;
const STEPS: [&str; 3] = ["reserve_flight", "reserve_hotel", "charge_payment"];

/// The bus the definition's Tasks send to: the mesh's bus on AWS (the embedded engine ignores it).
fn event_bus(mesh: &MeshClient) -> String {
    match mesh.config() {
        MeshConfig::Aws(options) => AwsNames::resolve(options).event_bus,
        _ => "agent-mesh-local".to_owned(),
    }
}

/// Updates the saga state the guide keeps under saga:<id>:state.
async fn record(
    mesh: &MeshClient,
    saga_id: &str,
    step: &str,
    status: &str,
) -> agent_mesh::Result<()> {
    let key = format!("saga:{saga_id}:state");
    let item = mesh
        .kv()
        .get(&key)
        .await?
        .expect("the coordinator writes it when the saga starts");
    let mut state = item.value;
    state["status"] = json!(status);
    state["steps_completed"]
        .as_array_mut()
        .unwrap()
        .push(json!(step));
    let remaining = state["steps_remaining"].as_array_mut().unwrap();
    if let Some(at) = remaining.iter().position(|s| s == step) {
        remaining.remove(at);
        let undo = match step {
            "reserve_flight" => "cancel_flight",
            "reserve_hotel" => "cancel_hotel",
            _ => "refund_payment",
        };
        state["rollback_actions"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!(undo));
    }
    mesh.kv()
        .set(&key, state, SetOptions::if_version(item.version))
        .await?;
    Ok(())
}

/// Records a reservation's status under booking:<saga>:<what> ("flight" or "hotel").
async fn set_booking(
    mesh: &MeshClient,
    b: &Value,
    what: &str,
    status: &str,
) -> agent_mesh::Result<()> {
    let key = format!(
        "booking:{}:{what}",
        b["saga_id"].as_str().unwrap_or_default()
    );
    let id = format!("{what}_id");
    let value = json!({&id: b[&id], "status": status});
    mesh.kv().set(&key, value, SetOptions::default()).await?;
    Ok(())
}

/// One service call: Ok(result) or Err((error, cause)) for the workflow.
async fn service(
    mesh: &MeshClient,
    task: &str,
    b: &Value,
) -> agent_mesh::Result<Result<Value, (String, String)>> {
    let saga = b["saga_id"].as_str().unwrap_or_default();
    Ok(Ok(match task {
        "ReserveFlight" => {
            set_booking(mesh, b, "flight", "reserved").await?;
            record(mesh, saga, "reserve_flight", "flight_booked").await?;
            json!({"confirmation": format!("FL-{}", b["flight_id"].as_str().unwrap_or_default())})
        }
        "ReserveHotel" => {
            set_booking(mesh, b, "hotel", "reserved").await?;
            record(mesh, saga, "reserve_hotel", "hotel_booked").await?;
            json!({"confirmation": format!("HT-{}", b["hotel_id"].as_str().unwrap_or_default())})
        }
        "ChargePayment" => {
            let amount = b["amount"].as_i64().unwrap_or_default();
            if amount > PAYMENT_LIMIT {
                record(mesh, saga, "payment_declined", "compensating").await?;
                let user = b["user_id"].as_str().unwrap_or_default();
                let cause = format!(
                    "card of {user} declined: {amount} is over the limit of {PAYMENT_LIMIT}"
                );
                return Ok(Err(("PaymentDeclined".to_owned(), cause)));
            }
            record(mesh, saga, "charge_payment", "confirmed").await?;
            json!({"receipt": format!("PAY-{saga}")})
        }
        "CancelHotel" => {
            set_booking(mesh, b, "hotel", "cancelled").await?;
            record(mesh, saga, "cancel_hotel", "compensating").await?;
            json!({})
        }
        _ => {
            set_booking(mesh, b, "flight", "cancelled").await?;
            record(mesh, saga, "cancel_flight", "compensated").await?;
            json!({})
        }
    }))
}

/// Does the work a Task asked for and reports the outcome to the workflow.
async fn serve(mesh: &MeshClient, task: ReceivedEvent) -> agent_mesh::Result<()> {
    let (booking, token) = (
        &task.detail["booking"],
        task.detail["task_token"].as_str().unwrap_or_default(),
    );
    let saga = booking["saga_id"].as_str().unwrap_or_default();
    match service(mesh, &task.detail_type, booking).await? {
        Ok(result) => {
            println!("  {saga}: {} done {result}", task.detail_type);
            mesh.workflows().send_task_success(token, result).await
        }
        Err((error, cause)) => {
            println!("  {saga}: {} failed: {cause}", task.detail_type);
            mesh.workflows()
                .send_task_failure(token, &error, &cause)
                .await
        }
    }
}

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    let definition =
        include_str!("../workflows/booking-saga.json").replace("${EventBus}", &event_bus(&mesh));
    mesh.workflows()
        .create("booking-saga", Value::from(definition))
        .await?;

    let mut requests = mesh
        .events()
        .subscribe(&json!({"detail-type": ["BookingRequested"]}))
        .await?;
    let mut tasks = mesh
        .events()
        .subscribe(&json!({"source": ["booking-saga"]}))
        .await?;
    for (saga_id, amount) in [("saga-789", 850), ("saga-790", 4200)] {
        let detail = json!({"saga_id": saga_id, "flight_id": "fl-123", "hotel_id": "ht-456", "user_id": "user123", "amount": amount});
        mesh.events()
            .send(Event::new("BookingRequested", detail).with_source("booking-api"))
            .await?;
    }

    let mut runs: BTreeMap<String, ExecutionRef> = BTreeMap::new();
    while runs.len() < 2 {
        // the saga coordinator: each request starts one execution
        let request = requests
            .next_timeout(Duration::from_secs(30))
            .await?
            .expect("a BookingRequested event within 30 s");
        let saga_id = request.detail["saga_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let state = json!({"status": "started", "steps_completed": [], "steps_remaining": STEPS, "rollback_actions": []});
        mesh.kv()
            .set(
                &format!("saga:{saga_id}:state"),
                state,
                SetOptions::default(),
            )
            .await?;
        let run = mesh
            .workflows()
            .start(
                "booking-saga",
                request.detail.clone(),
                StartOptions::default(),
            )
            .await?;
        println!(
            "started booking-saga for {saga_id} (amount {})",
            request.detail["amount"]
        );
        runs.insert(saga_id, run);
    }

    loop {
        let mut running = false;
        for run in runs.values() {
            running |=
                mesh.workflows().describe(&run.arn).await?.status == ExecutionStatus::Running;
        }
        if !running {
            break;
        }
        if let Some(task) = tasks.next_timeout(Duration::from_millis(250)).await? {
            serve(&mesh, task).await?;
        }
    }
    requests.close().await?;
    tasks.close().await?;

    for (saga_id, run) in &runs {
        let done = mesh.workflows().describe(&run.arn).await?;
        let outcome = match (&done.output, &done.error) {
            (Some(output), _) => output.to_string(),
            (None, error) => format!(
                "{}: {}",
                error.clone().unwrap_or_default(),
                done.cause.clone().unwrap_or("(no cause given)".into())
            ),
        };
        println!("saga {saga_id}: {} {outcome}", done.status);
        let state = mesh
            .kv()
            .get(&format!("saga:{saga_id}:state"))
            .await?
            .map(|item| item.value);
        println!("  saga:{saga_id}:state = {}", state.unwrap_or_default());
    }
    Ok(())
}
