// KV cases of the behaviour suite (the same cases as core/tests/behaviour/kv.rs).
'use strict'
const assert = require('node:assert/strict')
const { behaviour, rejection, sleep } = require('./helpers')
const { MeshError } = require('..')

behaviour('set_get_roundtrip_all_json_types', 'set/get roundtrip of every JSON type', async (mesh) => {
  const values = [null, true, 42, -1.5, 'text with "quotes" and ünïcode', [1, 'two', { three: 3 }],
    { timezone: 'PST', nested: { list: [1, 2], empty: {} } }]
  for (const [i, value] of values.entries()) {
    const key = `roundtrip:${i}`
    const stored = await mesh.kv.set(key, value)
    assert.equal(stored.version, 1)
    const item = await mesh.kv.get(key)
    assert.deepEqual(item.value, value)
    assert.equal(item.key, key)
    assert.equal(item.version, 1)
    assert.ok(item.createdAt instanceof Date)
    assert.equal(item.createdAt.getTime(), item.updatedAt.getTime())
    assert.equal(item.expiresAt ?? null, null)
  }
  assert.equal(await mesh.kv.get('roundtrip:missing'), null)
  assert.deepEqual(Object.keys((await mesh.kv.get('roundtrip:6')).value), ['timezone', 'nested'])
})

behaviour('overwrite_bumps_version_and_keeps_created_at', 'overwrite bumps the version and keeps createdAt', async (mesh) => {
  const first = await mesh.kv.set('counter', 1)
  await sleep(5)
  const second = await mesh.kv.set('counter', 2)
  assert.equal(second.version, 2)
  assert.equal(second.createdAt.getTime(), first.createdAt.getTime())
  assert.ok(second.updatedAt > first.updatedAt)
  const item = await mesh.kv.get('counter')
  assert.deepEqual([item.value, item.version], [2, 2])
})

behaviour('ttl_expiry_hides_items_everywhere', 'TTL expiry hides items everywhere', async (mesh) => {
  await mesh.kv.set('ttl:a', 'a', { ttlSeconds: 0.4 })
  await mesh.kv.set('ttl:b', 'b', { ttlSeconds: 0.4 })
  await mesh.kv.set('ttl:keep', 'keep', { ttlHours: 1 })
  assert.notEqual(await mesh.kv.get('ttl:a'), null)
  await sleep(600)
  assert.equal(await mesh.kv.get('ttl:a'), null)
  const [a, keep] = await mesh.kv.batchGet(['ttl:a', 'ttl:keep'])
  assert.equal(a, null)
  assert.notEqual(keep, null)
  assert.deepEqual((await mesh.kv.list('ttl:')).items.map((i) => i.key), ['ttl:keep'])
  assert.equal(await mesh.kv.delete('ttl:b'), false)
  assert.equal((await rejection(mesh.kv.set('ttl:a', 0, { ifVersion: 1 }))).code, 'Conflict')
  assert.equal((await mesh.kv.set('ttl:a', 'again', { ifAbsent: true })).version, 1)
  assert.equal((await mesh.kv.get('ttl:a')).value, 'again')
})

behaviour('ttl_constructors_set_expires_at', 'TTL options set expiresAt', async (mesh) => {
  const now = Date.now()
  const hours = await mesh.kv.set('ttl:h', 1, { ttlHours: 720 })
  const secs = await mesh.kv.set('ttl:s', 1, { ttlSeconds: 90 })
  assert.ok(Math.abs(hours.expiresAt - now - 720 * 3600e3) < 5000)
  assert.ok(Math.abs(secs.expiresAt - now - 90e3) < 5000)
  assert.equal((await mesh.kv.get('ttl:h')).expiresAt.getTime(), hours.expiresAt.getTime())
  for (const bad of [{ ttlSeconds: 0 }, { ttlSeconds: -1 }, { ttlSeconds: 1, ttlHours: 1 }]) {
    const e = await rejection(mesh.kv.set('ttl:z', 1, bad))
    assert.equal(e.code, 'InvalidInput')
    assert.match(e.message, /TTL|ttl/)
  }
})

