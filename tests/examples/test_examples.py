"""Runs every example of examples/ (Python, JavaScript and Rust) as a user does, one process per
run, on the embedded default (a fresh working directory, so ./.agent-mesh) and on aws:// (the
moto server of tests/with-moto.sh, a fresh name prefix per run), then checks what each did:
the values it stored, the events each of its subscribers received, its workflows' final status,
output and path. The runs start together (a few at a time) before the first test of this module,
and each test waits for its own.

Backends follow AGENT_MESH_TEST_BACKENDS like the behaviour suites: "local" runs the examples on
the embedded default, "aws" on moto (AGENT_MESH_TEST_AWS_ENDPOINT must be set); "memory" does
not apply to a separate process and is ignored.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from agent_mesh import MeshClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCENARIOS = [
    "personal_assistant", "document_pipeline", "healthcare_timeline", "legal_compliance", "financial_risk",
    "ecommerce", "microservices", "cqrs_event_sourcing", "saga", "content_moderation", "ml_training",
    "ab_testing", "realtime_metrics", "multi_tenant",
]
RUST = ["personal_assistant", "document_pipeline", "microservices", "cqrs_event_sourcing", "saga", "financial_risk"]
BACKENDS = [b for b in (x.strip() for x in os.environ.get("AGENT_MESH_TEST_BACKENDS", "memory,local").split(",")) if b in ("local", "aws")]
# Runs at once: most of a run's time is spent waiting (for moto, for events), not computing.
PARALLEL = int(os.environ.get("AGENT_MESH_EXAMPLES_PARALLEL", "6"))
TIMEOUT = 180


@dataclass
class Run:
    """One example process and where its mesh lives."""

    lang: str
    name: str
    backend: str
    url: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    workdir: str = ""

    def mesh(self) -> MeshClient:
        return MeshClient(self.url)

    def lines(self, pattern: str) -> List["re.Match[str]"]:
        return [m for m in (re.match(pattern, line) for line in self.stdout.splitlines()) if m]

    def received(self) -> Dict[str, List[Tuple[str, Any]]]:
        """Subscriber name -> [(detail type, detail)] from the `<name> received <type> ... {json}` lines."""
        got: Dict[str, List[Tuple[str, Any]]] = {}
        for m in self.lines(r"^(\S+) received (\S+) (?:from \S+ )?(\{.*\})$"):
            got.setdefault(m.group(1), []).append((m.group(2), json.loads(m.group(3))))
        return got


def rust_binaries() -> Tuple[Dict[str, str], str]:
    """Builds the Rust examples (a no-op when they are up to date): their paths, or why not."""
    out = subprocess.run(
        ["cargo", "build", "-q", "-p", "agent-mesh", "--examples", "--message-format", "json-render-diagnostics"],
        cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return {}, f"cargo build -p agent-mesh --examples failed:\n{out.stderr}"
    paths = {}
    for line in out.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable") and "example" in message["target"]["kind"]:
            paths[message["target"]["name"]] = message["executable"]
    return paths, ""


def command(lang: str, name: str, rust: Dict[str, str]) -> List[str]:
    if lang == "python":
        return [sys.executable, str(EXAMPLES / "python" / f"{name}.py")]
    if lang == "javascript":
        return ["node", str(EXAMPLES / "javascript" / f"{name}.mjs")]
    return [rust[name]]


def launch(lang: str, name: str, backend: str, rust: Dict[str, str], build_error: str) -> Run:
    if lang == "rust" and name not in rust:
        return Run(lang, name, backend, "", -2, "", build_error or f"cargo built no example {name}", 0.0)
    workdir = Path(tempfile.mkdtemp(prefix=f"example-{lang}-{name}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("AGENT_MESH_URL", "AGENT_MESH_DIR")}
    if backend == "local":
        url = f"local://{workdir}/.agent-mesh"  # what the example opens by default from this directory
    else:
        endpoint = os.environ["AGENT_MESH_TEST_AWS_ENDPOINT"]
        url = f"aws://?region=us-east-1&endpoint={endpoint}&prefix=ex{uuid.uuid4().hex[:10]}-"
        env["AGENT_MESH_URL"] = url
    started = time.monotonic()
    try:
        out = subprocess.run(command(lang, name, rust), cwd=workdir, env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)
        code, stdout, stderr = out.returncode, out.stdout, out.stderr
    except subprocess.TimeoutExpired as e:
        code, stdout, stderr = -1, str(e.stdout or ""), f"timed out after {TIMEOUT} s\n{e.stderr or ''}"
    return Run(lang, name, backend, url, code, stdout, stderr, time.monotonic() - started, str(workdir))


CASES = [(b, lang, name) for b in BACKENDS for lang in ("python", "javascript", "rust")
         for name in (RUST if lang == "rust" else SCENARIOS)]
_runs: Dict[Tuple[str, str, str], "Future[Run]"] = {}


@pytest.fixture(scope="module")
def runs() -> Iterator[Dict[Tuple[str, str, str], "Future[Run]"]]:
    """Starts every run once, before the first test of this module waits for its own; removes
    their working directories (and local meshes) at the end."""
    if not _runs:
        npm = shutil.which("npm")
        assert npm, "npm is needed to install @agent-mesh/client for the JavaScript examples"
        # What examples/README.md tells a newcomer to run once.
        subprocess.run([npm, "install", "--prefix", str(EXAMPLES / "javascript"), "--no-audit", "--no-fund", "--silent"],
                       cwd=ROOT, check=True, capture_output=True)
        rust, build_error = rust_binaries()
        pool = ThreadPoolExecutor(max_workers=PARALLEL)
        # aws runs first: they spend the longest waiting on moto.
        for case in sorted(CASES, key=lambda c: c[0] != "aws"):
            _runs[case] = pool.submit(launch, case[1], case[2], case[0], rust, build_error)
        pool.shutdown(wait=False)
    yield _runs
    for future in _runs.values():
        if future.done() and future.result().workdir:
            shutil.rmtree(future.result().workdir, ignore_errors=True)


def finished(runs: Dict[Tuple[str, str, str], "Future[Run]"], backend: str, lang: str, name: str) -> Run:
    run = runs[(backend, lang, name)].result()
    print(f"{lang} {name} on {backend}: exit {run.returncode} in {run.seconds:.1f} s\n{run.stdout}\n{run.stderr}")
    assert run.returncode == 0, f"{lang} {name} on {backend} failed:\n{run.stdout}\n{run.stderr}"
    return run


# ---- what each scenario must have done ------------------------------------------------------------


def kv(mesh: MeshClient, key: str) -> Any:
    item = mesh.kv.get(key)
    assert item is not None, f"{key} was not stored"
    return item.value


def expires_in(mesh: MeshClient, key: str, hours: float) -> None:
    item = mesh.kv.get(key)
    assert item is not None and item.expires_at is not None, f"{key} has no TTL"
    left = item.expires_at - datetime.now(timezone.utc)
    assert timedelta(hours=hours) - timedelta(minutes=10) < left <= timedelta(hours=hours), f"{key} expires in {left}"


def executions(mesh: MeshClient, name: str) -> List[Any]:
    return list(mesh.workflows.list_executions(name).items)


def entered_states(mesh: MeshClient, arn: str) -> List[str]:
    return [e.details["name"] for e in mesh.workflows.history(arn) if e.type.endswith("StateEntered")]


def check_personal_assistant(run: Run, mesh: MeshClient) -> None:
    assert kv(mesh, "user:john:preferences")["timezone"] == "PST"
    expires_in(mesh, "user:john:preferences", 720)
    resume = mesh.artifacts.get("conversations/2024/resume.pdf")
    assert resume is not None and resume.data.startswith(b"%PDF") and resume.meta.content_type == "application/pdf"
    assert resume.meta.metadata == {"owner": "john"}
    streams = {e.stream for e in mesh.timeline.get("user/john/").items}
    assert {"user/john/profile", "user/john/documents"} <= streams
    # The subscriber's line: "event   DocumentUploaded from document-processor: ..." (Rust: "event <id> from ...: DocumentUploaded ...").
    assert run.lines(r"^event\s.*from document-processor.*DocumentUploaded|^event\s+DocumentUploaded from document-processor")
    [uploaded] = mesh.timeline.get("user/john/documents").items
    assert (uploaded.data["detail-type"], uploaded.data["source"]) == ("DocumentUploaded", "document-processor")
    if run.backend == "local":
        outputs = sorted(json.dumps(e.output) for e in executions(mesh, "content-moderation") if e.status == "SUCCEEDED")
        assert outputs == ['{"status": "flagged"}', '{"status": "published"}']
    else:  # its ECS tasks cannot be served on aws:// (content_moderation runs them as callbacks)
        assert run.lines(r"^workflow content-moderation: skipped")


def check_document_pipeline(run: Run, mesh: MeshClient) -> None:
    [execution] = executions(mesh, "document-pipeline")
    assert execution.status == "SUCCEEDED", execution
    assert execution.output == {"document_id": "doc-123", "queue": "legal-review", "words": 40,
                                "labels": ["contract", "confidentiality", "termination", "jurisdiction"]}
    assert execution.input["key"] == "documents/contract.pdf"  # started by the DocumentUploaded event
    assert entered_states(mesh, execution.arn) == ["ExtractText", "ClassifyDocument", "RouteByType", "LegalReview"]
    assert kv(mesh, "document:doc-123:analysis") == execution.output
    assert run.lines(r"^event\s+DocumentUploaded from document-processor: .*\"processing_type\": ?\"legal_review\"")


def check_healthcare_timeline(run: Run, mesh: MeshClient) -> None:
    assert kv(mesh, "patient:12345:timeline:2024-01-15")["results"] == {"glucose": 95, "cholesterol": 180}
    assert kv(mesh, "patient:12345:timeline:2024-01-16")["provider"] == "Dr. Jones"
    got = run.received()
    assert sorted(d["date"] for _, d in got["care-team"]) == ["2024-01-15", "2024-01-16"]
    assert [(t, d["date"], d["critical"]) for t, d in got["on-call"]] == [("LabResultsAvailable", "2024-01-16", True)]
    entries = mesh.timeline.get("patient/12345/", order="oldest").items
    assert [e.stream for e in entries] == ["patient/12345/labs", "patient/12345/notifications"] * 2
    assert entries[3].data["detail"] == {"patient_id": "12345", "critical": True, "provider": "Dr. Jones", "date": "2024-01-16"}


def check_multi_tenant(run: Run, mesh: MeshClient) -> None:
    # The same key in two tenants: two items, each under its tenant's prefix.
    assert kv(mesh, "tenants/tenant-abc/user:123:profile") == {"name": "Ada", "plan": "pro"}
    assert kv(mesh, "tenants/tenant-xyz/user:123:profile") == {"name": "Yuki", "plan": "free"}
    assert mesh.scope("tenant-abc").kv.get("user:123:profile").value["name"] == "Ada"
    assert mesh.kv.get("user:123:profile") is None, "nothing leaks to the unscoped key"
    denied = run.lines(r"^tenant-abc reads (\S+) -> None$")
    assert [m.group(1) for m in denied] == ["../tenant-xyz/user:123:profile", "tenants/tenant-xyz/user:123:profile",
                                            "tenant-xyz:user:123:profile"]
    got = run.received()
    for tenant in ("tenant-abc", "tenant-xyz"):
        assert [(t, d["tenant_id"]) for t, d in got[tenant]] == [("UserAction", tenant)], got
    assert sorted(d["tenant_id"] for _, d in got["operator"]) == ["tenant-abc", "tenant-xyz"]
    sources = sorted(m.group(1) for m in run.lines(r"^operator received UserAction from (\S+) "))
    assert sources == ["tenants/tenant-abc/auth", "tenants/tenant-xyz/auth"]
    assert run.lines(r"^tenant-abc's IAM policy: 14 statements; .*tenants/tenant-abc/\*")


def check_legal_compliance(run: Run, mesh: MeshClient) -> None:
    versions = mesh.artifacts.list("contracts/client-abc/").items
    assert [(a.key, a.metadata["version"], a.content_type) for a in versions] == [
        ("contracts/client-abc/v2.0/agreement.pdf", "v2.0", "application/pdf"),
        ("contracts/client-abc/v2.1/agreement.pdf", "v2.1", "application/pdf")]
    latest = mesh.artifacts.get("contracts/client-abc/v2.1/agreement.pdf")
    assert latest is not None and b"erasure" in latest.data
    assert kv(mesh, "compliance:contract:abc:gdpr") == {
        "status": "compliant", "checked_at": "2024-01-15T14:00:00Z",
        "requirements_met": ["data_protection", "right_to_erasure"], "next_review": "2024-07-15"}
    assert kv(mesh, "compliance:contract:abc:ccpa")["status"] == "compliant"
    audit = mesh.timeline.get("audit/contracts/client-abc/", order="oldest").items
    assert [(e.data["action"], e.data.get("regulation")) for e in audit] == [
        ("version_stored", None), ("version_stored", None), ("compliance_checked", "gdpr"), ("compliance_checked", "ccpa")]


def check_financial_risk(run: Run, mesh: MeshClient) -> None:
    assert kv(mesh, "risk:portfolio:tech-fund:var")["value_at_risk"] == 0.15
    assert kv(mesh, "risk:portfolio:bond-fund:var")["value_at_risk"] == 0.03
    expires_in(mesh, "risk:portfolio:tech-fund:var", 1)
    assert run.received()["rebalancer"] == [("RiskThresholdExceeded", {
        "portfolio": "tech-fund", "current_var": 0.15, "threshold": 0.1, "action": "rebalance"})]
    assert kv(mesh, "rebalance:tech-fund:order") == {"status": "pending", "reduce_var_by": 0.05}
    assert mesh.kv.get("rebalance:bond-fund:order") is None


def check_ecommerce(run: Run, mesh: MeshClient) -> None:
    prefs = mesh.kv.get("customer:user123:preferences")
    assert prefs is not None and prefs.version == 3  # set, then one conditional update per purchase
    assert prefs.value["brands"] == ["apple", "no-starch", "samsung"]
    assert sorted(prefs.value["recently_bought"]) == ["iphone-15", "rust-book"]
    assert prefs.value["price_range"] == {"min": 10, "max": 999}
    got = run.received()
    assert sorted(d["order_id"] for _, d in got["recommender"]) == ["ord-456", "ord-457"]
    assert [d["order_id"] for _, d in got["loyalty"]] == ["ord-456"]
    assert kv(mesh, "customer:user123:loyalty") == {"points": 999, "last_order": "ord-456"}
    history = mesh.timeline.get("customer/user123/", order="oldest").items
    assert [e.data["detail"]["order_id"] for e in history] == ["ord-456", "ord-457"]


def check_microservices(run: Run, mesh: MeshClient) -> None:
    got = {name: sorted(t for t, _ in events) for name, events in run.received().items()}
    assert got == {"inventory": ["OrderCreated"], "shipping": ["OrderCreated"],
                   "analytics": ["InventoryReserved", "OrderCreated"]}
    assert [m.group(1) for m in run.lines(r"^(\w+): nothing else$")] == ["inventory", "shipping", "analytics"]
    assert kv(mesh, "inventory:reservation:ord-123") == {"sku": "iphone-15", "quantity": 1}
    assert kv(mesh, "shipping:shipment:ord-123")["status"] == "label_created"
    assert kv(mesh, "analytics:events:count") == {"OrderCreated": 1, "InventoryReserved": 1}


def check_cqrs_event_sourcing(run: Run, mesh: MeshClient) -> None:
    assert kv(mesh, "user:user123:profile") == {
        "user_id": "user123", "email": "ann@example.com", "display_name": "Ann", "events_applied": 3}
    history = mesh.timeline.get("user/user123/", limit=50).items  # the guide's query
    assert [(e.data["detail"]["field"], e.data["detail"]["new_value"]) for e in history] == [
        ("email", "ann@example.com"), ("display_name", "Ann"), ("email", "new@email.com")]
    assert len(run.lines(r"^projector received ")) == 3


def check_saga(run: Run, mesh: MeshClient) -> None:
    by_saga = {e.input["saga_id"]: e for e in executions(mesh, "booking-saga")}
    confirmed, compensated = by_saga["saga-789"], by_saga["saga-790"]
    assert confirmed.status == "SUCCEEDED" and confirmed.output == {
        "status": "confirmed", "saga_id": "saga-789", "flight": "FL-fl-123", "hotel": "HT-ht-456", "payment": "PAY-saga-789"}
    assert compensated.status == "FAILED" and compensated.error == "BookingFailed"
    if run.backend == "local":  # moto drops the cause given to SendTaskFailure
        assert "declined" in (compensated.cause or "")
    assert entered_states(mesh, compensated.arn) == [
        "ReserveFlight", "ReserveHotel", "ChargePayment", "CancelHotel", "CancelFlight", "BookingFailed"]
    assert kv(mesh, "saga:saga-789:state") == {
        "status": "confirmed", "steps_completed": ["reserve_flight", "reserve_hotel", "charge_payment"],
        "steps_remaining": [], "rollback_actions": ["refund_payment", "cancel_hotel", "cancel_flight"]}
    state = kv(mesh, "saga:saga-790:state")
    assert state["status"] == "compensated"
    assert state["steps_completed"] == ["reserve_flight", "reserve_hotel", "payment_declined", "cancel_hotel", "cancel_flight"]
    assert kv(mesh, "booking:saga-789:flight")["status"] == "reserved"
    assert kv(mesh, "booking:saga-790:flight")["status"] == "cancelled"
    assert kv(mesh, "booking:saga-790:hotel")["status"] == "cancelled"


def check_content_moderation(run: Run, mesh: MeshClient) -> None:
    runs = {e.input["content_id"]: e for e in executions(mesh, "content-moderation")}
    assert (runs["post-1"].status, runs["post-1"].output) == ("SUCCEEDED", {"status": "published"})
    assert (runs["post-2"].status, runs["post-2"].output) == ("SUCCEEDED", {"status": "flagged"})
    assert entered_states(mesh, runs["post-2"].arn) == ["ExtractContent", "CheckPolicy", "IsContentSafe", "FlagForReview"]
    assert kv(mesh, "moderation:post-1:result")["status"] == "approved"
    assert kv(mesh, "moderation:post-2:result")["flags"] == ["policy_violation"]
    served = "ECS task definitions served by handlers" if run.backend == "local" else "callbacks"
    assert run.lines(rf"^Tasks: {served}")


def check_ml_training(run: Run, mesh: MeshClient) -> None:
    job = mesh.kv.get("ml:training:job-123:metadata")
    assert job is not None and job.version == 2 and job.value["status"] == "completed" and job.value["accuracy"] == 0.94
    model = mesh.artifacts.get("models/classification/v2.1/model.pkl")
    assert model is not None and json.loads(model.data) == {"threshold": 50, "accuracy": 0.94}
    assert model.meta.content_type == "application/octet-stream" and model.meta.metadata["accuracy"] == "0.94"
    assert run.received()["deployer"] == [("ModelTrainingCompleted", {
        "job_id": "job-123", "model_version": "v2.1", "accuracy": 0.94, "ready_for_deployment": True})]
    assert kv(mesh, "ml:deployment:classification")["artifact"] == "models/classification/v2.1/model.pkl"


def check_ab_testing(run: Run, mesh: MeshClient) -> None:
    assert kv(mesh, "experiment:checkout-flow:config")["variants"] == {"A": 0.5, "B": 0.5}
    assert kv(mesh, "experiment:checkout-flow:results") == {
        "A": {"exposure": 13, "conversion": 3, "conversion_rate": 0.231},
        "B": {"exposure": 7, "conversion": 4, "conversion_rate": 0.571}}
    assert run.lines(r"^sent\s+27 ExperimentEvent events for 20 users$")


def check_realtime_metrics(run: Run, mesh: MeshClient) -> None:
    [hour] = mesh.kv.list("metrics:hourly:").items
    assert re.fullmatch(r"metrics:hourly:\d{4}-\d\d-\d\d-\d\d", hour.key)
    assert hour.value == {"active_users": 12, "page_views": 30, "conversions": 4, "revenue": 495}
    expires_in(mesh, hour.key, 168)


CHECKS: Dict[str, Callable[[Run, MeshClient], None]] = {name: globals()[f"check_{name}"] for name in SCENARIOS}


@pytest.mark.parametrize("backend,lang,name", CASES, ids=[f"{b}-{lang}-{name}" for b, lang, name in CASES])
def test_example(runs: Dict[Tuple[str, str, str], "Future[Run]"], backend: str, lang: str, name: str) -> None:
    run = finished(runs, backend, lang, name)
    CHECKS[name](run, run.mesh())


def test_python_examples_pass_mypy_strict() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", *sorted(str(p) for p in (EXAMPLES / "python").glob("*.py"))],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_scenario_has_an_example_in_each_language() -> None:
    for name in SCENARIOS:
        assert (EXAMPLES / "python" / f"{name}.py").is_file(), name
        assert (EXAMPLES / "javascript" / f"{name}.mjs").is_file(), name
    for name in RUST:
        assert (EXAMPLES / "rust" / f"{name}.rs").is_file(), name
        assert f'path = "../examples/rust/{name}.rs"' in (ROOT / "core" / "Cargo.toml").read_text(), name
    readme = (EXAMPLES / "README.md").read_text()
    for name in SCENARIOS:
        assert f"examples/python/{name}.py" in readme and f"examples/javascript/{name}.mjs" in readme, name
