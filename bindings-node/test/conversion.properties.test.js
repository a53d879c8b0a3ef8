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

// JSON values whose numbers survive a round trip (integers within 2^53, finite doubles),
// including objects with an own "__proto__" key (JSON.parse makes one).
const json = fc.jsonValue({ maxDepth: 6, noUnicodeString: false }).filter((v) => JSON.stringify(v) !== undefined)

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

// Results are built by JSON.parse, so an own "__proto__" key stays an own key (assigning it would
// set the object's prototype instead), at any depth and in every result that carries JSON.
test('an own "__proto__" key round-trips through kv, the timeline, call and events', async () => {
  const mesh = await MeshClient.open('memory://')
  const value = JSON.parse('{"__proto__": 0, "a": {"__proto__": {"b": 1}}, "list": [{"__proto__": null}]}')
  await mesh.kv.set('proto', value)
  const read = (await mesh.kv.get('proto')).value
  assert.deepEqual(read, value)
  assert.ok(Object.hasOwn(read, '__proto__') && Object.getPrototypeOf(read) === Object.prototype)
  assert.ok(Object.hasOwn(read.a, '__proto__') && read.a.b === undefined)
  assert.deepEqual((await mesh.call('mesh_kv_get', { key: 'proto' })).value, value)
  assert.deepEqual((await mesh.timeline.append('props/proto', value)).data, value)
  const sub = await mesh.events.subscribe({ source: ['proto.test'] })
  await mesh.events.send({ detailType: 'P', detail: value, source: 'proto.test' })
  assert.deepEqual((await sub.next(5000)).detail, value)
  await sub.close()
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
