"""The "personal assistant with memory" demo in Python: preferences with a 30-day TTL and an
attachment, stored and read back, an event, the timeline, and a content-moderation workflow
(examples/workflows/content-moderation.json) served by Python handlers, on the embedded local
mesh (./.agent-mesh by default). On aws:// (AGENT_MESH_URL) everything but the workflow runs
unchanged: its Tasks are ECS tasks there, which this program cannot serve (see
content_moderation.py, which runs it on AWS with callbacks).

    pip install ./bindings-python && python examples/python/personal_assistant.py
"""

import json
from pathlib import Path
from typing import Any, Dict

from agent_mesh import KvItem, MeshClient, Unsupported

MODERATION = Path(__file__).resolve().parent.parent / "workflows" / "content-moderation.json"


def moderate(mesh: MeshClient) -> None:
    """Runs the content-moderation state machine (the same ASL JSON runs on Step Functions) on
    a clean note and on spam; its two Task states are served by the handlers below."""

    def extract(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        text = input["Input"]["text"]
        return {"text": text.strip(), "words": len(text.split())}

    def check_policy(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        text = context["Execution"]["Input"]["text"]
        return {"policy_result": "unsafe" if "spam" in text.lower() else "safe"}

    try:
        mesh.workflows.register("content-extractor", extract)
        mesh.workflows.register("policy-checker", check_policy)
    except Unsupported:  # aws://: Step Functions runs the ECS tasks itself
        print("workflow content-moderation: skipped, its ECS tasks cannot be served from this process on aws://")
        return
    mesh.workflows.create("content-moderation", json.loads(MODERATION.read_text()))
    for text in ["Notes from John's resume review", "Buy SPAM now"]:
        done = mesh.workflows.start("content-moderation", {"content_id": "note-1", "text": text}).wait()
        print(f"workflow content-moderation {text!r}: {done.status} {done.output}")


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    stored: KvItem = mesh.kv.set(
        "user:john:preferences",
        {"timezone": "PST", "communication_style": "concise"},
        ttl_hours=720,
    )
    print(f"stored  {stored.key}  version {stored.version}  expires {stored.expires_at}")
    meta = mesh.artifacts.put(
        "conversations/2024/resume.pdf",
        b"%PDF-1.4\n% John's resume (demo content)\n",
        content_type="application/pdf",
        metadata={"owner": "john"},
    )
    print(f"stored  {meta.key}  {meta.size} bytes  {meta.content_type}")

    item = mesh.kv.get("user:john:preferences")
    if item is not None:
        print(f"read    preferences v{item.version}: {item.value}")
    artifact = mesh.artifacts.get("conversations/2024/resume.pdf")
    if artifact is not None:
        print(f"read    {artifact.meta.key}: {len(artifact.data)} bytes, {artifact.meta.metadata}")

    with mesh.events.subscribe({"detail-type": ["DocumentUploaded"]}) as uploads:
        mesh.events.send("DocumentUploaded", {"key": "conversations/2024/resume.pdf"},
                         source="document-processor", stream="user/john/documents")
        event = uploads.next(timeout=30)
        if event is not None:
            print(f"event   {event.detail_type} from {event.source}: {event.detail}")
    mesh.timeline.append("user/john/profile", {"step": "preferences saved"})
    for entry in mesh.timeline.get("user/john/", limit=5).items:
        print(f"history {entry.time:%H:%M:%S} {entry.stream}")
    moderate(mesh)


if __name__ == "__main__":
    main()
