"""Workflow cases through the Python API (the same ground as core/tests/workflows.rs): Pass and
Choice, the content-moderation example with Python handlers (sync, async, decorator), handler
exceptions caught by name, validation, history, stop, listing, activity workers and task tokens.

Tests taking `any_mesh` run on every backend in AGENT_MESH_TEST_BACKENDS, aws:// included (moto's
executing Step Functions); the rest need the embedded engine (Task handlers registered in this
process). moto has no GetActivityTask: the aws activity worker runs against
tests/aws/fake_sfn_activities.py, a stand-in speaking Step Functions' activity protocol."""

import asyncio
import hashlib
import inspect
import json
import pathlib
import threading
import time
from typing import Any, Dict, List

import pytest

import agent_mesh
from agent_mesh import AsyncMeshClient, InvalidInput, MeshClient, NotFound

import importlib.util
import pathlib

# Loaded by path: when pytest collects several test folders, the module name `conftest` may be
# another folder's conftest.
_spec = importlib.util.spec_from_file_location("agent_mesh_binding_conftest", pathlib.Path(__file__).with_name("conftest.py"))
assert _spec is not None and _spec.loader is not None
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
BACKENDS, open_mesh, url_for = _conftest.BACKENDS, _conftest.open_mesh, _conftest.url_for

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTENT_MODERATION = json.loads((ROOT / "examples" / "workflows" / "content-moderation.json").read_text())
ENGINE_BACKENDS = [b for b in BACKENDS if b != "aws"]
WAIT = 20.0


@pytest.fixture(params=ENGINE_BACKENDS)
def wf_url(request, tmp_path) -> str:
    return url_for(request.param, tmp_path)


@pytest.fixture
def mesh(wf_url: str) -> MeshClient:
    return MeshClient(wf_url)


@pytest.fixture(params=BACKENDS)
def any_mesh(request, tmp_path) -> MeshClient:
    return MeshClient(url_for(request.param, tmp_path))


def finished(run: agent_mesh.ExecutionRef) -> agent_mesh.Execution:
    done = run.wait(timeout=WAIT)
    assert done.status != "RUNNING", f"{run} did not finish within {WAIT} s"
    return done


def sleepy(mesh: MeshClient, name: str = "sleepy") -> None:
    mesh.workflows.create(name, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}})


