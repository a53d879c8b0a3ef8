"""Event-driven microservices (guide: "Integration Patterns", 1).

Service A (orders) sends one OrderCreated event. Three services subscribed before it was sent:
inventory and shipping listen for OrderCreated, analytics for every event. Inventory reserves the
stock and announces InventoryReserved, which only analytics hears. Each service prints what it
received; in production each would be its own process (they share nothing but the mesh).

    python examples/python/microservices.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/microservices.py
"""

import json
from typing import Dict, List

from agent_mesh import MeshClient, ReceivedEvent, Subscription


def receive(name: str, subscription: Subscription, count: int) -> List[ReceivedEvent]:
    """The next `count` events of a subscription (at most 30 s each), printed as they come."""
    events = []
    for _ in range(count):
        event = subscription.next(timeout=30)
        if event is None:
            raise SystemExit(f"{name}: no event within 30 s")
        print(f"{name} received {event.detail_type} from {event.source} {json.dumps(event.detail)}")
        events.append(event)
    return events


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    services: Dict[str, Subscription] = {
        "inventory": mesh.events.subscribe({"detail-type": ["OrderCreated"]}),
        "shipping": mesh.events.subscribe({"detail-type": ["OrderCreated"]}),
        "analytics": mesh.events.subscribe({"source": [{"prefix": ""}]}),  # every event
    }

    # Service A: order processing
    mesh.events.send("OrderCreated", {"order_id": "ord-123", "customer_id": "cust-456"}, source="orders")

    # Service B: inventory management reserves the stock and says so.
    for order in receive("inventory", services["inventory"], 1):
        mesh.kv.set(f"inventory:reservation:{order.detail['order_id']}", {"sku": "iphone-15", "quantity": 1})
        mesh.events.send("InventoryReserved", {"order_id": order.detail["order_id"], "sku": "iphone-15"}, source="inventory")
    # Service C: shipping prepares a shipment.
    for order in receive("shipping", services["shipping"], 1):
        mesh.kv.set(f"shipping:shipment:{order.detail['order_id']}", {"status": "label_created", "carrier": "ups"})
    # Service D: analytics counts everything it hears.
    counts: Dict[str, int] = {}
    for event in receive("analytics", services["analytics"], 2):
        counts[event.detail_type] = counts.get(event.detail_type, 0) + 1
    mesh.kv.set("analytics:events:count", counts)

    for name, subscription in services.items():  # anything else would show up here
        extra = subscription.next(timeout=0.5)
        print(f"{name}: {'unexpected ' + extra.detail_type if extra else 'nothing else'}")
        subscription.close()
    for key in ["inventory:reservation:ord-123", "shipping:shipment:ord-123", "analytics:events:count"]:
        item = mesh.kv.get(key)
        print(f"stored  {key} = {json.dumps(item.value if item else None)}")


if __name__ == "__main__":
    main()
