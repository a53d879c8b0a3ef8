// Hostile input: whatever a model or another agent hands the SDK gets a result or a MeshError,
// never a crash of the Node process. Cases that would abort the process if a guard were
// missing (napi's recursive conversion of a cyclic or very deep object) run in a child process,
// which must exit cleanly and print what it got.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { MeshClient, valueLimits } = require('..')
const { behaviour } = require('./helpers')

const PKG = path.join(__dirname, '..')
const MAX_DEPTH = valueLimits().maxDepth

function child(build) {
  const code = `
    const { MeshClient } = require(${JSON.stringify(PKG)})
    ;(async () => {
      const mesh = await MeshClient.open('memory://')
      ${build}
      const attempt = async (fn) => { try { await fn(); return { outcome: 'accepted' } } catch (e) { return { outcome: e.code, message: e.message } } }
      const results = [
        await attempt(() => mesh.kv.set('k', v)),
        await attempt(() => mesh.kv.batchSet([['k', v]])),
        await attempt(() => mesh.events.send({ detailType: 'Deep', detail: { v } })),
        await attempt(() => mesh.timeline.append('s', v)),
        await attempt(() => mesh.call('mesh_kv_set', { key: 'k', value: v })),
        await attempt(() => mesh.workflows.start('m', v)),
      ]
      console.log(JSON.stringify({ results, stored: (await mesh.kv.get('k')) !== null }))
    })()
  `
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000 })
  return JSON.parse(out.trim().split('\n').pop())
}

for (const [name, build] of [
  ['an array containing itself', 'const v = []; v.push(v)'],
  ['an object containing itself', 'const v = {}; v.self = v'],
  ['an array 200,000 deep', 'let v = 1; for (let i = 0; i < 200000; i++) v = [v]'],
  ['an object 200,000 deep', 'let v = 1; for (let i = 0; i < 200000; i++) v = { a: v }'],
]) {
  test(`${name} is InvalidInput at every entry point, in a child process`, () => {
    const { results, stored } = child(build)
    for (const r of results) {
      assert.equal(r.outcome, 'InvalidInput', JSON.stringify(r))
      assert.match(r.message, new RegExp(`${MAX_DEPTH} levels`))
    }
    assert.equal(stored, false)
  })
}

test('a shared graph that expands exponentially is TooLarge, quickly, in a child process', () => {
  const started = Date.now()
  const { results } = child('let v = []; for (let i = 0; i < 60; i++) v = [v, v]')
  for (const r of results) assert.equal(r.outcome, 'TooLarge', JSON.stringify(r))
  assert.ok(Date.now() - started < 30000)
})

test('values JSON cannot hold are InvalidInput, never silently changed', async () => {
  const mesh = await MeshClient.open('memory://')
  for (const [value, fragment] of [
    [NaN, 'NaN'],
    [Infinity, 'infinite'],
    [{ n: 10n }, 'bigint'],
    [{ f() {} }, 'function'],
    [{ s: Symbol('x') }, 'symbol'],
    [{ when: new Date(0) }, 'Date'], // napi would store it as {}
    [{ m: new Map([[1, 2]]) }, 'Map'],
    [new (class Point { constructor() { this.x = 1 } })(), 'Point'],
  ]) {
    const error = await mesh.kv.set('k', value).then(() => null, (e) => e)
    assert.ok(error, `${String(fragment)} was accepted`)
    assert.equal(error.code, 'InvalidInput')
    assert.match(error.message, new RegExp(`kv\\.set "k": .*${fragment}`))
  }
  assert.equal(await mesh.kv.get('k'), null)
  // Dates stay welcome where the API takes a time.
  await mesh.events.send({ detailType: 'Timed', detail: {}, time: new Date(0) })
  const page = await mesh.timeline.get('', { since: new Date(0), until: new Date(Date.now() + 1000) })
  assert.equal(page.items.length, 1)
})

function nested(depth) {
  let v = 1
  for (let i = 0; i < depth; i++) v = { a: v }
  return v
}

behaviour('a value at the depth limit is readable through every read path', async (mesh) => {
  const deepest = nested(MAX_DEPTH)
  await mesh.kv.set('deep', deepest)
  assert.deepEqual((await mesh.kv.get('deep')).value, deepest)
  assert.deepEqual((await mesh.kv.list('dee')).items[0].value, deepest)
  assert.deepEqual((await mesh.kv.batchGet(['deep']))[0].value, deepest)
  await mesh.timeline.append('deep/data', deepest)
  assert.deepEqual((await mesh.timeline.get('deep/')).items[0].data, deepest)
  assert.deepEqual((await mesh.call('mesh_kv_get', { key: 'deep' })).value, deepest)
  const error = await mesh.kv.set('deeper', nested(MAX_DEPTH + 1)).then(() => null, (e) => e)
  assert.equal(error.code, 'InvalidInput')
})

test('timeouts that are not a duration are InvalidInput', async () => {
  const mesh = await MeshClient.open('memory://')
  const sub = await mesh.events.subscribe({ source: ['x'] })
  await mesh.workflows.create('w', { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } })
  const run = await mesh.workflows.start('w', {})
  for (const ms of [Infinity, NaN, 1e22, -1]) {
    const next = await sub.next(ms).then(() => null, (e) => e)
    assert.equal(next && next.code, 'InvalidInput', `next(${ms})`)
    const wait = await mesh.workflows.wait(run.arn, { timeoutMs: ms }).then(() => null, (e) => e)
    assert.equal(wait && wait.code, 'InvalidInput', `wait(${ms})`)
  }
  assert.equal((await mesh.workflows.wait(run.arn, { timeoutMs: 10000 })).status, 'SUCCEEDED')
  await sub.close()
})

test('a panic inside the core rejects with an Internal MeshError and the process goes on', () => {
  const code = `
    const { MeshClient } = require(${JSON.stringify(PKG)})
    ;(async () => {
      const mesh = await MeshClient.open('memory://')
      let outcome
      try { await mesh.call('mesh_kv_get', { key: 'k' }); outcome = 'returned' } catch (e) { outcome = e.code + ': ' + e.message }
      await mesh.kv.set('after', 1)
      console.log(JSON.stringify({ outcome, after: (await mesh.kv.get('after')).value }))
    })()
  `
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000, env: { ...process.env, AGENT_MESH_FAILPOINT: 'mesh_kv_get' } })
  const result = JSON.parse(out.trim().split('\n').pop())
  assert.match(result.outcome, /^Internal: .*on purpose/)
  assert.equal(result.after, 1)
})
