"""Document processing pipeline (guide: "Quick Start Examples", 2).

A document is stored as an artifact and announced with the guide's DocumentUploaded event. The
event starts the document-pipeline workflow (examples/workflows/document-pipeline.json), which
extracts the text, classifies it and routes it to legal review; the result is kept in the KV.

The processors are functions in this program: each Task of the workflow sends an event with its
task token (events:putEvents.waitForTaskToken), this program does the work and answers with
send_task_success. The same definition runs on the embedded engine and on Step Functions.

    python examples/python/document_pipeline.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/document_pipeline.py
"""

import json
import os
from pathlib import Path
from typing import Any, Dict
from urllib.parse import parse_qs, urlparse

from agent_mesh import MeshClient

DEFINITION = Path(__file__).resolve().parent.parent / "workflows" / "document-pipeline.json"
CONTRACT = b"""%PDF-1.4 (a text stand-in for a PDF)
MASTER SERVICES AGREEMENT between ABC Corp and Example Ltd.
1. Confidentiality: each party keeps the other's data confidential.
2. Termination: either party may terminate with 30 days notice.
3. Governing law: this agreement is governed by the laws of Delaware.
"""
LABELS = {"contract": ["agreement", "party"], "confidentiality": ["confidential"],
          "termination": ["terminate"], "jurisdiction": ["governing law"]}


def event_bus() -> str:
    """The bus the definition's Tasks send to. The embedded engine ignores the name; on AWS it is
    the mesh's bus: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env> (what provision() makes)."""
    query = parse_qs(urlparse(os.environ.get("AGENT_MESH_URL", "")).query)
    env = query.get("env", [os.environ.get("AGENT_MESH_ENV") or "dev"])[0]
    return os.environ.get("AGENT_MESH_EVENT_BUS") or f"{query.get('prefix', [''])[0]}agent-mesh-{env}"


def extract_text(mesh: MeshClient, document: Dict[str, Any]) -> Dict[str, Any]:
    artifact = mesh.artifacts.get(document["key"])
    if artifact is None:
        raise SystemExit(f"artifact {document['key']} is missing")
    text = artifact.data.decode().split("\n", 1)[1]
    return {"text": text, "words": len(text.split())}


def classify(mesh: MeshClient, document: Dict[str, Any]) -> Dict[str, Any]:
    text = document["extracted"]["text"].lower()
    return {"labels": [label for label, words in LABELS.items() if any(w in text for w in words)]}


PROCESSORS = {"ExtractText": extract_text, "ClassifyDocument": classify}


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    mesh.workflows.create("document-pipeline", DEFINITION.read_text().replace("${EventBus}", event_bus()))
    uploads = mesh.events.subscribe({"detail-type": ["DocumentUploaded"], "source": ["document-processor"]})
    tasks = mesh.events.subscribe({"source": ["document-pipeline"]})

    meta = mesh.artifacts.put("documents/contract.pdf", CONTRACT, content_type="application/pdf")
    print(f"stored  {meta.key} ({meta.size} bytes, {meta.content_type})")
    mesh.events.send("DocumentUploaded", {
        "document_id": "doc-123",
        "bucket": "agent-mesh-artifacts",
        "key": "documents/contract.pdf",
        "processing_type": "legal_review",
    }, source="document-processor")

    upload = uploads.next(timeout=30)
    if upload is None:
        raise SystemExit("no DocumentUploaded event arrived within 30 s")
    print(f"event   {upload.detail_type} from {upload.source}: {json.dumps(upload.detail)}")
    run = mesh.workflows.start("document-pipeline", upload.detail)
    print(f"started document-pipeline for {upload.detail['document_id']}")

    while run.describe().status == "RUNNING":  # serve the workflow's Tasks until it ends
        task = tasks.next(timeout=0.25)
        if task is not None:
            result = PROCESSORS[task.detail_type](mesh, task.detail["document"])
            shown = {k: v for k, v in result.items() if k != "text"}
            print(f"task    {task.detail_type} done: {json.dumps(shown)}")
            mesh.workflows.send_task_success(task.detail["task_token"], result)
    uploads.close()
    tasks.close()

    done = run.describe()
    print(f"workflow document-pipeline: {done.status} {json.dumps(done.output)}")
    if done.status == "SUCCEEDED":
        mesh.kv.set("document:doc-123:analysis", done.output)
        print("stored  document:doc-123:analysis")


if __name__ == "__main__":
    main()
