"""The guide's mcp.call(...) blocks ("AWS AI Agent Bus - Examples & Use Cases", the guide
agent-mesh implements), run with `mcp` bound to a MeshClient on every backend. The guide's blocks
are JavaScript; here each is written in Python line for line: the same calls, tool names and
arguments, in the same order (`JSON.stringify` is `json.dumps`, `await` and `;` dropped, the
template string an f-string). bindings-node/test/guide_calls.test.js runs them verbatim. Then
what they did is checked with the typed API: values and artifacts stored (TTLs included), the
events subscribers received, the queries' answers."""

import json
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest

from agent_mesh import KvItem, MeshClient, ReceivedEvent, Subscription


def expires_in(item: KvItem, hours: float) -> None:
    assert item.expires_at is not None, f"{item.key} has no TTL"
    left = item.expires_at - datetime.now(timezone.utc)
    assert timedelta(hours=hours) - timedelta(minutes=10) < left <= timedelta(hours=hours), f"{item.key} expires in {left}"


def collect(subscription: Subscription, count: int) -> List[ReceivedEvent]:
    events = []
    while len(events) < count:
        event = subscription.next(timeout=30)
        assert event is not None, f"only {len(events)} of {count} events arrived within 30 s"
        events.append(event)
    return events


def collect_kinds(subscription: Subscription, kinds: List[str], at_least_once: bool) -> Dict[str, ReceivedEvent]:
    """The first event of each detail type in `kinds`, read until all have arrived. Every event
    must be of one of them. On AWS an event may come twice: `PutEvents` re-sent after a lost
    answer publishes it again under a new id (docs/aws.md, "Other writes and retries"); a repeat
    must then equal the first copy. Elsewhere delivery is exactly once and a repeat fails."""
    heard: Dict[str, ReceivedEvent] = {}
    while len(heard) < len(kinds):
        event = subscription.next(timeout=30)
        assert event is not None, f"only {sorted(heard)} of {kinds} arrived within 30 s"
        assert event.detail_type in kinds, f"unexpected event {event.detail_type}"
        first = heard.setdefault(event.detail_type, event)
        if first is not event:
            assert at_least_once, f"{event.detail_type} was delivered twice"
            assert (first.source, first.detail) == (event.source, event.detail)
    return heard


