// The guide's mcp.call(...) blocks ("AWS AI Agent Bus - Examples & Use Cases", the guide
// agent-mesh implements), copied verbatim and run with `mcp` bound to a MeshClient on every
// backend; then what they did is checked with the typed API: the values and artifacts stored
// (TTLs included), the events subscribers received, the queries' answers. Each block sits in
// its own braces under the guide's heading; the guide's placeholders (pdfContent, ...) are
// defined first.
'use strict'
const assert = require('node:assert/strict')
const { behaviour, isAws } = require('./helpers')

const HOUR = 3600 * 1000

function assertExpiresIn(item, hours) {
  assert.ok(item && item.expiresAt, `${item && item.key} has no TTL`)
  const left = item.expiresAt.getTime() - Date.now()
  assert.ok(left > hours * HOUR - 10 * 60 * 1000 && left <= hours * HOUR, `${item.key} expires in ${left} ms, not ${hours} h`)
}

async function collect(subscription, count) {
  const events = []
  while (events.length < count) {
    const event = await subscription.next(30000)
    assert.ok(event, `only ${events.length} of ${count} events arrived within 30 s`)
    events.push(event)
  }
  return events
}

// The first event of each detail type in `kinds`, read until all have arrived. Every event must
// be of one of them. On AWS an event may come twice: PutEvents re-sent after a lost answer
// publishes it again under a new id (docs/aws.md, "Other writes and retries"); a repeat must then
// equal the first copy. Elsewhere delivery is exactly once and a repeat fails.
async function collectKinds(subscription, kinds, atLeastOnce) {
  const heard = {}
  while (Object.keys(heard).length < kinds.length) {
    const event = await subscription.next(30000)
    assert.ok(event, `only ${Object.keys(heard).sort()} of ${kinds} arrived within 30 s`)
    assert.ok(kinds.includes(event.detailType), `unexpected event ${event.detailType}`)
    const first = heard[event.detailType]
    if (first === undefined) {
      heard[event.detailType] = event
    } else {
      assert.ok(atLeastOnce, `${event.detailType} was delivered twice`)
      assert.deepEqual([event.source, event.detail], [first.source, first.detail])
    }
  }
  return heard
}