behaviour('if_version_conflicts_change_nothing', 'ifVersion conflicts change nothing', async (mesh) => {
  await mesh.kv.set('cas', 'v1')
  assert.equal((await mesh.kv.set('cas', 'v2', { ifVersion: 1 })).version, 2)
  const e = await rejection(mesh.kv.set('cas', 'stale', { ifVersion: 1 }))
  assert.ok(e instanceof MeshError && e instanceof Error)
  assert.equal(e.code, 'Conflict')
  assert.equal(e.retryable, false)
  assert.match(e.message, /kv\.set "cas".*current version is 2/)
  assert.equal(e.context.key, 'cas')
  const item = await mesh.kv.get('cas')
  assert.deepEqual([item.value, item.version], ['v2', 2])
  assert.equal((await rejection(mesh.kv.set('cas:none', 1, { ifVersion: 1 }))).code, 'Conflict')
  assert.equal(await mesh.kv.get('cas:none'), null)
})

behaviour('if_absent_creates_once', 'ifAbsent creates once', async (mesh) => {
  await mesh.kv.set('once', 'first', { ifAbsent: true })
  assert.equal((await rejection(mesh.kv.set('once', 'second', { ifAbsent: true }))).code, 'Conflict')
  assert.equal((await mesh.kv.get('once')).value, 'first')
  assert.equal((await rejection(mesh.kv.set('once', 3, { ifAbsent: true, ifVersion: 1 }))).code, 'InvalidInput')
  assert.equal(await mesh.kv.delete('once'), true)
  assert.equal((await mesh.kv.set('once', 'third', { ifAbsent: true })).version, 1)
})

behaviour('delete_reports_whether_live', 'delete reports whether the item was live', async (mesh) => {
  await mesh.kv.set('del', 1)
  assert.equal(await mesh.kv.delete('del'), true)
  assert.equal(await mesh.kv.delete('del'), false)
  assert.equal(await mesh.kv.get('del'), null)
  assert.equal(await mesh.kv.delete('never-written'), false)
})

async function listAll(mesh, prefix, limit) {
  const keys = []
  let cursor
  for (;;) {
    const page = await mesh.kv.list(prefix, { limit, cursor })
    assert.ok(page.items.length <= limit)
    if (page.nextCursor) assert.equal(page.items.length, limit, 'a page before the last is full')
    keys.push(...page.items.map((i) => i.key))
    cursor = page.nextCursor
    if (!cursor) return keys
  }
}

behaviour('list_pages_are_complete_and_disjoint', 'list pages are complete and disjoint', async (mesh) => {
  const expected = Array.from({ length: 250 }, (_, i) => `page:${String(i).padStart(4, '0')}`)
  for (let start = 0; start < 250; start += 100) {
    await mesh.kv.batchSet(Object.fromEntries(expected.slice(start, start + 100).map((k, i) => [k, start + i])))
  }
  await mesh.kv.set('other:1', 1)
  for (const limit of [1, 7, 100, 250, 1000]) {
    assert.deepEqual(await listAll(mesh, 'page:', limit), expected, `limit ${limit}`)
  }
  const first = await mesh.kv.list('page:')
  assert.equal(first.items.length, 100)
  assert.ok(first.nextCursor)
  const page = await mesh.kv.list('page:', { limit: 10 })
  await mesh.kv.set('page:9999', 'late')
  const rest = await mesh.kv.list('page:', { limit: 1000, cursor: page.nextCursor })
  assert.equal(rest.items.at(-1).key, 'page:9999')
  assert.equal(rest.items.length, 241)
})

behaviour('list_respects_prefix_bounds', 'list respects prefix bounds', async (mesh) => {
  for (const key of ['use', 'user', 'user:', 'user:1', 'user:1:a', 'user;', 'user\u{10FFFF}', 'usera', 'ü:1', 'ü;']) {
    await mesh.kv.set(key, key)
  }
  const keys = async (prefix) => (await mesh.kv.list(prefix)).items.map((i) => i.key)
  assert.deepEqual(await keys('user:'), ['user:', 'user:1', 'user:1:a'])
  assert.deepEqual(await keys('user'), ['user', 'user:', 'user:1', 'user:1:a', 'user;', 'usera', 'user\u{10FFFF}'])
  assert.deepEqual(await keys('ü'), ['ü:1', 'ü;'])
  assert.deepEqual(await keys('nothing'), [])
  assert.equal((await mesh.kv.list()).items.length, 10)
})

