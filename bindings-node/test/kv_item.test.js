// How KV items reach JavaScript (src/kv_item.rs): through the function index.js registers, and
// property by property where it is not registered (the addon loaded without index.js, or a
// worker thread's environment before it loads index.js). Both give the same objects, in every
// thread, and a worker's ending leaves the other environments' items working.
'use strict'
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { test } = require('node:test')
const { Worker: Thread } = require('node:worker_threads')
const { MeshClient } = require('..')
const { tempDir } = require('./helpers')

// Writes one item with a TTL and one without to a local mesh in `dir`, reads them back with
// get, list and batchGet, and describes what came out. Run here and in other environments.
const DESCRIBE = `
async function describe(lib, dir) {
  const mesh = await lib.MeshClient.open('local://' + dir)
  await mesh.kv.set('a', { n: 1, list: [1, 'two', null], nested: JSON.parse('{"__proto__": "own"}') }, { ttlSeconds: 3600 })
  await mesh.kv.set('b', 'text')
  const items = [await mesh.kv.get('a'), await mesh.kv.get('b'), ...(await mesh.kv.list('')).items, ...(await mesh.kv.batchGet(['a', 'b']))]
  return items.map((item) => ({
    keys: Object.keys(item),
    proto: Object.getPrototypeOf(item) === Object.prototype,
    value: JSON.stringify(item.value),
    ownProto: Object.keys(item.value.nested || {}),
    version: item.version,
    dates: [item.createdAt, item.updatedAt, item.expiresAt].filter((d) => d !== undefined).map((d) => d instanceof Date && !Number.isNaN(d.getTime())),
    ttl: item.expiresAt === undefined ? null : Math.round((item.expiresAt.getTime() - item.createdAt.getTime()) / 1000),
  }))
}
`
// eslint-disable-next-line no-new-func
const describe = new Function(`${DESCRIBE}; return describe`)()

const EXPECTED = [
  { keys: ['key', 'value', 'version', 'createdAt', 'updatedAt', 'expiresAt'], proto: true, value: '{"n":1,"list":[1,"two",null],"nested":{"__proto__":"own"}}', ownProto: ['__proto__'], version: 1, dates: [true, true, true], ttl: 3600 },
  { keys: ['key', 'value', 'version', 'createdAt', 'updatedAt'], proto: true, value: '"text"', ownProto: [], version: 1, dates: [true, true], ttl: null },
]

test('items made by the registered function', async () => {
  const got = await describe(require('..'), tempDir())
  assert.deepEqual(got, [...EXPECTED, ...EXPECTED, ...EXPECTED])
})

test('the same items property by property, where index.js was not loaded', () => {
  const native = path.resolve(__dirname, '../native.js')
  const script = `${DESCRIBE}; describe(require(${JSON.stringify(native)}), ${JSON.stringify(tempDir())}).then((d) => process.stdout.write(JSON.stringify(d)))`
  const got = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
  assert.deepEqual(got, [...EXPECTED, ...EXPECTED, ...EXPECTED])
})

test('worker threads get the same items, and their ending leaves this thread working', async () => {
  const index = path.resolve(__dirname, '..')
  for (const entry of [index, path.join(index, 'native.js'), index]) {
    const script = `${DESCRIBE}; const { parentPort, workerData } = require('node:worker_threads'); describe(require(workerData.entry), workerData.dir).then((d) => parentPort.postMessage(d))`
    const got = await new Promise((resolve, reject) => {
      const thread = new Thread(script, { eval: true, workerData: { entry, dir: tempDir() } })
      let message
      thread.on('message', (m) => { message = m })
      thread.on('error', reject)
      thread.on('exit', (code) => (code === 0 ? resolve(message) : reject(new Error(`the worker exited with ${code}`))))
    })
    assert.deepEqual(got, [...EXPECTED, ...EXPECTED, ...EXPECTED], entry)
    const mesh = await MeshClient.open('memory://')
    await mesh.kv.set('here', { still: true })
    assert.deepEqual((await mesh.kv.get('here')).value, { still: true })
  }
})
