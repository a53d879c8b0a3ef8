"""CQRS with event sourcing (guide: "Integration Patterns", 2).

Commands are UserProfileUpdated events, appended to the user's stream user/user123/profile: the
timeline under user/user123/ is the user's history (the event store). A projector subscribed to
the events folds that history into the current state, the read model kept in the KV under
user:user123:profile. Queries read the KV; the history is read from the timeline.

    python examples/python/cqrs_event_sourcing.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/cqrs_event_sourcing.py
"""

import json
from typing import Any, Dict

from agent_mesh import MeshClient

COMMANDS = [("email", "new@email.com"), ("display_name", "Ann"), ("email", "ann@example.com")]


def project(mesh: MeshClient, user_id: str, event_id: str) -> Dict[str, Any]:
    """Folds the user's history, oldest first, up to the event `event_id` into the current state,
    and stores it unless the read model already holds a later state (events may arrive out of
    order: SQS on AWS does not keep it)."""
    state: Dict[str, Any] = {"user_id": user_id, "events_applied": 0}
    for entry in mesh.timeline.get(f"user/{user_id}/", order="oldest", limit=1000).items:
        change = entry.data["detail"]
        state[change["field"]] = change["new_value"]
        state["events_applied"] += 1
        if entry.data["id"] == event_id:
            break
    current = mesh.kv.get(f"user:{user_id}:profile")
    if current is None or current.value["events_applied"] < state["events_applied"]:
        mesh.kv.set(f"user:{user_id}:profile", state)
    return state


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    projector = mesh.events.subscribe({"detail-type": ["UserProfileUpdated"], "source": ["profile-service"]})

    # Command side: each update is an event on the user's stream.
    for field, value in COMMANDS:
        mesh.events.send("UserProfileUpdated", {"user_id": "user123", "field": field, "new_value": value},
                         source="profile-service", stream="user/user123/profile")
        print(f"command UserProfileUpdated {field} = {value}")

    # Projector: each event it hears brings the read model up to date with the history.
    for _ in COMMANDS:
        event = projector.next(timeout=30)
        if event is None:
            raise SystemExit("the projector received no UserProfileUpdated event within 30 s")
        state = project(mesh, event.detail["user_id"], event.id)
        print(f"projector received {event.detail['field']} = {event.detail['new_value']}: "
              f"state after it {json.dumps(state, sort_keys=True)}")
    projector.close()

    # Query side: the current state from the KV, the history from the timeline.
    profile = mesh.kv.get("user:user123:profile")
    print(f"query   user:user123:profile = {json.dumps(profile.value if profile else None, sort_keys=True)}")
    print("history user/user123/ (newest first):")
    for entry in mesh.timeline.get("user/user123/", limit=50).items:
        change = entry.data["detail"]
        print(f"  {entry.time.isoformat()}  {entry.stream}  {change['field']} = {change['new_value']}")


if __name__ == "__main__":
    main()
