//! Financial services: risk results with a 1-hour TTL and a rebalancing event (guide: "Use
//! Cases by Domain").
//!
//! The value at risk (95%, one day, historical) of two portfolios is computed from their daily
//! returns and stored under the guide's key risk:portfolio:<name>:var with a 1-hour TTL (it is
//! refreshed hourly). A portfolio whose VaR crosses the 0.10 threshold triggers a
//! RiskThresholdExceeded event; the rebalancer, subscribed to it, records a rebalancing order.
//!
//! Run it with `cargo run -p agent-mesh --example financial_risk` (add AGENT_MESH_URL=aws://...
//! for AWS).

use std::time::Duration;

use agent_mesh::{Event, MeshClient, SetOptions};
use serde_json::json;

const THRESHOLD: f64 = 0.10;
/// 20 trading days each.
const DAILY_RETURNS: [(&str, [f64; 20]); 2] = [
    (
        "tech-fund",
        [
            0.021, -0.150, 0.034, -0.042, 0.012, -0.180, 0.051, 0.008, -0.031, 0.027, -0.064,
            0.019, 0.044, -0.012, 0.003, -0.090, 0.038, 0.015, -0.025, 0.060,
        ],
    ),
    (
        "bond-fund",
        [
            0.002, -0.004, 0.003, -0.030, 0.001, 0.002, -0.001, 0.004, -0.002, 0.001, -0.045,
            0.003, 0.002, -0.003, 0.001, 0.000, -0.002, 0.003, 0.001, -0.001,
        ],
    ),
];

/// Historical VaR: the loss exceeded on only (1 - confidence) of the days.
fn value_at_risk(returns: &[f64], confidence: f64) -> f64 {
    let mut worst_first = returns.to_vec();
    worst_first.sort_by(f64::total_cmp);
    let loss = -worst_first[(returns.len() as f64 * (1.0 - confidence)) as usize];
    (loss * 10_000.0).round() / 10_000.0
}

#[tokio::main]
async fn main() -> agent_mesh::Result<()> {
    let mesh = MeshClient::open().await?;
    mesh.provision().await?; // creates the AWS resources on aws://; a no-op locally
    let pattern =
        json!({"detail-type": ["RiskThresholdExceeded"], "detail": {"action": ["rebalance"]}});
    let mut rebalancer = mesh.events().subscribe(&pattern).await?;

    for (portfolio, returns) in DAILY_RETURNS {
        let var = value_at_risk(&returns, 0.95);
        let result = json!({"value_at_risk": var, "confidence": 0.95, "time_horizon": "1d", "calculated_at": "2024-01-15T16:00:00Z"});
        // Refreshed hourly.
        let item = mesh
            .kv()
            .set(
                &format!("risk:portfolio:{portfolio}:var"),
                result,
                SetOptions::ttl_hours(1),
            )
            .await?;
        let expires = item.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default();
        println!("stored  {} = {var} (expires {expires})", item.key);
        if var > THRESHOLD {
            let detail = json!({"portfolio": portfolio, "current_var": var, "threshold": THRESHOLD, "action": "rebalance"});
            mesh.events()
                .send(Event::new("RiskThresholdExceeded", detail).with_source("risk-engine"))
                .await?;
            println!("event   RiskThresholdExceeded for {portfolio}: {var} > {THRESHOLD}");
        }
    }

    let event = rebalancer
        .next_timeout(Duration::from_secs(30))
        .await?
        .expect("the rebalancer receives a RiskThresholdExceeded event within 30 s");
    println!("rebalancer received {} {}", event.detail_type, event.detail);
    let over = event.detail["current_var"].as_f64().unwrap_or_default()
        - event.detail["threshold"].as_f64().unwrap_or_default();
    let order = json!({"status": "pending", "reduce_var_by": (over * 10_000.0).round() / 10_000.0});
    let portfolio = event.detail["portfolio"].as_str().unwrap_or_default();
    let order = mesh
        .kv()
        .set(
            &format!("rebalance:{portfolio}:order"),
            order,
            SetOptions::default(),
        )
        .await?;
    println!("stored  {} = {}", order.key, order.value);
    rebalancer.close().await?;
    Ok(())
}
