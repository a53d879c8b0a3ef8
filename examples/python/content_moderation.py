"""Content moderation pipeline (guide: "Workflow Examples", 1).

Runs the guide's state machine (examples/workflows/content-moderation.json: ExtractContent and
CheckPolicy as ECS tasks, then the IsContentSafe choice) on a clean post and on spam, so both
branches run (PublishContent, FlagForReview), and stores each result under the guide's key
moderation:<content_id>:result.

Where the Tasks run: on the embedded engine, the two ECS TaskDefinitions (content-extractor,
policy-checker) are served by the Python functions below, registered as handlers. On aws://,
Step Functions would start real ECS tasks, which this program cannot be; there it creates the
same state machine with the two Tasks as callbacks (events:putEvents.waitForTaskToken) and
serves them from here with send_task_success.

    python examples/python/content_moderation.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/content_moderation.py
"""

import json
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Optional
from urllib.parse import parse_qs, urlparse

from agent_mesh import MeshClient, Subscription, Unsupported

DEFINITION = Path(__file__).resolve().parent.parent / "workflows" / "content-moderation.json"
BLOCKED = re.compile(r"\b(spam|cheap pills|wire money)\b", re.IGNORECASE)
POSTS = {"post-1": "Photos from our hiking trip in the Alps", "post-2": "Buy SPAM now!!! cheap pills, wire money today"}


def extract_content(content: Dict[str, Any]) -> Dict[str, Any]:  # ECS task "content-extractor"
    text = content["text"].strip()
    return {"text": text, "words": len(text.split())}


def check_policy(content: Dict[str, Any]) -> Dict[str, Any]:  # ECS task "policy-checker"
    return {"policy_result": "unsafe" if BLOCKED.search(content["text"]) else "safe"}


Task = Callable[[Dict[str, Any]], Dict[str, Any]]
TASKS: Dict[str, Task] = {"content-extractor": extract_content, "policy-checker": check_policy}


def ecs_handler(task: Task) -> Callable[[Any, Dict[str, Any]], Dict[str, Any]]:
    """A handler for an ECS Task state: it gets the ECS parameters and the context object, whose
    Execution.Input is the content."""
    return lambda parameters, context: task(context["Execution"]["Input"])


def event_bus() -> str:
    """The mesh's bus on AWS: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env>."""
    query = parse_qs(urlparse(os.environ.get("AGENT_MESH_URL", "")).query)
    env = query.get("env", [os.environ.get("AGENT_MESH_ENV") or "dev"])[0]
    return os.environ.get("AGENT_MESH_EVENT_BUS") or f"{query.get('prefix', [''])[0]}agent-mesh-{env}"


def with_callbacks(definition: Dict[str, Any]) -> Dict[str, Any]:
    """The same state machine with each ECS Task turned into a callback: the Task sends an event
    with its token and the content, and waits for send_task_success."""
    for state in definition["States"].values():
        if state["Type"] == "Task":
            task = state["Parameters"]["TaskDefinition"]
            state["Resource"] = "arn:aws:states:::events:putEvents.waitForTaskToken"
            state["Parameters"] = {"Entries": [{
                "EventBusName": event_bus(), "Source": "content-moderation", "DetailType": task,
                "Detail": {"task_token.$": "$$.Task.Token", "content.$": "$$.Execution.Input"}}]}
    return definition


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    definition = json.loads(DEFINITION.read_text())
    try:
        for name, task in TASKS.items():
            mesh.workflows.register(name, ecs_handler(task))
        print("Tasks: ECS task definitions served by handlers in this process (embedded engine)")
        callbacks: Optional[Subscription] = None
    except Unsupported:
        definition = with_callbacks(definition)
        print("Tasks: callbacks (events:putEvents.waitForTaskToken) served by this process (Step Functions)")
        callbacks = mesh.events.subscribe({"source": ["content-moderation"]})
    mesh.workflows.create("content-moderation", definition)

    for content_id, text in POSTS.items():
        run = mesh.workflows.start("content-moderation", {"content_id": content_id, "text": text})
        while callbacks is not None and run.describe().status == "RUNNING":
            event = callbacks.next(timeout=0.25)
            if event is not None:
                output = TASKS[event.detail_type](event.detail["content"])
                mesh.workflows.send_task_success(event.detail["task_token"], output)
        done = run.wait(timeout=60)
        print(f"workflow content-moderation {content_id} {json.dumps(text)}: {done.status} {json.dumps(done.output)}")

        published = done.output == {"status": "published"}
        stored = mesh.kv.set(f"moderation:{content_id}:result", {
            "status": "approved" if published else "flagged",
            "confidence": 0.95,
            "flags": [] if published else ["policy_violation"],
            "reviewed_at": done.stop_date.isoformat() if done.stop_date else None,
        })
        print(f"stored  {stored.key} = {json.dumps(stored.value)}")
    if callbacks is not None:
        callbacks.close()


if __name__ == "__main__":
    main()
