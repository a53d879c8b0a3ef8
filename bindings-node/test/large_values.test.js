// Large-value cases of the behaviour suite (the same cases as core/tests/behaviour/large_values.rs):
// KV values over the 400 KB item limit, stored as a body in the artifact store and a pointer item.
'use strict'
const assert = require('node:assert/strict')
const { behaviour, rejection, sleep } = require('./helpers')

const BODIES = '.agent-mesh/kv-values/'
const ITEM_LIMIT = 400000 - 200
const MAX_VALUE = 64 * 1024 * 1024

// A value whose JSON text is about `size` bytes, different for each seed.
const value = (size, seed) => {
  const unit = seed.toString(16).padStart(16, '0')
  return { seed, text: unit.repeat(Math.ceil(size / 16) + 1).slice(0, size) }
}

const bodies = async (mesh) => (await mesh.artifacts.list(BODIES, { limit: 1000 })).items.map((m) => m.key)

behaviour('large_values_round_trip_through_every_read', 'large values round-trip through every read', async (mesh) => {
  for (const [i, size] of [400000, 1000000, 20000000].entries()) {
    const v = value(size, i)
    const item = await mesh.kv.set(`big/${i}`, v)
    assert.equal(item.version, 1)
    assert.deepEqual(item.value, v, `set of ${size} bytes`)
    const got = await mesh.kv.get(`big/${i}`)
    assert.deepEqual([got.version, got.value], [1, v], `get of ${size} bytes`)
  }
  assert.equal((await bodies(mesh)).length, 3, 'one body per large value')
  await mesh.kv.set('big/small', 'small')
  const got = await mesh.kv.batchGet(['big/0', 'big/none', 'big/2', 'big/small'])
  assert.deepEqual(got.map((i) => i?.value ?? null), [value(400000, 0), null, value(20000000, 2), 'small'])
  const page = await mesh.kv.list('big/', { limit: 2 })
  assert.equal(page.items.length, 2)
  assert.deepEqual(page.items[1].value, value(1000000, 1))
  // A page ends early once the bodies it read pass 8 MiB, whatever its limit: the 20 MB value
  // comes alone, with a cursor to the rest.
  const rest = await mesh.kv.list('big/', { limit: 10, cursor: page.nextCursor })
  assert.deepEqual(rest.items.map((i) => i.key), ['big/2'])
  assert.deepEqual(rest.items[0].value, value(20000000, 2))
  const last = await mesh.kv.list('big/', { limit: 10, cursor: rest.nextCursor })
  assert.deepEqual(last.items.map((i) => i.key), ['big/small'])
  assert.equal(last.nextCursor, undefined, 'the last page has no cursor')
  // The bodies are agent-mesh's own: not listed with the client's artifacts, not readable.
  assert.deepEqual((await mesh.artifacts.list('')).items, [])
  const e = await rejection(mesh.artifacts.get((await bodies(mesh))[0]))
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /\.agent-mesh/)
  // The upstream tools see plain values too.
  const text = 't'.repeat(1000000)
  await mesh.call('mesh_kv_set', { key: 'tool/big', value: text })
  assert.equal((await mesh.call('mesh_kv_get', { key: 'tool/big' })).value, text)
})

behaviour('values_over_64_mib_are_too_large', 'values over 64 MiB are TooLarge', async (mesh) => {
  const key = 'edge'
  const fits = 'x'.repeat(ITEM_LIMIT - key.length - 2)
  await mesh.kv.set(key, fits)
  assert.deepEqual(await bodies(mesh), [], 'an item within the limit has no body')
  const over = 'x'.repeat(ITEM_LIMIT - key.length - 1)
  await mesh.kv.set(key, over)
  assert.equal((await mesh.kv.get(key)).value, over)
  assert.equal((await bodies(mesh)).length, 1, 'one byte over has a body')
  const e = await rejection(mesh.kv.set(key, 'x'.repeat(MAX_VALUE - 1)))
  assert.equal(e.code, 'TooLarge')
  assert.match(e.message, /64 MiB/)
  assert.match(e.message, /"edge"/)
  assert.equal((await mesh.kv.get(key)).value, over, 'the old value survives')
  assert.equal((await bodies(mesh)).length, 1)
})

