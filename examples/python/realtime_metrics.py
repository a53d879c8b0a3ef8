"""Real-time analytics (guide: "Advanced Patterns", 3).

The web front end sends activity events (page views, conversions with revenue) in batches. An
aggregator subscribed to them rolls them up into this hour's metrics, stored under the guide's
key shape metrics:hourly:<YYYY-MM-DD-HH> with a 1-week TTL, and a dashboard lists the hours
kept.

    python examples/python/realtime_metrics.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/realtime_metrics.py
"""

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Set

from agent_mesh import MeshClient


def activity() -> List[Dict[str, Any]]:
    """30 page views by 12 users, 4 of whom buy something."""
    events: List[Dict[str, Any]] = []
    for n in range(30):
        events.append({"detail_type": "PageViewed", "source": "web-frontend",
                       "detail": {"user_id": f"u{n % 12}", "page": f"/products/{n % 5}"}})
    for user, revenue in [("u1", 120), ("u4", 80), ("u7", 250), ("u9", 45)]:
        events.append({"detail_type": "Conversion", "source": "web-frontend",
                       "detail": {"user_id": user, "revenue": revenue}})
    return events


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    aggregator = mesh.events.subscribe({"source": ["web-frontend"]})
    events = activity()
    mesh.events.send_batch(events)
    print(f"sent    {len(events)} activity events")

    users: Set[str] = set()
    metrics = {"active_users": 0, "page_views": 0, "conversions": 0, "revenue": 0}
    for _ in events:
        event = aggregator.next(timeout=30)
        if event is None:
            raise SystemExit("the aggregator received fewer events than were sent")
        users.add(event.detail["user_id"])
        if event.detail_type == "PageViewed":
            metrics["page_views"] += 1
        else:
            metrics["conversions"] += 1
            metrics["revenue"] += event.detail["revenue"]
    aggregator.close()
    metrics["active_users"] = len(users)

    hour = datetime.now(timezone.utc).strftime("%Y-%m-%d-%H")
    item = mesh.kv.set(f"metrics:hourly:{hour}", metrics, ttl_hours=168)  # keep for 1 week
    print(f"stored  {item.key} = {json.dumps(item.value)}")
    print("dashboard (hours kept):")
    for row in mesh.kv.list("metrics:hourly:").items:
        expires = row.expires_at.isoformat() if row.expires_at else None
        print(f"  {row.key}  {json.dumps(row.value)}  expires {expires}")


if __name__ == "__main__":
    main()
