// Timeline cases of the behaviour suite (the same cases as core/tests/behaviour/timeline.rs).
'use strict'
const assert = require('node:assert/strict')
const { behaviour, rejection, sleep } = require('./helpers')

async function allPages(mesh, prefix, query) {
  const out = []
  let cursor
  for (;;) {
    const page = await mesh.timeline.get(prefix, { ...query, cursor })
    if (page.nextCursor) assert.equal(page.items.length, query.limit ?? 100, 'only the last page may be short')
    out.push(...page.items)
    cursor = page.nextCursor
    if (!cursor) return out
  }
}

behaviour('append_and_get_newest_first', 'append and get, newest first', async (mesh) => {
  const appended = []
  for (let i = 0; i < 5; i++) appended.push(await mesh.timeline.append('user/u1/profile', { i }))
  assert.equal(appended[0].stream, 'user/u1/profile')
  assert.equal(appended[0].id.length, 26)
  assert.ok(appended[0].time instanceof Date)
  const page = await mesh.timeline.get('user/u1/')
  assert.deepEqual(page.items.map((e) => e.id), appended.map((e) => e.id).reverse())
  assert.deepEqual(page.items.map((e) => e.data.i), [4, 3, 2, 1, 0])
  assert.equal(page.nextCursor ?? null, null)
})

behaviour('prefix_pages_are_complete_and_disjoint', 'prefix pages are complete and disjoint', async (mesh) => {
  const entries = []
  for (let i = 0; i < 120; i++) entries.push(await mesh.timeline.append(`team/t${i % 3}/agent${i % 4}`, { i }))
  await mesh.timeline.append('teams-other/x', {})
  for (const prefix of ['team/', 'team/t1/', 'team/t1/agent1', 'team/t2/agent']) {
    const expected = entries.filter((e) => e.stream.startsWith(prefix)).map((e) => e.id).reverse()
    for (const limit of [7, 1000]) {
      assert.deepEqual((await allPages(mesh, prefix, { limit })).map((e) => e.id), expected, `${prefix} ${limit}`)
    }
  }
})

behaviour('since_until_and_order', 'since, until and order', async (mesh) => {
  const early = await mesh.timeline.append('clock/s', { n: 0 })
  await sleep(20)
  const middle = await mesh.timeline.append('clock/s', { n: 1 })
  await sleep(20)
  const late = await mesh.timeline.append('clock/s', { n: 2 })
  const ids = async (q) => (await mesh.timeline.get('clock/', q)).items.map((e) => e.id)
  assert.deepEqual(await ids({ order: 'oldest' }), [early.id, middle.id, late.id])
  assert.deepEqual(await ids({ since: middle.time, order: 'oldest' }), [middle.id, late.id])
  assert.deepEqual(await ids({ until: middle.time }), [early.id])
  assert.deepEqual((await allPages(mesh, 'clock/', { limit: 1, order: 'oldest' })).map((e) => e.id), [early.id, middle.id, late.id])
})

behaviour('bad_timeline_input_is_rejected', 'bad timeline input is rejected', async (mesh) => {
  for (const stream of ['', '/abs', 'a//b', 'a/', 'a/../b']) {
    const e = await rejection(mesh.timeline.append(stream, {}))
    assert.equal(e.code, 'InvalidInput', stream)
    assert.match(e.message, /timeline\.append/)
  }
  assert.equal((await rejection(mesh.timeline.append('big', { x: 'y'.repeat(300000) }))).code, 'TooLarge')
  assert.equal((await rejection(mesh.timeline.get('', { cursor: 'not-a-cursor' }))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.timeline.get('', { order: 'sideways' }))).code, 'InvalidInput')
})
