"""Saga pattern for distributed transactions (guide: "Integration Patterns", 3).

A BookingRequested event starts the booking saga (examples/workflows/booking-saga.json): reserve
a flight, reserve a hotel, charge the payment. When a step fails, the state machine's Catch runs
the compensation steps (cancel the hotel, cancel the flight) and the execution fails with
BookingFailed. Two bookings run: saga-789 is confirmed, saga-790's card is declined and its
reservations are compensated. Each service keeps the saga state in the KV, as the guide does.

The services are functions in this program. Each Task of the state machine sends an event with
its task token (events:putEvents.waitForTaskToken); this program receives it, does the work and
answers with send_task_success or send_task_failure. That works on the embedded engine and on
Step Functions alike, with no Lambda or ECS task to deploy.

    python examples/python/saga.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/saga.py
"""

import json
import os
from pathlib import Path
from typing import Any, Callable, Dict
from urllib.parse import parse_qs, urlparse

from agent_mesh import ExecutionRef, MeshClient, ReceivedEvent

DEFINITION = Path(__file__).resolve().parent.parent / "workflows" / "booking-saga.json"
PAYMENT_LIMIT = 2000
STEPS = ["reserve_flight", "reserve_hotel", "charge_payment"]
UNDO = {"reserve_flight": "cancel_flight", "reserve_hotel": "cancel_hotel", "charge_payment": "refund_payment"}


class PaymentDeclined(Exception):
    pass


def event_bus() -> str:
    """The bus the definition's Tasks send to. The embedded engine ignores the name; on AWS it is
    the mesh's bus: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env> (what provision() makes)."""
    query = parse_qs(urlparse(os.environ.get("AGENT_MESH_URL", "")).query)
    env = query.get("env", [os.environ.get("AGENT_MESH_ENV") or "dev"])[0]
    return os.environ.get("AGENT_MESH_EVENT_BUS") or f"{query.get('prefix', [''])[0]}agent-mesh-{env}"


def record(mesh: MeshClient, booking: Dict[str, Any], step: str, status: str) -> None:
    """Updates the saga state the guide keeps under saga:<id>:state."""
    key = f"saga:{booking['saga_id']}:state"
    item = mesh.kv.get(key)
    if item is None:
        raise SystemExit(f"{key} is missing: the coordinator writes it when the saga starts")
    state = item.value
    state["status"] = status
    state["steps_completed"].append(step)
    if step in state["steps_remaining"]:
        state["steps_remaining"].remove(step)
        state["rollback_actions"].insert(0, UNDO[step])
    mesh.kv.set(key, state, if_version=item.version)


def reserve_flight(mesh: MeshClient, b: Dict[str, Any]) -> Dict[str, Any]:
    mesh.kv.set(f"booking:{b['saga_id']}:flight", {"flight_id": b["flight_id"], "status": "reserved"})
    record(mesh, b, "reserve_flight", "flight_booked")
    return {"confirmation": f"FL-{b['flight_id']}"}


def reserve_hotel(mesh: MeshClient, b: Dict[str, Any]) -> Dict[str, Any]:
    mesh.kv.set(f"booking:{b['saga_id']}:hotel", {"hotel_id": b["hotel_id"], "status": "reserved"})
    record(mesh, b, "reserve_hotel", "hotel_booked")
    return {"confirmation": f"HT-{b['hotel_id']}"}


def charge_payment(mesh: MeshClient, b: Dict[str, Any]) -> Dict[str, Any]:
    if b["amount"] > PAYMENT_LIMIT:
        record(mesh, b, "payment_declined", "compensating")
        raise PaymentDeclined(f"card of {b['user_id']} declined: {b['amount']} is over the limit of {PAYMENT_LIMIT}")
    record(mesh, b, "charge_payment", "confirmed")
    return {"receipt": f"PAY-{b['saga_id']}"}


def cancel_hotel(mesh: MeshClient, b: Dict[str, Any]) -> Dict[str, Any]:
    mesh.kv.set(f"booking:{b['saga_id']}:hotel", {"hotel_id": b["hotel_id"], "status": "cancelled"})
    record(mesh, b, "cancel_hotel", "compensating")
    return {}


def cancel_flight(mesh: MeshClient, b: Dict[str, Any]) -> Dict[str, Any]:
    mesh.kv.set(f"booking:{b['saga_id']}:flight", {"flight_id": b["flight_id"], "status": "cancelled"})
    record(mesh, b, "cancel_flight", "compensated")
    return {}


SERVICES: Dict[str, Callable[[MeshClient, Dict[str, Any]], Dict[str, Any]]] = {
    "ReserveFlight": reserve_flight, "ReserveHotel": reserve_hotel, "ChargePayment": charge_payment,
    "CancelHotel": cancel_hotel, "CancelFlight": cancel_flight,
}


def serve(mesh: MeshClient, task: ReceivedEvent) -> None:
    """Does the work a Task asked for and reports the outcome to the workflow."""
    booking, token = task.detail["booking"], task.detail["task_token"]
    try:
        result = SERVICES[task.detail_type](mesh, booking)
        print(f"  {booking['saga_id']}: {task.detail_type} done {json.dumps(result)}")
        mesh.workflows.send_task_success(token, result)
    except PaymentDeclined as e:
        print(f"  {booking['saga_id']}: {task.detail_type} failed: {e}")
        mesh.workflows.send_task_failure(token, "PaymentDeclined", str(e))


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    mesh.workflows.create("booking-saga", DEFINITION.read_text().replace("${EventBus}", event_bus()))

    requests = mesh.events.subscribe({"detail-type": ["BookingRequested"]})
    tasks = mesh.events.subscribe({"source": ["booking-saga"]})
    for saga_id, amount in [("saga-789", 850), ("saga-790", 4200)]:
        mesh.events.send("BookingRequested", {"saga_id": saga_id, "flight_id": "fl-123", "hotel_id": "ht-456",
                                              "user_id": "user123", "amount": amount}, source="booking-api")

    runs: Dict[str, ExecutionRef] = {}
    while len(runs) < 2:  # the saga coordinator: each request starts one execution
        request = requests.next(timeout=30)
        if request is None:
            raise SystemExit("no BookingRequested event arrived within 30 s")
        saga_id = request.detail["saga_id"]
        mesh.kv.set(f"saga:{saga_id}:state", {"status": "started", "steps_completed": [],
                                              "steps_remaining": STEPS, "rollback_actions": []})
        runs[saga_id] = mesh.workflows.start("booking-saga", request.detail)
        print(f"started booking-saga for {saga_id} (amount {request.detail['amount']})")

    while any(run.describe().status == "RUNNING" for run in runs.values()):
        task = tasks.next(timeout=0.25)
        if task is not None:
            serve(mesh, task)
    requests.close()
    tasks.close()

    for saga_id, run in runs.items():
        done = run.describe()
        outcome = json.dumps(done.output) if done.status == "SUCCEEDED" else f"{done.error}: {done.cause or '(no cause given)'}"
        print(f"saga {saga_id}: {done.status} {outcome}")
        state = mesh.kv.get(f"saga:{saga_id}:state")
        print(f"  saga:{saga_id}:state = {json.dumps(state.value if state else None)}")


if __name__ == "__main__":
    main()