behaviour('list_options_are_validated', 'list options are validated', async (mesh) => {
  const zero = await rejection(mesh.kv.list('p', { limit: 0 }))
  assert.equal(zero.code, 'InvalidInput')
  assert.match(zero.message, /kv\.list/)
  assert.equal((await rejection(mesh.kv.list('p', { cursor: 'not a cursor!' }))).code, 'InvalidInput')
  for (let start = 0; start < 1001; start += 100) {
    const pairs = []
    for (let i = start; i < Math.min(start + 100, 1001); i++) pairs.push([`clamp:${String(i).padStart(4, '0')}`, i])
    await mesh.kv.batchSet(pairs)
  }
  const page = await mesh.kv.list('clamp:', { limit: 5000 })
  assert.equal(page.items.length, 1000)
  assert.ok(page.nextCursor)
})

behaviour('batch_get_and_set', 'batchGet and batchSet', async (mesh) => {
  await mesh.kv.batchSet(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`batch:${i}`, { n: i }])), { ttlHours: 1 })
  const got = await mesh.kv.batchGet(['batch:7', 'batch:missing', 'batch:0', 'batch:7'])
  assert.equal(got.length, 4)
  assert.deepEqual(got[0].value, { n: 7 })
  assert.equal(got[1], null)
  assert.deepEqual(got[2].value, { n: 0 })
  assert.ok(got[0].expiresAt)
  assert.deepEqual(got[3].value, got[0].value)
  await mesh.kv.batchSet([['batch:7', 'new']])
  assert.equal((await mesh.kv.get('batch:7')).version, 2)
  assert.deepEqual(await mesh.kv.batchGet([]), [])
  await mesh.kv.batchSet({})
})

behaviour('batch_set_rejects_bad_batches_whole', 'batchSet rejects bad batches whole', async (mesh) => {
  const tooMany = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`big:${i}`, i]))
  const e = await rejection(mesh.kv.batchSet(tooMany))
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /at most 100/)
  assert.equal((await rejection(mesh.kv.batchSet([['d', 1], ['d', 2]]))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.kv.batchSet({ c: 1 }, { ifAbsent: true }))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.kv.batchSet({ 'mixed:ok': 1, 'mixed:big': 'x'.repeat(64 * 1024 * 1024) }))).code, 'TooLarge')
  assert.equal((await rejection(mesh.kv.batchSet([['only-key']]))).code, 'InvalidInput')
  for (const key of ['mixed:ok', 'big:0', 'd', 'c']) assert.equal(await mesh.kv.get(key), null, key)
})

behaviour('bad_keys_are_invalid_input', 'bad keys are InvalidInput', async (mesh) => {
  const long = 'k'.repeat(1025)
  for (const key of ['', long, 'nul\0key']) {
    const e = await rejection(mesh.kv.set(key, 1))
    assert.equal(e.code, 'InvalidInput')
    assert.match(e.message, /kv\.set/)
    for (const call of [() => mesh.kv.get(key), () => mesh.kv.delete(key), () => mesh.kv.batchGet([key])]) {
      assert.equal((await rejection(call())).code, 'InvalidInput')
    }
  }
  assert.match((await rejection(mesh.kv.get(long))).message, /1025 bytes.*1024/)
  await mesh.kv.set('k'.repeat(1024), 'max')
  assert.equal((await mesh.kv.get('k'.repeat(1024))).value, 'max')
  await mesh.kv.set('é'.repeat(512), 1)
  assert.equal((await rejection(mesh.kv.set('é'.repeat(513), 1))).code, 'InvalidInput')
  for (const key of ['with space', '../../etc/passwd', 'emoji:🚀', 'tab\tkey']) {
    await mesh.kv.set(key, key)
    assert.equal((await mesh.kv.get(key)).value, key)
  }
})

behaviour('concurrent_conditional_increments_are_exact', 'concurrent conditional increments are exact', async (mesh) => {
  await mesh.kv.set('count', 0)
  const worker = async () => {
    let done = 0
    while (done < 50) {
      const item = await mesh.kv.get('count')
      try {
        await mesh.kv.set('count', item.value + 1, { ifVersion: item.version })
        done++
      } catch (e) {
        if (e.code !== 'Conflict') throw e
      }
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()])
  const item = await mesh.kv.get('count')
  assert.deepEqual([item.value, item.version], [200, 201])
})
