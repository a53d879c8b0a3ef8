"""Runs the ASL conformance corpus (tests/asl/corpus/*.json) on moto's executing Step Functions.

Each corpus file is one case:

    {
      "comment": "what it checks and the AWS doc page / section the expected result comes from",
      "definition": {...ASL...},          # "${KV_TABLE}" stands for the DynamoDB table of the KV store
      "input": ...,                       # execution input (any JSON value)
      "expected": {"status": "SUCCEEDED", "output": ...}
               or {"status": "FAILED", "error": "States.Runtime", "cause_contains": "optional substring"},
      "moto": true,                       # false when moto cannot run the case (moto_note says why)
      "moto_note": "...",                 # why moto cannot run it / how moto differs
      "moto_expected": {...},             # only where moto differs from the documented result: what moto returns
      "moto_observed": {...},             # moto=false only: how moto fails the case instead (checked below, so a
                                          # moto that learns the case makes the test fail and the case move to moto=true)
      "state_machine_name": "..."         # optional: the case reads $$.StateMachine.Name, so the runner must use this name
    }

"expected" is always the documented AWS behaviour. moto_expected may use "output_raw" (the exact
DescribeExecution output text, for moto's non-JSON string outputs) instead of "output", and may leave
both out (then only status/error/cause are checked).

Run through tests/with-moto.sh, which starts a patched moto server and exports its endpoint:

    tests/with-moto.sh .venv/bin/python -m pytest -q tests/asl/test_corpus_moto.py

The endpoint is AWS_ENDPOINT_URL if set, else AGENT_MESH_TEST_AWS_ENDPOINT (tests/aws/moto_env.py).
"""

import json
import os
import re
import socket
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "aws"))
from moto_env import moto_endpoint  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "corpus"
KV_TABLE = "corpus-kv"
ROLE_ARN = "arn:aws:iam::123456789012:role/corpus"
EXECUTION_TIMEOUT_S = 30.0
CASE_FILE = re.compile(r"^(\d{3})-[a-z0-9]+(-[a-z0-9]+)*\.json$")


def _load_cases() -> list[tuple[str, dict]]:
    return [(p.name, json.loads(p.read_text())) for p in sorted(CORPUS.glob("*.json"))]


CASES = _load_cases()
MOTO_CASES = [(name, case) for name, case in CASES if case.get("moto") is True]
OFF_MOTO_CASES = [(name, case) for name, case in CASES if case.get("moto") is False]


def _uses_kv(case: dict) -> bool:
    return "${KV_TABLE}" in json.dumps(case["definition"])


def _endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or moto_endpoint()


# --- moto session ----------------------------------------------------------------------------------


