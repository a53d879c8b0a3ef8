"""Healthcare: patient timeline and care-team coordination (guide: "Use Cases by Domain").

Lab results are stored under the guide's keys (patient:12345:timeline:<date>) and appended to
the patient's timeline; each result is announced with a LabResultsAvailable event. Two
subscribers coordinate the care team: the care team hears of every result of patient 12345, the
on-call physician only of critical ones. Finally the patient's timeline is read back in order.

    python examples/python/healthcare_timeline.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/healthcare_timeline.py
"""

import json

from agent_mesh import MeshClient

LAB_RESULTS = [
    {"date": "2024-01-15", "results": {"glucose": 95, "cholesterol": 180}, "provider": "Dr. Smith", "critical": False},
    {"date": "2024-01-16", "results": {"potassium": 6.8}, "provider": "Dr. Jones", "critical": True},
]


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    # Subscribers start before anything is sent: a subscription sees events from when it opens.
    care_team = mesh.events.subscribe({"detail-type": ["LabResultsAvailable"], "detail": {"patient_id": ["12345"]}})
    on_call = mesh.events.subscribe({"detail-type": ["LabResultsAvailable"], "detail": {"critical": [True]}})

    for lab in LAB_RESULTS:
        record = {"event_type": "lab_result", "results": lab["results"], "provider": lab["provider"],
                  "timestamp": f"{lab['date']}T10:30:00Z"}
        mesh.kv.set(f"patient:12345:timeline:{lab['date']}", record)
        mesh.timeline.append("patient/12345/labs", record)
        mesh.events.send("LabResultsAvailable",
                         {"patient_id": "12345", "critical": lab["critical"], "provider": lab["provider"], "date": lab["date"]},
                         source="lab-system", stream="patient/12345/notifications")
        print(f"stored  patient:12345:timeline:{lab['date']} and notified the care team")

    for name, subscription, expected in [("care-team", care_team, 2), ("on-call", on_call, 1)]:
        for _ in range(expected):
            event = subscription.next(timeout=30)
            if event is None:
                raise SystemExit(f"{name}: no LabResultsAvailable event within 30 s")
            print(f"{name} received {event.detail_type} {json.dumps(event.detail)}")
        subscription.close()

    print("timeline of patient/12345/ (oldest first):")
    for entry in mesh.timeline.get("patient/12345/", order="oldest", limit=20).items:
        # Events are stored whole (the EventBridge envelope); appended records as they were given.
        data = entry.data.get("detail", entry.data)
        print(f"  {entry.stream:<28} {json.dumps(data)}")


if __name__ == "__main__":
    main()
