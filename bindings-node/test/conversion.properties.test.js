// Property tests (fast-check) of the conversion between JavaScript values and JSON: any value JSON
// can hold round-trips unchanged through kv, the timeline and call; anything else (NaN,
// Infinity, BigInt, Dates, Maps, functions, cycles, nesting past the limit) is a MeshError,
// never an abort and never a silently changed value. 200 runs per property by default;
// FC_NUM_RUNS=5000 runs longer.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fc = require('fast-check')
const { MeshClient, valueLimits } = require('..')

const RUNS = Number(process.env.FC_NUM_RUNS || 200)
const MAX_DEPTH = valueLimits().maxDepth

// Whether `value` holds an object with an own "__proto__" key, at any depth.
const hasProtoKey = (value) => /"__proto__":/.test(JSON.stringify(value))

// JSON values whose numbers survive a round trip (integers within 2^53, finite doubles). Objects
// with a "__proto__" key are left to the known-issue test below: the addon builds result objects
// with assignment, so such a key sets the object's prototype instead of reading back.
const json = fc
  .jsonValue({ maxDepth: 6, noUnicodeString: false })
  .filter((v) => JSON.stringify(v) !== undefined && !hasProtoKey(v))

test('JSON values round-trip through kv, the timeline and call', async () => {
  const mesh = await MeshClient.open('memory://')
  await fc.assert(
    fc.asyncProperty(json, async (value) => {
      const expected = JSON.parse(JSON.stringify(value)) // -0 → 0, as JSON holds it
      await mesh.kv.set('v', value)
      assert.deepEqual((await mesh.kv.get('v')).value, expected)
      assert.deepEqual((await mesh.call('mesh_kv_get', { key: 'v' })).value, expected)
      assert.deepEqual((await mesh.timeline.append('props/v', value)).data, expected)
    }),
    { numRuns: RUNS },
  )
})

// Known issue (README, "Open points"): reported as a todo, not counted as passing.
test('an own "__proto__" key round-trips through kv', { todo: 'result objects are built by assignment in the addon' }, async () => {
  const mesh = await MeshClient.open('memory://')
  const value = JSON.parse('{"__proto__": 0, "a": 1}')
  await mesh.kv.set('proto', value)
  assert.deepEqual((await mesh.kv.get('proto')).value, value)
})

const notJson = fc.oneof(
  fc.constant(NaN),
  fc.constant(Infinity),
  fc.constant(-Infinity),
  fc.bigInt(),
  fc.date(),
  fc.constant(new Map([[1, 2]])),
  fc.constant(() => 1),
  fc.constant(Symbol('s')),
)

test('values JSON cannot hold are refused wherever they hide', async () => {
  const mesh = await MeshClient.open('memory://')
  await fc.assert(
    fc.asyncProperty(json, notJson, fc.nat(3), async (container, bad, depth) => {
      let value = bad
      for (let i = 0; i < depth; i++) value = { inner: [value] }
      const error = await mesh.kv.set('bad', [container, value]).then(() => null, (e) => e)
      assert.ok(error, 'accepted')
      assert.equal(error.code, 'InvalidInput')
    }),
    { numRuns: RUNS },
  )
})

test('nesting is accepted up to the limit and refused past it', async () => {
  const mesh = await MeshClient.open('memory://')
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 200 }), async (depth) => {
      let value = 0
      for (let i = 0; i < depth; i++) value = [value]
      const result = await mesh.kv.set('deep', value).then(() => 'ok', (e) => e.code)
      assert.equal(result, depth <= MAX_DEPTH ? 'ok' : 'InvalidInput')
    }),
    { numRuns: RUNS },
  )
})
