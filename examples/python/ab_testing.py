"""A/B testing framework (guide: "Advanced Patterns", 2).

The experiment's configuration is stored under the guide's key; twenty users are assigned to
a variant by a stable hash weighted by the configured split, and their exposures and
conversions are tracked as ExperimentEvent events (sent in batches). A tally service
subscribed to the experiment's events counts them per variant and stores the results.

    python examples/python/ab_testing.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/ab_testing.py
"""

import json
from typing import Any, Dict, List

from agent_mesh import MeshClient

USERS = [f"user{n}" for n in range(100, 120)]


def variant_for(user_id: str, split: Dict[str, float]) -> str:
    """The same variant for a user every time: a stable hash of the id, bucketed by the split."""
    bucket = sum(ord(c) * (i + 1) for i, c in enumerate(user_id)) % 100
    for variant, share in split.items():
        if bucket < share * 100:
            return variant
        bucket -= int(share * 100)
    return list(split)[-1]


def converts(user_id: str, variant: str) -> bool:
    """Stand-in for real behaviour: variant B's shorter checkout converts more users."""
    return int(user_id[4:]) % (2 if variant == "B" else 4) == 0


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    config = mesh.kv.set("experiment:checkout-flow:config", {
        "variants": {"A": 0.5, "B": 0.5},
        "start_date": "2024-01-15",
        "metrics": ["conversion_rate", "revenue"],
    }).value
    tally = mesh.events.subscribe({"detail-type": ["ExperimentEvent"], "detail": {"experiment": ["checkout-flow"]}})

    events: List[Dict[str, Any]] = []
    for user_id in USERS:
        variant = variant_for(user_id, config["variants"])
        steps = ["exposure", "conversion"] if converts(user_id, variant) else ["exposure"]
        for step in steps:
            events.append({"detail_type": "ExperimentEvent", "source": "checkout",
                           "detail": {"experiment": "checkout-flow", "variant": variant, "user_id": user_id, "event": step}})
    results = mesh.events.send_batch(events)
    print(f"sent    {sum(1 for r in results if r.event_id)} ExperimentEvent events for {len(USERS)} users")

    counts = {v: {"exposure": 0, "conversion": 0} for v in config["variants"]}
    for _ in events:
        event = tally.next(timeout=30)
        if event is None:
            raise SystemExit("the tally received fewer events than were sent")
        counts[event.detail["variant"]][event.detail["event"]] += 1
    tally.close()
    summary = {v: {**c, "conversion_rate": round(c["conversion"] / c["exposure"], 3)} for v, c in counts.items()}
    stored = mesh.kv.set("experiment:checkout-flow:results", summary)
    print(f"tally received {len(events)} events")
    for variant, row in summary.items():
        print(f"  variant {variant}: {row['exposure']} exposed, {row['conversion']} converted, rate {row['conversion_rate']}")
    print(f"stored  {stored.key} = {json.dumps(stored.value)}")


if __name__ == "__main__":
    main()
