"""Financial services: risk results with a 1-hour TTL and a rebalancing event (guide: "Use Cases
by Domain").

The value at risk (95%, one day, historical) of two portfolios is computed from their daily
returns and stored under the guide's key risk:portfolio:<name>:var with a 1-hour TTL (it is
refreshed hourly). A portfolio whose VaR crosses the 0.10 threshold triggers a
RiskThresholdExceeded event; the rebalancer, subscribed to it, records a rebalancing order.

    python examples/python/financial_risk.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/financial_risk.py
"""

import json
from typing import List

from agent_mesh import MeshClient

THRESHOLD = 0.10
DAILY_RETURNS = {  # 20 trading days each
    "tech-fund": [0.021, -0.150, 0.034, -0.042, 0.012, -0.180, 0.051, 0.008, -0.031, 0.027,
                  -0.064, 0.019, 0.044, -0.012, 0.003, -0.090, 0.038, 0.015, -0.025, 0.060],
    "bond-fund": [0.002, -0.004, 0.003, -0.030, 0.001, 0.002, -0.001, 0.004, -0.002, 0.001,
                  -0.045, 0.003, 0.002, -0.003, 0.001, 0.000, -0.002, 0.003, 0.001, -0.001],
}


def value_at_risk(returns: List[float], confidence: float = 0.95) -> float:
    """Historical VaR: the loss exceeded on only (1 - confidence) of the days."""
    worst_first = sorted(returns)
    return round(-worst_first[int(len(returns) * (1 - confidence))], 4)


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    rebalancer = mesh.events.subscribe({"detail-type": ["RiskThresholdExceeded"], "detail": {"action": ["rebalance"]}})

    for portfolio, returns in DAILY_RETURNS.items():
        var = value_at_risk(returns)
        item = mesh.kv.set(f"risk:portfolio:{portfolio}:var", {
            "value_at_risk": var, "confidence": 0.95, "time_horizon": "1d",
            "calculated_at": "2024-01-15T16:00:00Z",
        }, ttl_hours=1)  # refreshed hourly
        expires = item.expires_at.isoformat() if item.expires_at else None
        print(f"stored  {item.key} = {var} (expires {expires})")
        if var > THRESHOLD:
            mesh.events.send("RiskThresholdExceeded", {
                "portfolio": portfolio, "current_var": var, "threshold": THRESHOLD, "action": "rebalance",
            }, source="risk-engine")
            print(f"event   RiskThresholdExceeded for {portfolio}: {var} > {THRESHOLD}")

    event = rebalancer.next(timeout=30)
    if event is None:
        raise SystemExit("the rebalancer received no RiskThresholdExceeded event within 30 s")
    print(f"rebalancer received {event.detail_type} {json.dumps(event.detail)}")
    order = mesh.kv.set(f"rebalance:{event.detail['portfolio']}:order", {
        "status": "pending", "reduce_var_by": round(event.detail["current_var"] - event.detail["threshold"], 4),
    })
    print(f"stored  {order.key} = {json.dumps(order.value)}")
    rebalancer.close()


if __name__ == "__main__":
    main()