behaviour("the guide's mcp.call blocks, verbatim", async (mesh) => {
  const mcp = mesh
  // The guide's placeholders.
  const pdfContent = '%PDF-1.4 John resume (demo)'
  const contractContent = '%PDF-1.4 Agreement ABC v2.1'
  const modelBinary = 'model weights v2.1'
  const content_id = 'post-1'
  const userProfile = { name: 'Ann', plan: 'pro' }
  // Subscribers start before anything is sent: services B, C and D of "Event-Driven
  // Architecture", and a CQRS projector (see below).
  const inventory = await mesh.events.subscribe({ 'detail-type': ['OrderCreated'] })
  const shipping = await mesh.events.subscribe({ 'detail-type': ['OrderCreated'] })
  const analytics = await mesh.events.subscribe({ source: [{ prefix: '' }] })
  const commands = await mesh.events.subscribe({ 'detail-type': ['UserProfileUpdated'] })

  { // Quick Start 1. Personal AI Assistant with Memory
    // Store conversation context
    await mcp.call('mesh_kv_set', {
      key: 'user:john:preferences',
      value: JSON.stringify({
        communication_style: 'casual',
        preferred_topics: ['tech', 'music'],
        timezone: 'PST'
      }),
      ttl_hours: 720 // 30 days
    });

    // Store file attachment
    await mcp.call('mesh_artifacts_put', {
      key: 'conversations/2024/resume.pdf',
      content: pdfContent,
      content_type: 'application/pdf'
    });
  }

  { // Quick Start 2. Document Processing Pipeline
    // Trigger document processing
    await mcp.call('mesh_event_send', {
      detail_type: 'DocumentUploaded',
      detail: {
        document_id: 'doc-123',
        bucket: 'agent-mesh-artifacts',
        key: 'documents/contract.pdf',
        processing_type: 'legal_review'
      },
      source: 'document-processor'
    });
  }

  { // Healthcare & Medical
    // Store patient timeline event
    await mcp.call('mesh_kv_set', {
      key: 'patient:12345:timeline:2024-01-15',
      value: JSON.stringify({
        event_type: 'lab_result',
        results: { glucose: 95, cholesterol: 180 },
        provider: 'Dr. Smith',
        timestamp: '2024-01-15T10:30:00Z'
      })
    });

    // Notify care team
    await mcp.call('mesh_event_send', {
      detail_type: 'LabResultsAvailable',
      detail: {
        patient_id: '12345',
        critical: false,
        provider: 'Dr. Smith'
      }
    });
  }

  { // Legal & Compliance
    // Store contract version
    await mcp.call('mesh_artifacts_put', {
      key: 'contracts/client-abc/v2.1/agreement.pdf',
      content: contractContent,
      content_type: 'application/pdf'
    });

    // Track compliance check
    await mcp.call('mesh_kv_set', {
      key: 'compliance:contract:abc:gdpr',
      value: JSON.stringify({
        status: 'compliant',
        checked_at: '2024-01-15T14:00:00Z',
        requirements_met: ['data_protection', 'right_to_erasure'],
        next_review: '2024-07-15'
      })
    });
  }

  { // Financial Services
    // Store risk calculation result
    await mcp.call('mesh_kv_set', {
      key: 'risk:portfolio:tech-fund:var',
      value: JSON.stringify({
        value_at_risk: 0.15,
        confidence: 0.95,
        time_horizon: '1d',
        calculated_at: '2024-01-15T16:00:00Z'
      }),
      ttl_hours: 1 // Refresh hourly
    });

    // Trigger rebalancing workflow
    await mcp.call('mesh_event_send', {
      detail_type: 'RiskThresholdExceeded',
      detail: {
        portfolio: 'tech-fund',
        current_var: 0.15,
        threshold: 0.10,
        action: 'rebalance'
      }
    });
  }

  { // E-commerce & Retail
    // Update customer preferences
    await mcp.call('mesh_kv_set', {
      key: 'customer:user123:preferences',
      value: JSON.stringify({
        categories: ['electronics', 'books'],
        price_range: { min: 10, max: 500 },
        brands: ['apple', 'samsung'],
        last_updated: '2024-01-15T12:00:00Z'
      })
    });

    // Process purchase event
    await mcp.call('mesh_event_send', {
      detail_type: 'PurchaseCompleted',
      detail: {
        customer_id: 'user123',
        order_id: 'ord-456',
        items: [{ sku: 'iphone-15', quantity: 1, price: 999 }],
        total: 999
      }
    });
  }

  { // Integration Patterns 1. Event-Driven Architecture
    // Service A: Order processing
    await mcp.call('mesh_event_send', {
      detail_type: 'OrderCreated',
      detail: { order_id: 'ord-123', customer_id: 'cust-456' }
    });

    // Service B: Inventory management (listens for OrderCreated)
    // Service C: Shipping (listens for OrderCreated)
    // Service D: Analytics (listens for all events)
  }

  // Integration Patterns 2. CQRS with Event Sourcing: the command below is an event; the query
  // reads a read model that a projector keeps from the events (as examples/*/cqrs_event_sourcing
  // do). Queries right after a command may see the state before it: the projector is checked
  // after the block.
  const projector = (async () => {
    const event = await commands.next(30000)
    assert.ok(event, 'the projector received no UserProfileUpdated event within 30 s')
    await mesh.timeline.append(`user/${event.detail.user_id}/profile`, event.detail)
    await mesh.kv.set(`user:${event.detail.user_id}:profile`, { user_id: event.detail.user_id, [event.detail.field]: event.detail.new_value })
    await commands.close()
  })()
  let cqrs
  { // Integration Patterns 2. CQRS with Event Sourcing
    // Command: Update user profile
    await mcp.call('mesh_event_send', {
      detail_type: 'UserProfileUpdated',
      detail: { user_id: 'user123', field: 'email', new_value: 'new@email.com' }
    });

    // Query: Get current user state
    const profile = await mcp.call('mesh_kv_get', {
      key: 'user:user123:profile'
    });

    // Event sourcing: Get user history
    const timeline = await mcp.call('mesh_timeline_get', {
      prefix: 'user/user123/',
      max_keys: 50
    });
    cqrs = { profile, timeline }
  }

  { // Integration Patterns 3. Saga Pattern for Distributed Transactions
    // Start booking saga
    await mcp.call('mesh_event_send', {
      detail_type: 'BookingRequested',
      detail: {
        saga_id: 'saga-789',
        flight_id: 'fl-123',
        hotel_id: 'ht-456',
        user_id: 'user123'
      }
    });

    // Store saga state
    await mcp.call('mesh_kv_set', {
      key: 'saga:saga-789:state',
      value: JSON.stringify({
        status: 'flight_booked',
        steps_completed: ['reserve_flight'],
        steps_remaining: ['reserve_hotel', 'charge_payment'],
        rollback_actions: ['cancel_flight']
      })
    });
  }

  { // Workflow Examples 1. Content Moderation Pipeline, MCP Integration
    // Store moderation result
    await mcp.call('mesh_kv_set', {
      key: `moderation:${content_id}:result`,
      value: JSON.stringify({
        status: 'approved',
        confidence: 0.95,
        flags: [],
        reviewed_at: '2024-01-15T10:00:00Z'
      })
    });
  }

  { // Workflow Examples 2. ML Model Training Pipeline
    // Store training job metadata
    await mcp.call('mesh_kv_set', {
      key: 'ml:training:job-123:metadata',
      value: JSON.stringify({
        model_type: 'classification',
        dataset_version: 'v2.1',
        hyperparameters: { learning_rate: 0.001, epochs: 100 },
        status: 'training'
      })
    });

    // Store model artifacts
    await mcp.call('mesh_artifacts_put', {
      key: 'models/classification/v2.1/model.pkl',
      content: modelBinary,
      content_type: 'application/octet-stream'
    });

    // Trigger deployment event
    await mcp.call('mesh_event_send', {
      detail_type: 'ModelTrainingCompleted',
      detail: {
        job_id: 'job-123',
        model_version: 'v2.1',
        accuracy: 0.94,
        ready_for_deployment: true
      }
    });
  }

  { // Advanced Patterns 1. Multi-Tenant Architecture (key prefixes; mesh.scope(tenant) is not built yet)
    // Tenant-scoped operations
    const tenantId = 'tenant-abc';

    // Store tenant-scoped data
    await mcp.call('mesh_kv_set', {
      key: `${tenantId}:user:123:profile`,
      value: JSON.stringify(userProfile)
    });

    // Tenant-scoped events
    await mcp.call('mesh_event_send', {
      detail_type: 'UserAction',
      detail: { tenant_id: tenantId, user_id: '123', action: 'login' }
    });
  }

  { // Advanced Patterns 2. A/B Testing Framework
    // Store experiment configuration
    await mcp.call('mesh_kv_set', {
      key: 'experiment:checkout-flow:config',
      value: JSON.stringify({
        variants: { A: 0.5, B: 0.5 },
        start_date: '2024-01-15',
        metrics: ['conversion_rate', 'revenue']
      })
    });

    // Track experiment event
    await mcp.call('mesh_event_send', {
      detail_type: 'ExperimentEvent',
      detail: {
        experiment: 'checkout-flow',
        variant: 'A',
        user_id: 'user123',
        event: 'conversion'
      }
    });
  }

  { // Advanced Patterns 3. Real-Time Analytics
    // Store real-time metrics
    await mcp.call('mesh_kv_set', {
      key: 'metrics:hourly:2024-01-15-14',
      value: JSON.stringify({
        active_users: 1250,
        page_views: 5000,
        conversions: 85,
        revenue: 12500
      }),
      ttl_hours: 168 // Keep for 1 week
    });
  }

  // ---- What the blocks did ----
  // Values are stored as the JSON text the guide passes (upstream's format); mesh_kv_set's TTL
  // defaults to 24 hours, as upstream's did.
  const stored = async (key) => {
    const item = await mesh.kv.get(key)
    assert.ok(item, `${key} was not stored`)
    return item
  }
  const prefs = await stored('user:john:preferences')
  assert.deepEqual(JSON.parse(prefs.value), { communication_style: 'casual', preferred_topics: ['tech', 'music'], timezone: 'PST' })
  assertExpiresIn(prefs, 720)
  assertExpiresIn(await stored('patient:12345:timeline:2024-01-15'), 24)
  assert.equal(JSON.parse((await stored('patient:12345:timeline:2024-01-15')).value).results.glucose, 95)
  assert.deepEqual(JSON.parse((await stored('compliance:contract:abc:gdpr')).value).requirements_met, ['data_protection', 'right_to_erasure'])
  assertExpiresIn(await stored('risk:portfolio:tech-fund:var'), 1)
  assert.deepEqual(JSON.parse((await stored('customer:user123:preferences')).value).brands, ['apple', 'samsung'])
  assert.deepEqual(JSON.parse((await stored('saga:saga-789:state')).value).rollback_actions, ['cancel_flight'])
  assert.equal(JSON.parse((await stored('moderation:post-1:result')).value).status, 'approved')
  assert.equal(JSON.parse((await stored('ml:training:job-123:metadata')).value).status, 'training')
  assert.deepEqual(JSON.parse((await stored('tenant-abc:user:123:profile')).value), userProfile)
  assert.deepEqual(JSON.parse((await stored('experiment:checkout-flow:config')).value).variants, { A: 0.5, B: 0.5 })
  const metrics = await stored('metrics:hourly:2024-01-15-14')
  assert.equal(JSON.parse(metrics.value).revenue, 12500)
  assertExpiresIn(metrics, 168)
  for (const [key, content, type] of [
    ['conversations/2024/resume.pdf', pdfContent, 'application/pdf'],
    ['contracts/client-abc/v2.1/agreement.pdf', contractContent, 'application/pdf'],
    ['models/classification/v2.1/model.pkl', modelBinary, 'application/octet-stream'],
  ]) {
    const artifact = await mesh.artifacts.get(key)
    assert.ok(artifact, `${key} was not stored`)
    assert.equal(artifact.data.toString('utf8'), content)
    assert.equal(artifact.meta.contentType, type)
  }

  // Events: services B and C heard the order; D (every event) heard all ten the blocks sent.
  for (const service of [inventory, shipping]) {
    const [order] = await collect(service, 1)
    assert.deepEqual([order.detailType, order.detail], ['OrderCreated', { order_id: 'ord-123', customer_id: 'cust-456' }])
    await service.close()
  }
  const heard = await collectKinds(analytics, ['BookingRequested', 'DocumentUploaded', 'ExperimentEvent', 'LabResultsAvailable',
    'ModelTrainingCompleted', 'OrderCreated', 'PurchaseCompleted', 'RiskThresholdExceeded', 'UserAction', 'UserProfileUpdated'], isAws(mesh))
  await analytics.close()
  assert.equal(heard.DocumentUploaded.source, 'document-processor')
  assert.deepEqual(heard.DocumentUploaded.detail, { document_id: 'doc-123', bucket: 'agent-mesh-artifacts', key: 'documents/contract.pdf', processing_type: 'legal_review' })
  assert.deepEqual(heard.RiskThresholdExceeded.detail, { portfolio: 'tech-fund', current_var: 0.15, threshold: 0.1, action: 'rebalance' })
  assert.equal(heard.PurchaseCompleted.detail.items[0].sku, 'iphone-15')
  assert.deepEqual(heard.UserAction.detail, { tenant_id: 'tenant-abc', user_id: '123', action: 'login' })
  assert.equal(heard.ModelTrainingCompleted.detail.ready_for_deployment, true)

  // CQRS: the guide's queries answered in upstream's shapes; once the projector has applied the
  // command, the same queries return the current state and the user's history.
  assert.equal(cqrs.profile.key, 'user:user123:profile')
  assert.equal(typeof cqrs.profile.found, 'boolean')
  assert.equal(cqrs.timeline.prefix, 'user/user123/')
  assert.equal(typeof cqrs.timeline.count, 'number')
  await projector
  const profile = await mcp.call('mesh_kv_get', { key: 'user:user123:profile' })
  assert.deepEqual([profile.found, profile.value], [true, { user_id: 'user123', email: 'new@email.com' }])
  const timeline = await mcp.call('mesh_timeline_get', { prefix: 'user/user123/', max_keys: 50 })
  assert.equal(timeline.count, 1)
  const [entry] = (await mesh.timeline.get('user/user123/', { limit: 50 })).items
  assert.deepEqual([entry.stream, entry.data], ['user/user123/profile', { user_id: 'user123', field: 'email', new_value: 'new@email.com' }])
})
