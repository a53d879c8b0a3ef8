"""E-commerce: customer preferences and purchase events (guide: "Use Cases by Domain").

The customer's preferences are stored under the guide's key, the product catalog is an artifact,
and two purchases are announced with PurchaseCompleted events (kept on the customer's timeline).
Two services react: the recommender hears of every purchase of user123 and updates the
preferences from the catalog (a conditional write); the loyalty service hears only of purchases
of 100 or more and awards points.

    python examples/python/ecommerce.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/ecommerce.py
"""

import json

from agent_mesh import Conflict, MeshClient

CATALOG = {"iphone-15": {"category": "electronics", "brand": "apple"},
           "rust-book": {"category": "books", "brand": "no-starch"}}
PURCHASES = [
    {"customer_id": "user123", "order_id": "ord-456", "items": [{"sku": "iphone-15", "quantity": 1, "price": 999}], "total": 999},
    {"customer_id": "user123", "order_id": "ord-457", "items": [{"sku": "rust-book", "quantity": 1, "price": 45}], "total": 45},
]


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    mesh.kv.set("customer:user123:preferences", {
        "categories": ["electronics", "books"],
        "price_range": {"min": 10, "max": 500},
        "brands": ["apple", "samsung"],
        "last_updated": "2024-01-15T12:00:00Z",
    })
    mesh.artifacts.put("catalog/products.json", json.dumps(CATALOG).encode(), content_type="application/json")
    recommender = mesh.events.subscribe({"detail-type": ["PurchaseCompleted"], "detail": {"customer_id": ["user123"]}})
    loyalty = mesh.events.subscribe({"detail-type": ["PurchaseCompleted"], "detail": {"total": [{"numeric": [">=", 100]}]}})

    for purchase in PURCHASES:
        mesh.events.send("PurchaseCompleted", purchase, source="checkout", stream="customer/user123/purchases")
        print(f"event   PurchaseCompleted {purchase['order_id']} total {purchase['total']}")

    catalog_artifact = mesh.artifacts.get("catalog/products.json")
    catalog = json.loads(catalog_artifact.data) if catalog_artifact else {}
    for _ in PURCHASES:
        event = recommender.next(timeout=30)
        if event is None:
            raise SystemExit("the recommender received no PurchaseCompleted event within 30 s")
        print(f"recommender received {event.detail_type} {json.dumps(event.detail)}")
        while True:  # read, modify, write only if nobody wrote in between
            item = mesh.kv.get("customer:user123:preferences")
            if item is None:
                raise SystemExit("customer:user123:preferences is missing")
            prefs = item.value
            for line in event.detail["items"]:
                product = catalog[line["sku"]]
                prefs.setdefault("recently_bought", []).append(line["sku"])
                prefs["brands"] = sorted(set(prefs["brands"]) | {product["brand"]})
            prefs["price_range"]["max"] = max(prefs["price_range"]["max"], event.detail["total"])
            prefs["last_updated"] = event.time.strftime("%Y-%m-%dT%H:%M:%SZ")
            try:
                mesh.kv.set("customer:user123:preferences", prefs, if_version=item.version)
                break
            except Conflict:
                continue
    event = loyalty.next(timeout=30)
    if event is None:
        raise SystemExit("the loyalty service received no PurchaseCompleted event within 30 s")
    print(f"loyalty received {event.detail_type} {json.dumps(event.detail)}")
    points = mesh.kv.set("customer:user123:loyalty", {"points": event.detail["total"], "last_order": event.detail["order_id"]})
    print(f"stored  {points.key} = {json.dumps(points.value)}")
    recommender.close()
    loyalty.close()

    prefs_item = mesh.kv.get("customer:user123:preferences")
    if prefs_item is not None:
        print(f"preferences v{prefs_item.version}: {json.dumps(prefs_item.value)}")
    print("purchase history:")
    for entry in mesh.timeline.get("customer/user123/", order="oldest").items:
        print(f"  {entry.stream}  {entry.data['detail']['order_id']}  total {entry.data['detail']['total']}")


if __name__ == "__main__":
    main()
