// How KV items reach JavaScript (src/kv_item.rs): through the function index.js registers, and
// property by property where it is not registered (the addon loaded without index.js, or a
// worker thread's environment before it loads index.js). Both give the same objects, in every
// thread, and a worker's ending leaves the other environments' items working. Spy factories
// show every KV result goes through the registered one; a throwing one fails only its call.
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

// A child process that loads the addon without index.js and registers its own factories.
function inChild(body) {
  const native = path.resolve(__dirname, '../native.js')
  const script = `const native = require(${JSON.stringify(native)}); (async () => { ${body} })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => { console.error(e); process.exit(3) })`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
}

test('every KV result goes through the registered factory, and the last one registered wins', () => {
  const got = inChild(`
    let calls = 0
    native.setKvItemFactory(() => ({ first: true }))
    native.setKvItemFactory((key, value, version, createdAt, updatedAt, expiresAt) => {
      calls += 1
      return { spy: [key, value, version, typeof createdAt, typeof updatedAt, expiresAt === undefined ? 'none' : typeof expiresAt] }
    })
    const mesh = await native.MeshClient.open('memory://')
    const set = await mesh.kv.set('k', { a: 1 }, { ttlSeconds: 60 })
    const get = await mesh.kv.get('k')
    const list = (await mesh.kv.list('')).items
    const batch = await mesh.kv.batchGet(['k', 'none'])
    await mesh.kv.set('s', 42.5)
    return { set, get, list, batch, scalar: await mesh.kv.get('s'), calls }
  `)
  const spy = { spy: ['k', '{"a":1}', 1, 'number', 'number', 'number'] }
  assert.deepEqual(got, { set: spy, get: spy, list: [spy], batch: [spy, null], scalar: { spy: ['s', '42.5', 1, 'number', 'number', 'none'] }, calls: 6 })
})

test('a factory that throws fails the call, and leaves no exception behind', () => {
  const got = inChild(`
    native.setKvItemFactory(() => { throw new Error('boom') })
    const mesh = await native.MeshClient.open('memory://')
    // Without index.js's wrapper the failure is thrown, not a rejection.
    const error = await Promise.resolve().then(() => mesh.kv.set('k', 1)).then(() => null, (e) => e.message)
    native.setKvItemFactory((key, value) => ({ key, value: JSON.parse(value) }))
    return { error, after: await mesh.kv.get('k') }
  `)
  assert.match(got.error, /KV item factory failed \(it threw\)/)
  assert.deepEqual(got.after, { key: 'k', value: 1 })
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
