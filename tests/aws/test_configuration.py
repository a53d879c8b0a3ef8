"""Configuration of an aws:// mesh from the environment, as a new process sees it: no URL given
(`AGENT_MESH_URL`), no endpoint in the URL (`AWS_ENDPOINT_URL`), and the resource names from
`AGENT_MESH_KV_TABLE`, `AGENT_MESH_ARTIFACTS_BUCKET`, `AGENT_MESH_TIMELINE_TABLE`,
`AGENT_MESH_EVENT_BUS`; `AGENT_MESH_ENV` names the rest. The resources are then looked up
with boto3 under exactly those names."""

import json
import os
import subprocess
import sys
import uuid

import boto3

from moto_env import moto_endpoint

ENDPOINT = moto_endpoint()

CHILD = """
from agent_mesh import MeshClient
mesh = MeshClient()
mesh.provision()
mesh.provision()  # idempotent
mesh.kv.set("configured", {"by": "environment"})
mesh.artifacts.put("configured.txt", b"from the environment", content_type="text/plain")
mesh.timeline.append("config/check", {"ok": True})
mesh.workflows.create("configured", {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
print("done")
"""


def test_names_and_endpoint_come_from_the_environment() -> None:
    tag = uuid.uuid4().hex[:8]
    names = {
        "AGENT_MESH_KV_TABLE": f"cfg{tag}-memory",
        "AGENT_MESH_ARTIFACTS_BUCKET": f"cfg{tag}-files",
        "AGENT_MESH_TIMELINE_TABLE": f"cfg{tag}-history",
        "AGENT_MESH_EVENT_BUS": f"cfg{tag}-bus",
        "AGENT_MESH_ENV": f"stage{tag}",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_MESH_")}
    env.update(names, AGENT_MESH_URL="aws://?region=us-east-1", AWS_ENDPOINT_URL=ENDPOINT)
    child = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0 and child.stdout.strip() == "done", child.stderr

    session = boto3.session.Session(region_name="us-east-1")
    ddb = session.client("dynamodb", endpoint_url=ENDPOINT)
    item = ddb.get_item(TableName=names["AGENT_MESH_KV_TABLE"], Key={"key": {"S": "configured"}}, ConsistentRead=True)["Item"]
    assert json.loads(item["value"]["S"]) == {"by": "environment"}
    timeline = ddb.scan(TableName=names["AGENT_MESH_TIMELINE_TABLE"])["Items"]
    assert timeline and {i["stream"]["S"] for i in timeline} == {"config/check"}, "the entry's rows (one per path level)"
    s3 = session.client("s3", endpoint_url=ENDPOINT)
    body = s3.get_object(Bucket=names["AGENT_MESH_ARTIFACTS_BUCKET"], Key="configured.txt")["Body"].read()
    assert body == b"from the environment"
    buses = session.client("events", endpoint_url=ENDPOINT).list_event_buses(NamePrefix=f"cfg{tag}")["EventBuses"]
    assert [b["Name"] for b in buses] == [names["AGENT_MESH_EVENT_BUS"]]
    pages = session.client("stepfunctions", endpoint_url=ENDPOINT).get_paginator("list_state_machines").paginate()
    machines = [m["name"] for page in pages for m in page["stateMachines"]]
    assert f"agent-mesh-stage{tag}-configured" in machines, "AGENT_MESH_ENV names the state machine"
