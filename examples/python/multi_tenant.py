"""Multi-tenant SaaS: tenant isolation that holds (guide: "Advanced Patterns", 1. Multi-Tenant
Architecture).

The guide prefixes keys with the tenant id by hand (`tenant-abc:user:123:profile`); one
forgotten prefix and a tenant reads another's data. Here each tenant's agent gets a scoped
client, `mesh.scope(tenant)`: it uses plain keys, and whatever key it is handed stays inside its
tenant. Two tenants store the same key, each sends UserAction events, and each tenant's
subscriber receives only its own tenant's events, with the same pattern; the operator (the
unscoped client) sees both, the tenant in each event's source. Last, the IAM policy a tenant's
agent needs on AWS (`agent-mesh --tenant tenant-abc iam-policy` prints the same).

    python examples/python/multi_tenant.py          # embedded mesh in ./.agent-mesh
    AGENT_MESH_URL="aws://?region=us-east-1" python examples/python/multi_tenant.py
"""

import json

from agent_mesh import MeshClient

TENANTS = {"tenant-abc": {"name": "Ada", "plan": "pro"}, "tenant-xyz": {"name": "Yuki", "plan": "free"}}


def main() -> None:
    mesh = MeshClient()
    mesh.provision()  # creates the AWS resources on aws://; a no-op locally
    scoped = {tenant: mesh.scope(tenant) for tenant in TENANTS}
    # Subscribers start before anything is sent. Each tenant's has the same pattern.
    subscribers = {tenant: client.events.subscribe({"detail-type": ["UserAction"]}) for tenant, client in scoped.items()}
    operator = mesh.events.subscribe({"detail-type": ["UserAction"], "source": [{"prefix": "tenants/"}]})

    for tenant, profile in TENANTS.items():
        client = scoped[tenant]
        client.kv.set("user:123:profile", profile)  # the same key in both tenants
        client.events.send("UserAction", {"tenant_id": tenant, "user_id": "123", "action": "login"}, source="auth")
        print(f"{tenant}: stored user:123:profile and sent UserAction login")

    abc = scoped["tenant-abc"]
    for tenant, client in scoped.items():
        stored = client.kv.get("user:123:profile")
        assert stored is not None, tenant
        print(f"{tenant} reads user:123:profile -> {json.dumps(stored.value)}")
    for attempt in ["../tenant-xyz/user:123:profile", "tenants/tenant-xyz/user:123:profile", "tenant-xyz:user:123:profile"]:
        item = abc.kv.get(attempt)
        print(f"tenant-abc reads {attempt} -> {None if item is None else json.dumps(item.value)}")
    keys = [item.key for item in mesh.kv.list("tenants/tenant-abc/").items]
    print(f"operator lists tenants/tenant-abc/ -> {keys}")

    for tenant, subscription in subscribers.items():
        event = subscription.next(timeout=30)
        if event is None:
            raise SystemExit(f"{tenant}: no UserAction event within 30 s")
        print(f"{tenant} received {event.detail_type} from {event.source} {json.dumps(event.detail)}")
        extra = subscription.next(timeout=1)
        if extra is not None:
            raise SystemExit(f"{tenant} received another tenant's event: {extra}")
        subscription.close()
    for _ in TENANTS:
        event = operator.next(timeout=30)
        if event is None:
            raise SystemExit("operator: a UserAction event did not arrive within 30 s")
        print(f"operator received {event.detail_type} from {event.source} {json.dumps(event.detail)}")
    operator.close()

    policy = abc.iam_policy()
    leading = policy["Statement"][0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    print(f"tenant-abc's IAM policy: {len(policy['Statement'])} statements; its KV items: dynamodb:LeadingKeys {leading}")


if __name__ == "__main__":
    main()