class _Forwarder:
    """Forwards a loopback port to the moto endpoint.

    moto's Step Functions calls DynamoDB at http://localhost:$MOTO_PORT (default 5000) of its own
    process; tests/with-moto.sh does not export MOTO_PORT to the server, so without this the
    DynamoDB tasks fail with 'Could not connect to the endpoint URL'.
    """

    def __init__(self, listen_port: int, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", listen_port))
        self.server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


class MotoSfn:
    def __init__(self, endpoint: str):
        import boto3

        kwargs = dict(
            endpoint_url=endpoint,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        )
        self.endpoint = endpoint
        self.sfn = boto3.client("stepfunctions", **kwargs)
        self.ddb = boto3.client("dynamodb", **kwargs)
        self.kv_ready = False
        self.forwarder: _Forwarder | None = None
        req = urllib.request.Request(
            endpoint.rstrip("/") + "/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            resp.read()

    def run(self, definition: dict, execution_input, name: str | None = None) -> dict:
        text = json.dumps(definition).replace("${KV_TABLE}", KV_TABLE)
        sm_name = name or f"corpus-{uuid.uuid4().hex[:12]}"
        arn = self.sfn.create_state_machine(name=sm_name, definition=text, roleArn=ROLE_ARN)["stateMachineArn"]
        try:
            execution = self.sfn.start_execution(
                stateMachineArn=arn, name=uuid.uuid4().hex, input=json.dumps(execution_input)
            )["executionArn"]
            deadline = time.monotonic() + EXECUTION_TIMEOUT_S
            while True:
                desc = self.sfn.describe_execution(executionArn=execution)
                if desc["status"] != "RUNNING":
                    return desc
                if time.monotonic() > deadline:
                    raise AssertionError(f"execution still RUNNING after {EXECUTION_TIMEOUT_S}s")
                time.sleep(0.1)
        finally:
            self.sfn.delete_state_machine(stateMachineArn=arn)

    def ensure_kv(self) -> None:
        if self.kv_ready:
            return
        try:
            self.ddb.create_table(
                TableName=KV_TABLE,
                KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except self.ddb.exceptions.ResourceInUseException:
            pass
        self.ddb.get_waiter("table_exists").wait(TableName=KV_TABLE)
        self._ensure_sfn_reaches_dynamodb()
        self.kv_ready = True

    def _ensure_sfn_reaches_dynamodb(self) -> None:
        probe = {
            "StartAt": "Get",
            "States": {
                "Get": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "${KV_TABLE}", "Key": {"key": {"S": "corpus-probe"}}},
                    "End": True,
                }
            },
        }
        desc = self.run(probe, {})
        if desc["status"] == "SUCCEEDED":
            return
        cause = desc.get("cause", "")
        match = re.search(r'Could not connect to the endpoint URL: "(http://[^"]+)"', cause)
        assert match, f"moto's Step Functions cannot call DynamoDB: {desc.get('error')}: {cause}"
        wanted = urlparse(match.group(1))
        target = urlparse(self.endpoint)
        self.forwarder = _Forwarder(wanted.port or 80, target.hostname, target.port or 80)
        desc = self.run(probe, {})
        assert desc["status"] == "SUCCEEDED", f"DynamoDB still unreachable from moto: {desc.get('cause')}"

    def close(self) -> None:
        if self.forwarder:
            self.forwarder.close()


@pytest.fixture(scope="module")
def moto_sfn():
    session = MotoSfn(_endpoint())
    yield session
    session.close()


# --- the cases -------------------------------------------------------------------------------------


def _check(desc: dict, expected: dict) -> None:
    status = desc["status"]
    got = {k: desc.get(k) for k in ("status", "error", "cause", "output")}
    assert status == expected["status"], f"status {status}, expected {expected['status']}: {got}"
    if "output" in expected:
        raw = desc.get("output")
        assert raw is not None, f"no output: {got}"
        try:
            output = json.loads(raw)
        except ValueError:
            pytest.fail(f"execution output is not JSON: {raw!r}")
        assert output == expected["output"]
    if "output_raw" in expected:
        assert desc.get("output") == expected["output_raw"]
    if "error" in expected:
        assert desc.get("error") == expected["error"], f"error {desc.get('error')!r}: {got}"
    if "cause_contains" in expected:
        assert expected["cause_contains"] in (desc.get("cause") or ""), f"cause {desc.get('cause')!r}"


@pytest.mark.parametrize("name,case", MOTO_CASES, ids=[name[:-5] for name, _ in MOTO_CASES])
def test_case_on_moto(moto_sfn: MotoSfn, name: str, case: dict) -> None:
    if _uses_kv(case):
        moto_sfn.ensure_kv()
    desc = moto_sfn.run(case["definition"], case["input"], case.get("state_machine_name"))
    _check(desc, case.get("moto_expected", case["expected"]))


@pytest.mark.parametrize("name,case", OFF_MOTO_CASES, ids=[name[:-5] for name, _ in OFF_MOTO_CASES])
def test_case_moto_cannot_run_fails_there_as_recorded(moto_sfn: MotoSfn, name: str, case: dict) -> None:
    """The cases moto cannot run are run on moto too: moto fails them the way `moto_observed`
    records (the documented result in `expected` is what the engine is checked against), so
    none is left out silently."""
    observed = case["moto_observed"]
    if "create_error_contains" in observed:
        with pytest.raises(Exception) as refused:
            moto_sfn.run(case["definition"], case["input"], case.get("state_machine_name"))
        assert observed["create_error_contains"] in str(refused.value)
        return
    desc = moto_sfn.run(case["definition"], case["input"], case.get("state_machine_name"))
    _check(desc, observed)
    documented = case["expected"]
    assert (desc["status"], desc.get("error")) != (documented["status"], documented.get("error")), (
        f"{name}: moto now gives the documented status and error; run the case on moto (moto: true)")


# --- the corpus itself -----------------------------------------------------------------------------

INTRINSICS = [
    "States.Format", "States.StringToJson", "States.JsonToString", "States.Array(", "States.ArrayPartition",
    "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem", "States.ArrayLength", "States.ArrayUnique",
    "States.Base64Encode", "States.Base64Decode", "States.Hash", "States.JsonMerge", "States.MathRandom",
    "States.MathAdd", "States.StringSplit", "States.UUID",
]
HASH_ALGORITHMS = ["'MD5'", "'SHA-1'", "'SHA-256'", "'SHA-384'", "'SHA-512'"]
COMPARISONS = [
    f"{family}{op}{suffix}"
    for family, ops in [
        ("String", ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"]),
        ("Numeric", ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"]),
        ("Boolean", ["Equals"]),
        ("Timestamp", ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"]),
    ]
    for op in ops
    for suffix in ("", "Path")
] + ["StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp", "And", "Or", "Not"]
FEATURES = [
    # state types and input/output processing
    '"Type": "Pass"', '"Type": "Task"', '"Type": "Choice"', '"Type": "Wait"', '"Type": "Succeed"', '"Type": "Fail"',
    '"Type": "Parallel"', '"Type": "Map"', '"Result":', '"ResultPath": "$"', '"ResultPath": null', '"InputPath": null',
    '"OutputPath": null', '"InputPath":', '"OutputPath":', '"Parameters":', '"ResultSelector":', '"Default":',
    '"$$.Execution.Input"', '"$$.State.Name"', '"$$.StateMachine.Name"', '"$$.Map.Item.Value"', '"$$.Map.Item.Index"',
    '"Seconds": 1', '"SecondsPath":', '"Timestamp":', '"TimestampPath":', '"ErrorPath":', '"CausePath":',
    # Map and Parallel
    '"Branches":', '"ItemsPath":', '"ItemSelector":', '"ItemProcessor":', '"Iterator":', '"MaxConcurrency": 1',
    '"ToleratedFailurePercentage":', '"ToleratedFailureCount":', '"Mode": "DISTRIBUTED"',
    # errors
    '"Retry":', '"Catch":', '"MaxAttempts": 0', '"States.ALL"', '"States.Runtime"',
    # DynamoDB
    "arn:aws:states:::dynamodb:putItem", "arn:aws:states:::dynamodb:getItem", "arn:aws:states:::dynamodb:deleteItem",
    "${KV_TABLE}",
    # variables and JSONata
    '"Assign":', '"QueryLanguage": "JSONata"', '"Arguments":', '"Output":', "$states.input", "$states.context",
    "$states.result", "$states.errorOutput", '"Condition":', '"Items":', "$partition(", "$range(", "$hash(", "$uuid(",
    "$random(", "$parse(",
]
EXPECTED_ERRORS = [
    "States.NoChoiceMatched", "States.Runtime", "States.IntrinsicFailure", "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold", "States.ResultPathMatchFailure", "States.QueryEvaluationError",
]


def _validate_expectation(where: str, exp: dict, *, moto: bool) -> None:
    assert exp.get("status") in ("SUCCEEDED", "FAILED"), f"{where}: status"
    if exp["status"] == "SUCCEEDED":
        assert "error" not in exp and "cause_contains" not in exp, f"{where}: error fields on success"
        if not moto:
            assert "output" in exp, f"{where}: SUCCEEDED needs output"
    else:
        assert "output" not in exp and "output_raw" not in exp, f"{where}: output on failure"
        if not moto:
            assert isinstance(exp.get("error"), str), f"{where}: FAILED needs error"
    allowed = {"status", "output", "error", "cause_contains"} | ({"output_raw"} if moto else set())
    assert set(exp) <= allowed, f"{where}: unexpected keys {set(exp) - allowed}"


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 60, f"only {len(CASES)} cases"
    numbers = []
    for name, case in CASES:
        match = CASE_FILE.match(name)
        assert match, f"{name}: file name must be NNN-short-name.json"
        numbers.append(int(match.group(1)))
        assert {"comment", "definition", "input", "expected", "moto"} <= set(case), f"{name}: missing keys"
        assert set(case) <= {"comment", "definition", "input", "expected", "moto", "moto_note", "moto_expected", "moto_observed",
                             "state_machine_name"}, name
        assert isinstance(case["comment"], str) and "http" in case["comment"], f"{name}: comment must cite a doc page"
        definition = case["definition"]
        assert isinstance(definition, dict) and "StartAt" in definition and definition["StartAt"] in definition["States"], name
        assert isinstance(case["moto"], bool), name
        _validate_expectation(f"{name} expected", case["expected"], moto=False)
        if "moto_expected" in case:
            assert case["moto"], f"{name}: moto_expected on a case moto does not run"
            _validate_expectation(f"{name} moto_expected", case["moto_expected"], moto=True)
        if not case["moto"] or "moto_expected" in case:
            assert case.get("moto_note"), f"{name}: moto=false / moto_expected needs a moto_note"
        if not case["moto"]:
            observed = case.get("moto_observed")
            assert isinstance(observed, dict), f"{name}: moto=false needs moto_observed (how moto fails it)"
            if "create_error_contains" not in observed:
                _validate_expectation(f"{name} moto_observed", observed, moto=True)
        else:
            assert "moto_observed" not in case, f"{name}: moto_observed on a case moto runs"
        text = json.dumps(definition)
        if "JSONata" in text:
            assert not case["moto"], f"{name}: moto does not evaluate JSONata"
        for resource in re.findall(r'"Resource": "([^"]+)"', text):
            assert resource.startswith("arn:aws:states:::dynamodb:"), f"{name}: Task resource {resource} not allowed"
        for seconds in re.findall(r'"Seconds": (\d+)', text):
            assert int(seconds) <= 2, f"{name}: Wait longer than 2 s"
    assert numbers == list(range(1, len(CASES) + 1)), "case numbers must run 001, 002, ... without gaps"


def test_corpus_covers_the_required_features() -> None:
    definitions = "\n".join(json.dumps(case["definition"]) for _, case in CASES)
    missing = [i for i in INTRINSICS if i not in definitions]
    missing += [a for a in HASH_ALGORITHMS if a not in definitions]
    missing += [c for c in COMPARISONS if f'"{c}":' not in definitions]
    missing += [f for f in FEATURES if f not in definitions]
    errors = {case["expected"].get("error") for _, case in CASES}
    missing += [e for e in EXPECTED_ERRORS if e not in errors]
    assert not missing, f"corpus does not cover: {missing}"
    assert sum(1 for _, c in CASES if c["moto"]) >= 60, "too few cases run on moto"