behaviour('large_values_keep_ttl_conditions_and_versions', 'large values keep TTL, conditions and versions', async (mesh) => {
  const item = await mesh.kv.set('ttl', value(500000, 1), { ttlSeconds: 1.5 })
  assert.ok(item.expiresAt instanceof Date)
  assert.deepEqual((await mesh.kv.get('ttl')).value, value(500000, 1))
  await sleep(1700)
  assert.equal(await mesh.kv.get('ttl'), null)
  assert.deepEqual(await mesh.kv.batchGet(['ttl']), [null])
  assert.deepEqual((await mesh.kv.list('ttl')).items, [])
  // An expired large value counts as absent for ifAbsent; its body goes with the new write.
  await mesh.kv.set('ttl', value(500000, 2), { ifAbsent: true })
  assert.equal((await bodies(mesh)).length, 1, 'the expired body was released')

  const v1 = await mesh.kv.set('cas', value(600000, 1), { ifAbsent: true })
  assert.equal(v1.version, 1)
  assert.equal((await mesh.kv.set('cas', value(600000, 2), { ifVersion: 1 })).version, 2)
  for (const refused of [{ ifVersion: 1 }, { ifAbsent: true }]) {
    assert.equal((await rejection(mesh.kv.set('cas', value(600000, 3), refused))).code, 'Conflict')
  }
  const now = await mesh.kv.get('cas')
  assert.deepEqual([now.version, now.value], [2, value(600000, 2)])
  assert.equal(now.createdAt.getTime(), v1.createdAt.getTime(), 'createdAt is kept across overwrites')
  assert.equal((await bodies(mesh)).length, 2, 'refused writes leave no body behind')
  assert.equal((await mesh.kv.set('cas', 'small again', { ifVersion: 2 })).version, 3)
  assert.equal((await bodies(mesh)).length, 1)
})

behaviour('large_values_leave_no_orphan_bodies', 'large values leave no orphan bodies', async (mesh) => {
  await mesh.kv.set('a', value(450000, 1))
  const first = await bodies(mesh)
  assert.equal(first.length, 1)
  await mesh.kv.set('a', value(450000, 2))
  const second = await bodies(mesh)
  assert.equal(second.length, 1, 'an overwrite releases the old body')
  assert.notDeepEqual(first, second)
  await mesh.kv.set('a', 1)
  assert.deepEqual(await bodies(mesh), [], 'a small overwrite releases it')
  await mesh.kv.set('a', value(450000, 3))
  assert.equal(await mesh.kv.delete('a'), true)
  assert.deepEqual(await bodies(mesh), [], 'a delete releases it')
  assert.equal(await mesh.kv.delete('a'), false)

  await mesh.kv.batchSet({ b: value(700000, 1), c: value(700000, 2), d: 'small' })
  assert.equal((await bodies(mesh)).length, 2)
  assert.deepEqual((await mesh.kv.batchGet(['b', 'c', 'd']))[1].value, value(700000, 2))
  await mesh.kv.batchSet({ b: 0, c: value(700000, 3) })
  assert.equal((await bodies(mesh)).length, 1)
  assert.deepEqual((await mesh.kv.get('c')).value, value(700000, 3))
  assert.equal(await mesh.kv.delete('c'), true)
  assert.deepEqual(await bodies(mesh), [])
  // Writes refused after their bodies were stored (a key too long only with the scope's
  // prefix, which the backend's scope layer checks) leave no body behind.
  const scoped = mesh.scope('refused')
  const long = 'k'.repeat(1020)
  assert.equal((await rejection(scoped.kv.set(long, value(700000, 4)))).code, 'InvalidInput')
  assert.equal((await rejection(scoped.kv.batchSet({ e: value(700000, 4), [long]: 1 }))).code, 'InvalidInput')
  assert.equal(await scoped.kv.get('e'), null)
  assert.deepEqual(await bodies(scoped), [])

  // A tenant's bodies stay in its scope, where its IAM policy reaches.
  const tenant = mesh.scope('large-t')
  await tenant.kv.set('k', value(450000, 5))
  assert.equal((await bodies(tenant)).length, 1)
  assert.deepEqual(await bodies(mesh), [])
  assert.deepEqual((await tenant.kv.get('k')).value, value(450000, 5))
  assert.deepEqual((await mesh.kv.get('tenants/large-t/k')).value, value(450000, 5))
  assert.equal(await tenant.kv.delete('k'), true)
  assert.deepEqual(await bodies(tenant), [])
})