def eventually(check, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail("the condition did not hold in time")


def test_pass_and_choice_output(any_mesh: MeshClient) -> None:
    mesh = any_mesh
    definition = {
        "StartAt": "Shape",
        "States": {
            "Shape": {"Type": "Pass", "Parameters": {"n.$": "$.n", "who.$": "$.user.name"}, "Next": "Big?"},
            "Big?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
        },
    }
    info = mesh.workflows.create("sizer", definition)
    assert info.name == "sizer" and ":stateMachine:" in info.arn and info.arn.endswith("sizer")
    for n, size in [(42, "big"), (3, "small")]:
        run = mesh.workflows.start("sizer", {"n": n, "user": {"name": "ann"}}, execution_name=f"run-{n}")
        assert run.name == f"run-{n}" and run.arn.endswith(f"sizer:run-{n}")
        done = finished(run)
        assert done.status == "SUCCEEDED", (done.error, done.cause)
        assert done.output == {"n": n, "who": "ann", "size": size}
        assert done.input == {"n": n, "user": {"name": "ann"}}
        assert done.state_machine == "sizer" and done.name == f"run-{n}" and done.arn == run.arn
        assert done.error is None and done.cause is None
        assert done.stop_date is not None and done.start_date <= done.stop_date
        assert mesh.workflows.describe(run.arn).output == done.output
    # A definition given as JSON text, and no input: {}.
    mesh.workflows.create("echo", json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    assert finished(mesh.workflows.start("echo")).output == {}


def test_str_inputs_and_outputs_are_json_text_as_in_node(any_mesh: MeshClient) -> None:
    mesh = any_mesh
    mesh.workflows.create("echo", '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
    assert mesh.workflows.start("echo", '{"n": 1, "tags": ["a"]}').wait().output == {"n": 1, "tags": ["a"]}
    with pytest.raises(InvalidInput, match="input is not valid JSON text"):
        mesh.workflows.start("echo", "not json")


def test_content_moderation_with_sync_handlers_takes_both_branches(mesh: MeshClient) -> None:
    seen: List[Dict[str, Any]] = []

    def extract(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        seen.append(input)
        assert context["State"]["Name"] == "ExtractContent" and context["Task"]["Token"]
        return {"content_id": input["Input"]["content_id"], "words": len(input["Input"]["text"].split())}

    mesh.workflows.register("content-extractor", extract)

    # The policy checker gets only {"TaskDefinition": ...}: it reads the text from the context.
    @mesh.workflows.handler("policy-checker")
    def check_policy(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        assert input == {"TaskDefinition": "policy-checker"}
        text = context["Execution"]["Input"]["text"]
        return {"policy_result": "unsafe" if "spam" in text else "safe"}

    assert callable(check_policy) and check_policy.__name__ == "check_policy"
    mesh.workflows.create("content-moderation", CONTENT_MODERATION)
    for text, status in [("hello world", "published"), ("buy spam now", "flagged")]:
        run = mesh.workflows.start("content-moderation", {"content_id": "c1", "text": text})
        done = finished(run)
        assert done.status == "SUCCEEDED", (done.error, done.cause)
        assert done.output == {"status": status}
        types = [e.type for e in run.history()]
        assert types.count("TaskSucceeded") == 2 and "ChoiceStateExited" in types
    assert [s["TaskDefinition"] for s in seen] == ["content-extractor", "content-extractor"]
    assert seen[0]["Input"] == {"content_id": "c1", "text": "hello world"}


def test_async_handlers(mesh: MeshClient) -> None:
    async def extract(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        await asyncio.sleep(0.01)
        return {"words": len(input["Input"]["text"].split())}

    @mesh.workflows.handler("policy-checker")
    async def check_policy(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        await asyncio.sleep(0)
        return {"policy_result": "safe" if "ok" in context["Execution"]["Input"]["text"] else "unsafe"}

    mesh.workflows.register("content-extractor", extract)
    mesh.workflows.create("content-moderation", json.dumps(CONTENT_MODERATION))
    runs = [mesh.workflows.start("content-moderation", {"content_id": f"c{i}", "text": t})
            for i, t in enumerate(["ok fine", "nope", "ok"])]
    assert [finished(r).output for r in runs] == [{"status": "published"}, {"status": "flagged"}, {"status": "published"}]


def test_async_client_runs_async_handlers_on_its_loop(wf_url: str) -> None:
    async def main() -> None:
        mesh = AsyncMeshClient(wf_url)
        loop_thread = threading.get_ident()
        threads = []

        async def double(input: Dict[str, Any], context: Dict[str, Any]) -> int:
            threads.append(threading.get_ident())
            await asyncio.sleep(0.01)
            return input["n"] * 2

        @mesh.workflows.handler("sync-plus-one")
        def plus_one(input: int, context: Dict[str, Any]) -> int:
            threads.append(threading.get_ident())
            return input + 1

        await mesh.workflows.register("double", double)
        await mesh.workflows.create("calc", {"StartAt": "D", "States": {
            "D": {"Type": "Task", "Resource": "double", "Next": "P"},
            "P": {"Type": "Task", "Resource": "sync-plus-one", "End": True}}})
        run = await mesh.workflows.start("calc", {"n": 20}, execution_name="calc-1")
        assert isinstance(run, agent_mesh.AsyncExecutionRef) and run.name == "calc-1"
        done = await run.wait(timeout=WAIT)
        assert (done.status, done.output) == ("SUCCEEDED", 41)
        assert (await mesh.workflows.wait(run.arn)).output == 41
        assert [e.type for e in await run.history()][-1] == "ExecutionSucceeded"
        # The coroutine ran on this loop; the sync handler in a handler thread.
        assert threads[0] == loop_thread and threads[1] != loop_thread
        page = await mesh.workflows.list_executions("calc", status="SUCCEEDED")
        assert [e.name for e in page.items] == ["calc-1"]

    asyncio.run(main())


def test_handlers_may_use_the_mesh_and_run_in_parallel(mesh: MeshClient) -> None:
    mesh.workflows.create("child", {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "child-done", "End": True}}})

    def parent(input: Dict[str, Any], context: Dict[str, Any]) -> Any:
        # The blocking API works inside a handler, even waiting for another execution.
        mesh.kv.set("seen", input)
        return mesh.workflows.start("child").wait(timeout=WAIT).output

    def slow(input: int, context: Dict[str, Any]) -> int:
        time.sleep(0.3)
        return input * 2

    mesh.workflows.register("parent", parent)
    mesh.workflows.register("slow", slow)
    mesh.workflows.create("outer", {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "parent", "End": True}}})
    assert finished(mesh.workflows.start("outer", {"k": 1})).output == "child-done"
    assert mesh.kv.get("seen").value == {"k": 1}
    mesh.workflows.create("fan-out", {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": True,
        "ItemProcessor": {"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "slow", "End": True}}}}}})
    started = time.monotonic()
    done = finished(mesh.workflows.start("fan-out", {"items": list(range(10))}))
    assert done.output == [i * 2 for i in range(10)]
    assert time.monotonic() - started < 2.5, "ten 0.3 s handlers should run concurrently"


class PolicyViolation(Exception):
    pass


class NamedError(Exception):
    error = "Moderation.Rejected"


def test_handler_exceptions_are_caught_by_name(mesh: MeshClient) -> None:
    def violate(input: Any, context: Any) -> None:
        raise PolicyViolation(f"banned word in {input['id']}")

    def named(input: Any, context: Any) -> None:
        raise NamedError("rejected by the named handler")

    def not_json(input: Any, context: Any) -> Any:
        return {"when": object()}

    mesh.workflows.register("violate", violate)
    mesh.workflows.register("named", named)
    mesh.workflows.register("not-json", not_json)
    mesh.workflows.create("guarded", {"StartAt": "V", "States": {
        "V": {"Type": "Task", "Resource": "violate", "ResultPath": None, "Next": "N",
              "Catch": [{"ErrorEquals": ["PolicyViolation"], "ResultPath": "$.violation", "Next": "N"}]},
        "N": {"Type": "Task", "Resource": "named", "End": True,
              "Catch": [{"ErrorEquals": ["Moderation.Rejected"], "ResultPath": "$.named", "Next": "Done"}]},
        "Done": {"Type": "Pass", "End": True}}})
    done = finished(mesh.workflows.start("guarded", {"id": "doc-1"}))
    assert done.status == "SUCCEEDED", (done.error, done.cause)
    assert done.output == {
        "id": "doc-1",
        "violation": {"Error": "PolicyViolation", "Cause": "banned word in doc-1"},
        "named": {"Error": "Moderation.Rejected", "Cause": "rejected by the named handler"},
    }
    # Uncaught: the execution fails with the exception's name; a result that is not JSON fails too.
    mesh.workflows.create("unguarded", {"StartAt": "V", "States": {"V": {"Type": "Task", "Resource": "violate", "End": True}}})
    done = finished(mesh.workflows.start("unguarded", {"id": "doc-2"}))
    assert (done.status, done.error, done.cause) == ("FAILED", "PolicyViolation", "banned word in doc-2")
    mesh.workflows.create("bad-result", {"StartAt": "V", "States": {"V": {"Type": "Task", "Resource": "not-json", "End": True}}})
    done = finished(mesh.workflows.start("bad-result"))
    assert (done.status, done.error) == ("FAILED", "InvalidInput")
    assert "not JSON" in done.cause


def test_a_python_handler_over_timeout_seconds_fails_with_states_timeout(mesh: MeshClient) -> None:
    def slow(input: Any, context: Any) -> str:
        time.sleep(input["sleep"])
        return "woke"

    mesh.workflows.register("slow", slow)
    mesh.workflows.create("timed", {"StartAt": "Slow", "States": {
        "Slow": {"Type": "Task", "Resource": "slow", "TimeoutSecondsPath": "$.limit",
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.err", "Next": "Late"}], "End": True},
        "Late": {"Type": "Pass", "End": True}}})
    late = finished(mesh.workflows.start("timed", {"sleep": 2.5, "limit": 1}))
    assert late.status == "SUCCEEDED", (late.error, late.cause)
    assert late.output["err"]["Error"] == "States.Timeout"
    assert "'Slow'" in late.output["err"]["Cause"]
    assert "TaskTimedOut" in [e.type for e in mesh.workflows.history(late.arn)]
    assert finished(mesh.workflows.start("timed", {"sleep": 0.01, "limit": 5})).output == "woke"


def test_s3_integrations_read_and_write_the_mesh_artifacts(mesh: MeshClient) -> None:
    mesh.workflows.create("objects", {"StartAt": "Put", "States": {
        "Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                "Parameters": {"Bucket": "agent-mesh-dev-artifacts", "Key": "notes/a.txt", "Body.$": "$.body", "ContentType": "text/plain"},
                "ResultPath": None, "Next": "Get"},
        "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": "agent-mesh-dev-artifacts", "Key": "notes/a.txt"},
                "ResultSelector": {"body.$": "$.Body", "type.$": "$.ContentType"}, "End": True}}})
    done = finished(mesh.workflows.start("objects", {"body": "from python"}))
    assert done.output == {"body": "from python", "type": "text/plain"}, (done.error, done.cause)
    stored = mesh.artifacts.get("notes/a.txt")
    assert (stored.data, stored.meta.content_type) == (b"from python", "text/plain")


def test_task_without_handler_fails_naming_the_resource(mesh: MeshClient) -> None:
    mesh.workflows.create("orphan", {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "summarise", "End": True}}})
    done = finished(mesh.workflows.start("orphan", {}))
    assert (done.status, done.error) == ("FAILED", "States.TaskFailed")
    assert "'summarise'" in done.cause


def test_invalid_definitions_raise_invalid_input(any_mesh: MeshClient) -> None:
    mesh = any_mesh
    with pytest.raises(InvalidInput, match="Greet") as raised:
        mesh.workflows.create("bad", {"StartAt": "Greet", "States": {"Greet": {"Type": "Pass", "Next": "Nowhere"}}})
    assert "/States/Greet/Next" in raised.value.message and raised.value.kind == "InvalidInput"
    with pytest.raises(InvalidInput):
        mesh.workflows.create("bad", "{not json")
    with pytest.raises(InvalidInput):
        mesh.workflows.create("bad name!", {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    with pytest.raises(NotFound):
        mesh.workflows.start("never-created", {})
    with pytest.raises(InvalidInput, match="status"):
        mesh.workflows.list_executions("bad", status="DONE")
    with pytest.raises(InvalidInput, match="callable"):
        mesh.workflows.register("x", "not a function")  # type: ignore[arg-type]


def test_history_event_types_in_order(mesh: MeshClient) -> None:
    mesh.workflows.register("shout", lambda input, context: input["word"].upper())
    mesh.workflows.create("history", {"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Next": "Shout"},
        "Shout": {"Type": "Task", "Resource": "shout", "End": True}}})
    run = mesh.workflows.start("history", {"word": "hi"})
    assert finished(run).output == "HI"
    events = mesh.workflows.history(run.arn)
    assert [e.type for e in events] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[0].previous_event_id == 0 and all(e.previous_event_id == e.id - 1 for e in events[1:])
    assert all(a.timestamp <= b.timestamp for a, b in zip(events, events[1:]))
    assert events[1].details["name"] == "Prepare"
    assert json.loads(events[-1].details["output"]) == "HI"


def test_history_lists_events_in_order(any_mesh: MeshClient, request) -> None:
    mesh = any_mesh
    on_moto = request.node.callspec.params["any_mesh"] == "aws"
    mesh.workflows.create("router", {"StartAt": "Stamp", "States": {
        "Stamp": {"Type": "Pass", "Result": {"by": "pass"}, "ResultPath": "$.stamp", "Next": "Size"},
        "Size": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}],
                 "Default": "Small"},
        "Big": {"Type": "Pass", "End": True},
        "Small": {"Type": "Pass", "End": True}}})
    run = mesh.workflows.start("router", {"n": 1})
    assert finished(run).status == "SUCCEEDED"
    events = run.history()
    assert [e.type for e in events] == [
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ChoiceStateExited",
        "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    assert [e.id for e in events] == list(range(1, 9))
    if not on_moto:  # moto reports previousEventId 0 for every event
        assert [e.previous_event_id for e in events] == list(range(0, 8))
    assert all(a.timestamp <= b.timestamp for a, b in zip(events, events[1:]))
    assert (events[1].details["name"], events[5].details["name"]) == ("Stamp", "Small")


def test_wait_timeout_and_stop(any_mesh: MeshClient, request) -> None:
    mesh = any_mesh
    # moto's DescribeExecution drops StopExecution's error and cause (Step Functions records
    # them in the ExecutionAborted event); the embedded engine keeps them.
    on_moto = request.node.callspec.params["any_mesh"] == "aws"
    sleepy(mesh)
    run = mesh.workflows.start("sleepy", {"i": 1})
    started = time.monotonic()
    assert run.wait(timeout=0.3).status == "RUNNING"
    assert 0.25 <= time.monotonic() - started < 5
    assert run.describe().status == "RUNNING"
    stopped = run.stop(error="Manual", cause="stopped by the test")
    assert stopped.status == "ABORTED"
    if not on_moto:
        assert (stopped.error, stopped.cause) == ("Manual", "stopped by the test")
    assert run.wait().status == "ABORTED"
    assert run.history()[-1].type == "ExecutionAborted"
    other = mesh.workflows.start("sleepy", {"i": 2})
    assert mesh.workflows.stop(other.arn).status == "ABORTED"
    assert mesh.workflows.describe(other.arn).error is None


def test_list_executions_pages(any_mesh: MeshClient) -> None:
    mesh = any_mesh
    sleepy(mesh)
    arns = [mesh.workflows.start("sleepy", {"i": i}, execution_name=f"run-{i}").arn for i in range(5)]
    mesh.workflows.stop(arns[0])
    seen, cursor = [], None
    while True:
        page = mesh.workflows.list_executions("sleepy", limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [e.name for e in seen] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert all(isinstance(e, agent_mesh.Execution) and e.state_machine == "sleepy" for e in seen)
    aborted = mesh.workflows.list_executions("sleepy", "ABORTED")
    assert [e.arn for e in aborted.items] == [arns[0]] and aborted.next_cursor is None
    running = mesh.workflows.list_executions("sleepy", status="RUNNING")
    assert len(running.items) == 4
    for arn in arns[1:]:
        mesh.workflows.stop(arn)


def test_activity_served_by_a_worker(mesh: MeshClient) -> None:
    handled = []

    def review(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        handled.append((threading.current_thread() is threading.main_thread(), context["Task"]["Token"]))
        if input["score"] < 0:
            raise PolicyViolation("negative score")
        return {"approved": input["score"] > 5}

    arn = mesh.workflows.create_activity("review")
    assert arn.endswith(":activity:review")
    # The definition names the activity with a real AWS ARN: matched by name.
    mesh.workflows.create("activity", {"StartAt": "Review", "States": {"Review": {
        "Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:review", "End": True}}})
    with mesh.workflows.worker("review", review) as worker:
        assert worker.running
        assert finished(mesh.workflows.start("activity", {"score": 9})).output == {"approved": True}
        done = finished(mesh.workflows.start("activity", {"score": -1}))
        assert (done.status, done.error, done.cause) == ("FAILED", "PolicyViolation", "negative score")
    assert not worker.running
    assert len(handled) == 2 and not any(on_main for on_main, _ in handled) and all(t for _, t in handled)
    # Stopped: a new task waits for a worker.
    run = mesh.workflows.start("activity", {"score": 1})
    assert run.wait(timeout=0.5).status == "RUNNING"
    with mesh.workflows.worker(arn, review):  # by ARN
        assert finished(run).output == {"approved": False}


def callback_definition(payload: Dict[str, Any]) -> Dict[str, Any]:
    return {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify", "Payload": payload}, "End": True}}}


def test_registered_handlers_heartbeat_with_their_task_token(mesh: MeshClient) -> None:
    beats: List[str] = []

    def slow(input: Dict[str, Any], context: Dict[str, Any]) -> str:
        for _ in range(6):
            time.sleep(0.3)
            if input["beat"]:
                mesh.workflows.send_task_heartbeat(context["Task"]["Token"])
                beats.append(context["Task"]["Token"])
        return "done"

    mesh.workflows.register("slow", slow)
    mesh.workflows.create("beating", {"StartAt": "Slow", "States": {"Slow": {
        "Type": "Task", "Resource": "slow", "HeartbeatSeconds": 1, "End": True}}})
    done = finished(mesh.workflows.start("beating", {"beat": True}))
    assert (done.status, done.output, len(beats)) == ("SUCCEEDED", "done", 6), (done.error, done.cause)
    done = finished(mesh.workflows.start("beating", {"beat": False}))
    assert (done.status, done.error) == ("FAILED", "States.HeartbeatTimeout")
    with pytest.raises(NotFound):  # the handler has ended: its token takes no more heartbeats
        mesh.workflows.send_task_heartbeat(beats[0])


def test_wait_for_task_token_completed_from_python(mesh: MeshClient) -> None:
    tokens: List[str] = []

    def notify(input: Dict[str, Any], context: Dict[str, Any]) -> None:
        assert input == {"question": "publish?"}
        tokens.append(context["Task"]["Token"])  # hands the token on, e.g. to a human

    mesh.workflows.register("notify", notify)
    mesh.workflows.create("callback", callback_definition({"question": "publish?"}))
    run = mesh.workflows.start("callback", {})
    token = eventually(lambda: tokens[0] if tokens else None)
    assert run.describe().status == "RUNNING"
    mesh.workflows.send_task_heartbeat(token)
    mesh.workflows.send_task_success(token, {"answer": "yes"})
    assert finished(run).output == {"answer": "yes"}
    with pytest.raises(agent_mesh.Conflict):
        mesh.workflows.send_task_success(token, 1)
    with pytest.raises(NotFound):
        mesh.workflows.send_task_success("no-such-token", 1)
    run = mesh.workflows.start("callback", {})
    token = eventually(lambda: tokens[1] if len(tokens) > 1 else None)
    mesh.workflows.send_task_failure(token, "Human.Rejected", "said no")
    done = finished(run)
    assert (done.status, done.error, done.cause) == ("FAILED", "Human.Rejected", "said no")


def test_task_token_passed_through_parameters(mesh: MeshClient) -> None:
    tokens: List[str] = []
    mesh.workflows.register("notify", lambda input, context: tokens.append(input["token"]))
    mesh.workflows.create("callback", callback_definition({"token.$": "$$.Task.Token"}))
    run = mesh.workflows.start("callback", {})
    token = eventually(lambda: tokens[0] if tokens else run.describe().status != "RUNNING", timeout=5)
    assert tokens, run.describe().cause
    mesh.workflows.send_task_success(token, {"answer": "yes"})
    assert finished(run).output == {"answer": "yes"}


def test_async_workflows_mirror_the_sync_methods() -> None:
    sync_methods = {n for n in dir(agent_mesh.Workflows) if not n.startswith("_")}
    for name in sync_methods:
        method = getattr(agent_mesh.AsyncWorkflows, name)
        assert inspect.iscoroutinefunction(method) is (name != "handler"), name
        sync_params = list(inspect.signature(getattr(agent_mesh.Workflows, name)).parameters)
        assert list(inspect.signature(method).parameters) == sync_params, name
    for name in ("wait", "describe", "history", "stop"):
        assert inspect.iscoroutinefunction(getattr(agent_mesh.AsyncExecutionRef, name)), name


@pytest.mark.skipif("aws" not in BACKENDS, reason="AGENT_MESH_TEST_BACKENDS does not select aws")
def test_aws_register_is_unsupported_and_says_what_to_use(tmp_path) -> None:
    mesh = MeshClient(url_for("aws", tmp_path))
    with pytest.raises(agent_mesh.Unsupported, match="worker"):
        mesh.workflows.register("fn", lambda input, context: input)


def _fake_step_functions():
    spec = importlib.util.spec_from_file_location("fake_sfn_activities", ROOT / "tests" / "aws" / "fake_sfn_activities.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.serve()


def _post(url: str, body: Dict[str, Any]) -> Dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _requests(base: str) -> List[Dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(f"{base}/test/requests", timeout=10) as response:
        return json.loads(response.read())["requests"]


def test_aws_activity_worker_speaks_the_step_functions_protocol() -> None:
    server = _fake_step_functions()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    activity = "arn:aws:states:us-east-1:123456789012:activity:review"
    try:
        mesh = MeshClient(f"aws://?region=us-east-1&endpoint={base}")

        def review(input: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
            if input["score"] < 0:
                raise PolicyViolation("negative score")
            mesh.workflows.send_task_heartbeat(context["Task"]["Token"])
            return {"approved": input["score"] > 5}

        good = _post(f"{base}/test/tasks", {"activityArn": activity, "input": json.dumps({"score": 9})})["taskToken"]
        bad = _post(f"{base}/test/tasks", {"activityArn": activity, "input": json.dumps({"score": -1})})["taskToken"]
        with mesh.workflows.worker(activity, review):
            eventually(lambda: sum(r["action"].startswith("SendTask") for r in _requests(base)) >= 3)
        sent = [(r["action"], r["body"]) for r in _requests(base) if r["action"] != "GetActivityTask"]
        assert sent[0] == ("SendTaskHeartbeat", {"taskToken": good})
        assert sent[1][0] == "SendTaskSuccess" and sent[1][1]["taskToken"] == good
        assert json.loads(sent[1][1]["output"]) == {"approved": True}
        assert sent[2] == ("SendTaskFailure", {"taskToken": bad, "error": "PolicyViolation", "cause": "negative score"})
        polls = [r["body"] for r in _requests(base) if r["action"] == "GetActivityTask"]
        assert polls and all(p["activityArn"] == activity and p["workerName"] for p in polls)
        # A token Step Functions no longer knows is NotFound, naming it by its fingerprint only
        # (a task token is a credential; Step Functions' own message quotes it).
        fingerprint = "task token sha256:" + hashlib.sha256(good.encode()).hexdigest()[:8]
        with pytest.raises(NotFound, match=fingerprint) as raised:
            mesh.workflows.send_task_success(good, {"again": True})
        assert good not in f"{raised.value} {raised.value.context}"
    finally:
        server.shutdown()
