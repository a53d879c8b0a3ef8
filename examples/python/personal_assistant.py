"""The "personal assistant with memory" demo in Python: preferences with a 30-day TTL and an
attachment, stored and read back on the embedded local mesh (./.agent-mesh by default).

    pip install ./bindings-python && python examples/python/personal_assistant.py
"""

from agent_mesh import KvItem, MeshClient


def main() -> None:
    mesh = MeshClient()
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
        event = uploads.next(timeout=5)
        if event is not None:
            print(f"event   {event.detail_type} from {event.source}: {event.detail}")
    mesh.timeline.append("user/john/profile", {"step": "preferences saved"})
    for entry in mesh.timeline.get("user/john/", limit=5).items:
        print(f"history {entry.time:%H:%M:%S} {entry.stream}")


if __name__ == "__main__":
    main()
