// The tool surface case of the behaviour suite (the same case as core/tests/behaviour/tools.rs and
// bindings-python/tests/test_tools.py).
'use strict'
const assert = require('node:assert/strict')
const { behaviour, rejection } = require('./helpers')

behaviour('upstream_tools_roundtrip', 'call keeps the upstream MCP tools', async (mesh) => {
  assert.equal((await mesh.call('mesh_kv_set', { key: 'user:1', value: 'v', ttl_hours: 1 })).success, true)
  assert.equal((await mesh.call('mesh_kv_get', { key: 'user:1' })).value, 'v')
  assert.deepEqual(await mesh.call('mesh_kv_get', { key: 'nope' }), { key: 'nope', value: null, found: false })
  const sent = await mesh.call('mesh_event_send', { detail_type: 'OrderCreated', detail: { order_id: 'ord-123' }, source: 'shop' })
  const timeline = await mesh.call('mesh_timeline_get', { prefix: 'events/shop/', max_keys: 10 })
  assert.equal(timeline.count, 1)
  assert.equal(timeline.timeline_events[0].data.id, sent.event_id)
  assert.equal((await mesh.call('mesh_status')).status, 'ok')
  await mesh.workflows.create('tool-echo', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } })
  const started = await mesh.call('mesh_workflow_start', { name: 'tool-echo', input: { x: 1 } })
  assert.equal(started.status, 'RUNNING')
  let status
  for (let i = 0; i < 1000; i++) {
    status = await mesh.call('mesh_workflow_status', { execution_arn: started.execution_arn })
    if (status.status !== 'RUNNING') break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.equal(status.status, 'SUCCEEDED')
  assert.deepEqual(status.output, { x: 1 })
  const e = await rejection(mesh.call('mesh_nope', {}))
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /mesh_kv_get/)
})
