"""Legal & compliance: contract versions, compliance records, audit trail (guide: "Use Cases by
Domain").

Two versions of a contract are kept as artifacts (contracts/client-abc/<version>/agreement.pdf,
with the version and author as metadata), compliance checks are recorded under the guide's keys
(compliance:contract:abc:<regulation>), and every action is appended to an audit trail on the
timeline (audit/contracts/client-abc/...), which is read back oldest first.

    python examples/python/legal_compliance.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/legal_compliance.py
"""

import hashlib
import json

from agent_mesh import MeshClient

VERSIONS = {
    "v2.0": b"%PDF-1.4 Agreement ABC v2.0: data is kept for 10 years.",
    "v2.1": b"%PDF-1.4 Agreement ABC v2.1: data is kept for 2 years; customers may ask for erasure.",
}
CHECKS = {
    "gdpr": {"status": "compliant", "checked_at": "2024-01-15T14:00:00Z",
             "requirements_met": ["data_protection", "right_to_erasure"], "next_review": "2024-07-15"},
    "ccpa": {"status": "compliant", "checked_at": "2024-01-15T14:05:00Z",
             "requirements_met": ["right_to_know", "right_to_delete"], "next_review": "2024-07-15"},
}


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally

    for version, content in VERSIONS.items():
        key = f"contracts/client-abc/{version}/agreement.pdf"
        mesh.artifacts.put(key, content, content_type="application/pdf",
                           metadata={"version": version, "author": "legal-bot"})
        mesh.timeline.append("audit/contracts/client-abc/versions", {
            "action": "version_stored", "key": key, "sha256": hashlib.sha256(content).hexdigest()[:16]})
    for regulation, check in CHECKS.items():
        mesh.kv.set(f"compliance:contract:abc:{regulation}", check)
        mesh.timeline.append("audit/contracts/client-abc/compliance", {
            "action": "compliance_checked", "regulation": regulation, "status": check["status"], "version": "v2.1"})

    print("contract versions:")
    for meta in mesh.artifacts.list("contracts/client-abc/").items:
        print(f"  {meta.key}  {meta.size} bytes  {meta.content_type}  {json.dumps(meta.metadata, sort_keys=True)}")
    latest = mesh.artifacts.get("contracts/client-abc/v2.1/agreement.pdf")
    if latest is not None:
        print(f"  latest reads: {latest.data.decode()!r}")
    print("compliance records:")
    for item in mesh.kv.list("compliance:contract:abc:").items:
        print(f"  {item.key} = {json.dumps(item.value)}")
    print("audit trail (oldest first):")
    for entry in mesh.timeline.get("audit/contracts/client-abc/", order="oldest").items:
        print(f"  {entry.time.isoformat()}  {entry.stream}  {json.dumps(entry.data)}")


if __name__ == "__main__":
    main()