def test_the_guides_mcp_call_blocks(mesh: MeshClient, request: pytest.FixtureRequest) -> None:
    mcp = mesh
    # The guide's placeholders.
    pdfContent = "%PDF-1.4 John resume (demo)"
    contractContent = "%PDF-1.4 Agreement ABC v2.1"
    modelBinary = "model weights v2.1"
    content_id = "post-1"
    userProfile = {"name": "Ann", "plan": "pro"}
    # Subscribers start before anything is sent: services B, C and D of "Event-Driven
    # Architecture", and a CQRS projector (see below).
    inventory = mesh.events.subscribe({"detail-type": ["OrderCreated"]})
    shipping = mesh.events.subscribe({"detail-type": ["OrderCreated"]})
    analytics = mesh.events.subscribe({"source": [{"prefix": ""}]})
    commands = mesh.events.subscribe({"detail-type": ["UserProfileUpdated"]})

    # Quick Start 1. Personal AI Assistant with Memory
    # Store conversation context
    mcp.call('mesh_kv_set', {
        "key": 'user:john:preferences',
        "value": json.dumps({
            "communication_style": 'casual',
            "preferred_topics": ['tech', 'music'],
            "timezone": 'PST'
        }),
        "ttl_hours": 720  # 30 days
    })

    # Store file attachment
    mcp.call('mesh_artifacts_put', {
        "key": 'conversations/2024/resume.pdf',
        "content": pdfContent,
        "content_type": 'application/pdf'
    })

    # Quick Start 2. Document Processing Pipeline
    # Trigger document processing
    mcp.call('mesh_event_send', {
        "detail_type": 'DocumentUploaded',
        "detail": {
            "document_id": 'doc-123',
            "bucket": 'agent-mesh-artifacts',
            "key": 'documents/contract.pdf',
            "processing_type": 'legal_review'
        },
        "source": 'document-processor'
    })

    # Healthcare & Medical
    # Store patient timeline event
    mcp.call('mesh_kv_set', {
        "key": 'patient:12345:timeline:2024-01-15',
        "value": json.dumps({
            "event_type": 'lab_result',
            "results": {"glucose": 95, "cholesterol": 180},
            "provider": 'Dr. Smith',
            "timestamp": '2024-01-15T10:30:00Z'
        })
    })

    # Notify care team
    mcp.call('mesh_event_send', {
        "detail_type": 'LabResultsAvailable',
        "detail": {
            "patient_id": '12345',
            "critical": False,
            "provider": 'Dr. Smith'
        }
    })

    # Legal & Compliance
    # Store contract version
    mcp.call('mesh_artifacts_put', {
        "key": 'contracts/client-abc/v2.1/agreement.pdf',
        "content": contractContent,
        "content_type": 'application/pdf'
    })

    # Track compliance check
    mcp.call('mesh_kv_set', {
        "key": 'compliance:contract:abc:gdpr',
        "value": json.dumps({
            "status": 'compliant',
            "checked_at": '2024-01-15T14:00:00Z',
            "requirements_met": ['data_protection', 'right_to_erasure'],
            "next_review": '2024-07-15'
        })
    })

    # Financial Services
    # Store risk calculation result
    mcp.call('mesh_kv_set', {
        "key": 'risk:portfolio:tech-fund:var',
        "value": json.dumps({
            "value_at_risk": 0.15,
            "confidence": 0.95,
            "time_horizon": '1d',
            "calculated_at": '2024-01-15T16:00:00Z'
        }),
        "ttl_hours": 1  # Refresh hourly
    })

    # Trigger rebalancing workflow
    mcp.call('mesh_event_send', {
        "detail_type": 'RiskThresholdExceeded',
        "detail": {
            "portfolio": 'tech-fund',
            "current_var": 0.15,
            "threshold": 0.10,
            "action": 'rebalance'
        }
    })

    # E-commerce & Retail
    # Update customer preferences
    mcp.call('mesh_kv_set', {
        "key": 'customer:user123:preferences',
        "value": json.dumps({
            "categories": ['electronics', 'books'],
            "price_range": {"min": 10, "max": 500},
            "brands": ['apple', 'samsung'],
            "last_updated": '2024-01-15T12:00:00Z'
        })
    })

    # Process purchase event
    mcp.call('mesh_event_send', {
        "detail_type": 'PurchaseCompleted',
        "detail": {
            "customer_id": 'user123',
            "order_id": 'ord-456',
            "items": [{"sku": 'iphone-15', "quantity": 1, "price": 999}],
            "total": 999
        }
    })

    # Integration Patterns 1. Event-Driven Architecture
    # Service A: Order processing
    mcp.call('mesh_event_send', {
        "detail_type": 'OrderCreated',
        "detail": {"order_id": 'ord-123', "customer_id": 'cust-456'}
    })

    # Service B: Inventory management (listens for OrderCreated)
    # Service C: Shipping (listens for OrderCreated)
    # Service D: Analytics (listens for all events)

    # Integration Patterns 2. CQRS with Event Sourcing: the command below is an event; the query
    # reads a read model that a projector keeps from the events (as the cqrs_event_sourcing
    # examples do). Queries right after a command may see the state before it: the projector is
    # checked after the block.
    projected: Dict[str, Any] = {}

    def project() -> None:
        event = commands.next(timeout=30)
        if event is not None:
            mesh.timeline.append(f"user/{event.detail['user_id']}/profile", event.detail)
            mesh.kv.set(f"user:{event.detail['user_id']}:profile",
                        {"user_id": event.detail["user_id"], event.detail["field"]: event.detail["new_value"]})
            projected["event"] = event
        commands.close()

    projector = threading.Thread(target=project)
    projector.start()

    # Command: Update user profile
    mcp.call('mesh_event_send', {
        "detail_type": 'UserProfileUpdated',
        "detail": {"user_id": 'user123', "field": 'email', "new_value": 'new@email.com'}
    })

    # Query: Get current user state
    profile = mcp.call('mesh_kv_get', {
        "key": 'user:user123:profile'
    })

    # Event sourcing: Get user history
    timeline = mcp.call('mesh_timeline_get', {
        "prefix": 'user/user123/',
        "max_keys": 50
    })

    # Integration Patterns 3. Saga Pattern for Distributed Transactions
    # Start booking saga
    mcp.call('mesh_event_send', {
        "detail_type": 'BookingRequested',
        "detail": {
            "saga_id": 'saga-789',
            "flight_id": 'fl-123',
            "hotel_id": 'ht-456',
            "user_id": 'user123'
        }
    })

    # Store saga state
    mcp.call('mesh_kv_set', {
        "key": 'saga:saga-789:state',
        "value": json.dumps({
            "status": 'flight_booked',
            "steps_completed": ['reserve_flight'],
            "steps_remaining": ['reserve_hotel', 'charge_payment'],
            "rollback_actions": ['cancel_flight']
        })
    })

    # Workflow Examples 1. Content Moderation Pipeline, MCP Integration
    # Store moderation result
    mcp.call('mesh_kv_set', {
        "key": f"moderation:{content_id}:result",
        "value": json.dumps({
            "status": 'approved',
            "confidence": 0.95,
            "flags": [],
            "reviewed_at": '2024-01-15T10:00:00Z'
        })
    })

    # Workflow Examples 2. ML Model Training Pipeline
    # Store training job metadata
    mcp.call('mesh_kv_set', {
        "key": 'ml:training:job-123:metadata',
        "value": json.dumps({
            "model_type": 'classification',
            "dataset_version": 'v2.1',
            "hyperparameters": {"learning_rate": 0.001, "epochs": 100},
            "status": 'training'
        })
    })

    # Store model artifacts
    mcp.call('mesh_artifacts_put', {
        "key": 'models/classification/v2.1/model.pkl',
        "content": modelBinary,
        "content_type": 'application/octet-stream'
    })

    # Trigger deployment event
    mcp.call('mesh_event_send', {
        "detail_type": 'ModelTrainingCompleted',
        "detail": {
            "job_id": 'job-123',
            "model_version": 'v2.1',
            "accuracy": 0.94,
            "ready_for_deployment": True
        }
    })

    # Advanced Patterns 1. Multi-Tenant Architecture (key prefixes; mesh.scope(tenant) is not built yet)
    # Tenant-scoped operations
    tenantId = 'tenant-abc'

    # Store tenant-scoped data
    mcp.call('mesh_kv_set', {
        "key": f"{tenantId}:user:123:profile",
        "value": json.dumps(userProfile)
    })

    # Tenant-scoped events
    mcp.call('mesh_event_send', {
        "detail_type": 'UserAction',
        "detail": {"tenant_id": tenantId, "user_id": '123', "action": 'login'}
    })

    # Advanced Patterns 2. A/B Testing Framework
    # Store experiment configuration
    mcp.call('mesh_kv_set', {
        "key": 'experiment:checkout-flow:config',
        "value": json.dumps({
            "variants": {"A": 0.5, "B": 0.5},
            "start_date": '2024-01-15',
            "metrics": ['conversion_rate', 'revenue']
        })
    })

    # Track experiment event
    mcp.call('mesh_event_send', {
        "detail_type": 'ExperimentEvent',
        "detail": {
            "experiment": 'checkout-flow',
            "variant": 'A',
            "user_id": 'user123',
            "event": 'conversion'
        }
    })

    # Advanced Patterns 3. Real-Time Analytics
    # Store real-time metrics
    mcp.call('mesh_kv_set', {
        "key": 'metrics:hourly:2024-01-15-14',
        "value": json.dumps({
            "active_users": 1250,
            "page_views": 5000,
            "conversions": 85,
            "revenue": 12500
        }),
        "ttl_hours": 168  # Keep for 1 week
    })

    # ---- What the blocks did ----
    # Values are stored as the JSON text the guide passes (upstream's format); mesh_kv_set's TTL
    # defaults to 24 hours, as upstream's did.
    def stored(key: str) -> KvItem:
        item = mesh.kv.get(key)
        assert item is not None, f"{key} was not stored"
        return item

    prefs = stored("user:john:preferences")
    assert json.loads(prefs.value) == {"communication_style": "casual", "preferred_topics": ["tech", "music"], "timezone": "PST"}
    expires_in(prefs, 720)
    expires_in(stored("patient:12345:timeline:2024-01-15"), 24)
    assert json.loads(stored("patient:12345:timeline:2024-01-15").value)["results"]["glucose"] == 95
    assert json.loads(stored("compliance:contract:abc:gdpr").value)["requirements_met"] == ["data_protection", "right_to_erasure"]
    expires_in(stored("risk:portfolio:tech-fund:var"), 1)
    assert json.loads(stored("customer:user123:preferences").value)["brands"] == ["apple", "samsung"]
    assert json.loads(stored("saga:saga-789:state").value)["rollback_actions"] == ["cancel_flight"]
    assert json.loads(stored("moderation:post-1:result").value)["status"] == "approved"
    assert json.loads(stored("ml:training:job-123:metadata").value)["status"] == "training"
    assert json.loads(stored("tenant-abc:user:123:profile").value) == userProfile
    assert json.loads(stored("experiment:checkout-flow:config").value)["variants"] == {"A": 0.5, "B": 0.5}
    metrics = stored("metrics:hourly:2024-01-15-14")
    assert json.loads(metrics.value)["revenue"] == 12500
    expires_in(metrics, 168)
    for key, content, content_type in [
        ("conversations/2024/resume.pdf", pdfContent, "application/pdf"),
        ("contracts/client-abc/v2.1/agreement.pdf", contractContent, "application/pdf"),
        ("models/classification/v2.1/model.pkl", modelBinary, "application/octet-stream"),
    ]:
        artifact = mesh.artifacts.get(key)
        assert artifact is not None, f"{key} was not stored"
        assert artifact.data.decode() == content and artifact.meta.content_type == content_type

    # Events: services B and C heard the order; D (every event) heard all ten the blocks sent.
    for service in (inventory, shipping):
        [order] = collect(service, 1)
        assert (order.detail_type, order.detail) == ("OrderCreated", {"order_id": "ord-123", "customer_id": "cust-456"})
        service.close()
    heard = collect_kinds(analytics, ["BookingRequested", "DocumentUploaded", "ExperimentEvent", "LabResultsAvailable",
                                      "ModelTrainingCompleted", "OrderCreated", "PurchaseCompleted", "RiskThresholdExceeded",
                                      "UserAction", "UserProfileUpdated"], at_least_once=request.node.callspec.params["mesh"] == "aws")
    analytics.close()
    assert heard["DocumentUploaded"].source == "document-processor"
    assert heard["DocumentUploaded"].detail == {"document_id": "doc-123", "bucket": "agent-mesh-artifacts",
                                                "key": "documents/contract.pdf", "processing_type": "legal_review"}
    assert heard["RiskThresholdExceeded"].detail == {"portfolio": "tech-fund", "current_var": 0.15, "threshold": 0.1, "action": "rebalance"}
    assert heard["PurchaseCompleted"].detail["items"][0]["sku"] == "iphone-15"
    assert heard["UserAction"].detail == {"tenant_id": "tenant-abc", "user_id": "123", "action": "login"}
    assert heard["ModelTrainingCompleted"].detail["ready_for_deployment"] is True

    # CQRS: the guide's queries answered in upstream's shapes; once the projector has applied the
    # command, the same queries return the current state and the user's history.
    assert profile["key"] == "user:user123:profile" and isinstance(profile["found"], bool)
    assert timeline["prefix"] == "user/user123/" and isinstance(timeline["count"], int)
    projector.join(timeout=60)
    assert "event" in projected, "the projector received no UserProfileUpdated event within 30 s"
    profile = mcp.call("mesh_kv_get", {"key": "user:user123:profile"})
    assert (profile["found"], profile["value"]) == (True, {"user_id": "user123", "email": "new@email.com"})
    timeline = mcp.call("mesh_timeline_get", {"prefix": "user/user123/", "max_keys": 50})
    assert timeline["count"] == 1
    [entry] = mesh.timeline.get("user/user123/", limit=50).items
    assert (entry.stream, entry.data) == ("user/user123/profile", {"user_id": "user123", "field": "email", "new_value": "new@email.com"})
