// Hardening cases through the Node API (the same ground as core/tests/behaviour/guards.rs,
// subscriptions.rs, core/tests/local_hardening.rs and redaction.rs): control characters in
// artifact keys and HTTP headers, metadata names colliding in case, the 4 MB batchSet limit,
// deleting durable subscriptions, private files whatever the umask, and secrets never shown.
'use strict'
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const { test } = require('node:test')
const { behaviour, isAws, rejection, tempDir } = require('./helpers')
const { MeshClient, MeshError } = require('..')

const CONTROL_KEYS = ['a\x01b', 'reports/line\nbreak.txt', 'tab\there', 'cr\r', 'del\x7fx', '\x1f', 'nul\x00']

behaviour('artifact keys with control characters are InvalidInput', async (mesh) => {
  const dir = tempDir()
  const source = path.join(dir, 'source.bin')
  fs.writeFileSync(source, 'content')
  for (const key of CONTROL_KEYS) {
    const e = await rejection(mesh.artifacts.put(key, Buffer.from('x')))
    assert.ok(e instanceof MeshError && e.code === 'InvalidInput', `${JSON.stringify(key)}: ${e}`)
    assert.ok(e.message.startsWith('artifacts.put '), e.message)
    assert.ok(!e.message.includes(key), `the raw key is escaped: ${JSON.stringify(e.message)}`)
    assert.match(e.message, /remove/)
    for (const call of [
      () => mesh.artifacts.putFile(key, source),
      () => mesh.artifacts.get(key),
      () => mesh.artifacts.head(key),
      () => mesh.artifacts.delete(key),
      () => mesh.artifacts.getToFile(key, path.join(dir, 'out.bin')),
    ]) {
      assert.equal((await rejection(call())).code, 'InvalidInput', JSON.stringify(key))
    }
  }
  assert.deepEqual((await mesh.artifacts.list('')).items, [])
})

behaviour('KV keys may hold control characters other than NUL', async (mesh) => {
  const key = 'ctl:\x01tab\there\nline\x7f'
  await mesh.kv.set(key, 1)
  assert.equal((await mesh.kv.get(key)).value, 1)
  assert.deepEqual((await mesh.kv.list('ctl:')).items.map((i) => i.key), [key])
  assert.equal(await mesh.kv.delete(key), true)
  assert.equal((await rejection(mesh.kv.set('nul\x00key', 1))).code, 'InvalidInput')
})

behaviour('metadata and content type must be safe as HTTP headers', async (mesh) => {
  const source = path.join(tempDir(), 'source.bin')
  fs.writeFileSync(source, 'content')
  const cases = [
    [{ metadata: { Owner: 'a', owner: 'b' } }, 'differ only in case'],
    [{ metadata: { note: 'a\r\nX-Injected: 1' } }, 'U+000D'],
    [{ metadata: { note: 'tab\there' } }, 'U+0009'],
    [{ metadata: { 'bad\nname': 'v' } }, 'metadata name'],
    [{ contentType: 'text/plain\r\nX-Injected: 1' }, 'content_type'],
    [{ contentType: 'text/\x7fplain' }, 'content_type'],
  ]
  for (const [options, text] of cases) {
    const e = await rejection(mesh.artifacts.put('hdr/a', Buffer.from('x'), options))
    assert.equal(e.code, 'InvalidInput', `${JSON.stringify(options)}: ${e}`)
    assert.ok(e.message.includes('artifacts.put "hdr/a"') && e.message.includes(text), e.message)
    assert.equal((await rejection(mesh.artifacts.putFile('hdr/a', source, options))).code, 'InvalidInput')
  }
  assert.equal(await mesh.artifacts.head('hdr/a'), null)
  const meta = await mesh.artifacts.put('hdr/a', Buffer.from('x'), { contentType: 'text/plain; charset=utf-8', metadata: { Owner: 'a b' } })
  assert.deepEqual(meta.metadata, { owner: 'a b' })
})

behaviour('batchSet over the 4 MB transaction limit is TooLarge', async (mesh) => {
  // Ten items of exactly 400,000 bytes (key 5 + JSON value 399,795 + 200): 4,000,000 bytes.
  const full = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`big-${i}`, 'v'.repeat(399_793)]))
  const e = await rejection(mesh.kv.batchSet({ ...full, x: 0 }))
  assert.equal(e.code, 'TooLarge', String(e))
  assert.ok(e.message.includes('4000202 bytes') && e.message.includes('at most 4000000 bytes') && e.message.includes('split it'), e.message)
  assert.deepEqual(await mesh.kv.batchGet([...Object.keys(full), 'x']), Array(11).fill(null))
  await mesh.kv.batchSet(full)
  assert.ok((await mesh.kv.batchGet(Object.keys(full))).every((item) => item !== null))
})

behaviour('deleteSubscription removes a durable subscription', async (mesh) => {
  const quiet = isAws(mesh) ? 3000 : 300
  const name = `del-${Math.random().toString(16).slice(2, 10)}`
  const pattern = { 'detail-type': ['Deleted'] }
  assert.equal(await mesh.events.deleteSubscription(name), false)
  await (await mesh.events.subscribe(pattern, { name })).close()
  await mesh.events.send({ detailType: 'Deleted', detail: { n: 'before' } })
  assert.equal(await mesh.events.deleteSubscription(name), true)
  assert.equal(await mesh.events.deleteSubscription(name), false)
  const sub = await mesh.events.subscribe(pattern, { name })
  await mesh.events.send({ detailType: 'Deleted', detail: { n: 'after' } })
  assert.deepEqual((await sub.next(20000)).detail, { n: 'after' })
  assert.equal(await sub.next(quiet), null)
  // Deleted while open: the next call rejects with NotFound; closing still works.
  await mesh.events.send({ detailType: 'Deleted', detail: { n: 'last' } })
  assert.ok(await sub.next(20000))
  assert.equal(await mesh.events.deleteSubscription(name), true)
  const e = await rejection(sub.next(quiet))
  assert.equal(e.code, 'NotFound', String(e))
  assert.match(e.message, /subscribe again/)
  await sub.close()
  for (const bad of ['', 'has space', 'x'.repeat(41)]) {
    const e = await rejection(mesh.events.deleteSubscription(bad))
    assert.equal(e.code, 'InvalidInput')
    assert.match(e.message, /events\.delete_subscription/)
  }
})

/** [path, mode, isDir] of `root` and everything under it. */
function modes(root) {
  const out = [[root, fs.statSync(root).mode & 0o777, true]]
  for (const name of fs.readdirSync(root, { recursive: true })) {
    const file = path.join(root, name)
    const stat = fs.statSync(file)
    out.push([file, stat.mode & 0o777, stat.isDirectory()])
  }
  return out
}

test('local: files are private whatever the umask', async () => {
  const previous = process.umask(0o000)
  try {
    const root = tempDir()
    fs.writeFileSync(path.join(root, 'probe'), '')
    assert.equal(fs.statSync(path.join(root, 'probe')).mode & 0o777, 0o666, 'the umask is 000')
    const top = path.join(root, 'new')
    const mesh = await MeshClient.open(`local://${top}/parent/mesh`)
    await mesh.kv.set('k', 1)
    await mesh.artifacts.put('docs/a.bin', Buffer.from('one'))
    await mesh.artifacts.put('docs/a.bin', Buffer.from('two'))
    await mesh.events.send({ detailType: 'Private', detail: {} })
    const copy = path.join(root, 'copy.bin')
    await mesh.artifacts.getToFile('docs/a.bin', copy)
    assert.equal(fs.statSync(copy).mode & 0o777, 0o600)
    for (const name of ['mesh.db', 'mesh.db-wal', 'mesh.db-shm']) assert.ok(fs.existsSync(path.join(top, 'parent', 'mesh', name)), name)
    const entries = modes(top)
    assert.ok(entries.length >= 9, JSON.stringify(entries))
    for (const [file, mode, isDir] of entries) assert.equal(mode, isDir ? 0o700 : 0o600, `${file} is ${mode.toString(8)}`)
  } finally {
    process.umask(previous)
  }
})

test('local: an existing directory and a replaced file keep their modes', async () => {
  const root = tempDir()
  const shared = path.join(root, 'shared')
  fs.mkdirSync(shared)
  fs.chmodSync(shared, 0o750)
  const mesh = await MeshClient.open(`local://${shared}`)
  await mesh.artifacts.put('a', Buffer.from('new'))
  assert.equal(fs.statSync(shared).mode & 0o777, 0o750)
  assert.equal(fs.statSync(path.join(shared, 'mesh.db')).mode & 0o777, 0o600)
  const out = path.join(root, 'out.txt')
  fs.writeFileSync(out, 'old')
  fs.chmodSync(out, 0o640)
  await mesh.artifacts.getToFile('a', out)
  assert.equal(fs.readFileSync(out, 'utf8'), 'new')
  assert.equal(fs.statSync(out).mode & 0o777, 0o640)
})

/** Rows of the events table, read by another process (Python's sqlite3). */
function countEvents(db) {
  const code = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM events').fetchone()[0])"
  return Number(execFileSync(process.env.PYTHON || 'python3', ['-c', code, db], { encoding: 'utf8' }).trim())
}

function backdateOldEvents(db) {
  const code = "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE events SET time = ? WHERE envelope LIKE '%\\\"Old\\\"%'\", (int(time.time() * 1000) - 8 * 86400000,)); c.commit()"
  execFileSync(process.env.PYTHON || 'python3', ['-c', code, db])
}

test('local: deleting a subscription lets retention prune the events it held back', async () => {
  const dir = path.join(tempDir(), 'mesh')
  const mesh = await MeshClient.open(`local://${dir}`)
  await (await mesh.events.subscribe({ source: ['x'] }, { name: 'pin' })).close()
  for (let i = 0; i < 3; i++) await mesh.events.send({ detailType: 'Old', detail: { i } })
  // Retention counts from when an event was stored: make these 8 days old in the log itself.
  backdateOldEvents(path.join(dir, 'mesh.db'))
  await mesh.events.send({ detailType: 'New', detail: {} })
  assert.equal(countEvents(path.join(dir, 'mesh.db')), 4, 'the subscription keeps the old events')
  assert.equal(await mesh.events.deleteSubscription('pin'), true)
  await mesh.events.send({ detailType: 'New', detail: {} })
  assert.equal(countEvents(path.join(dir, 'mesh.db')), 2, 'the old events were pruned')
})

for (const url of [
  'aws://?endpoint=http://enduser:endpointpass@127.0.0.1:9&region=us-east-1',
  'aws://?endpoint=http%3A%2F%2Fenduser%3Aendpointpass%40127.0.0.1%3A9&region=us-east-1',
]) {
  test(`endpoint credentials never show (${url.includes('%3A') ? 'encoded' : 'plain'})`, async () => {
    const mesh = await MeshClient.open(url)
    const hidden = (text) => !text.includes('enduser') && !text.includes('endpointpass') && !text.includes('SESSIONTOKENVALUE')
    for (const shown of [String(mesh), mesh.toString(), `${mesh}`, util.inspect(mesh), JSON.stringify(mesh)]) {
      assert.ok(hidden(shown), shown)
    }
    assert.ok(mesh.toString().includes('http://***@127.0.0.1:9'), mesh.toString())
    const e = await rejection(MeshClient.open(`${url}&token=SESSIONTOKENVALUE`))
    assert.equal(e.code, 'Config')
    assert.ok(hidden(`${e.message} ${JSON.stringify(e.context)} ${e.stack}`), e.message)
  })
}

behaviour('task tokens never show in errors', async (mesh) => {
  const token = 'AAAAKgAAAAIAAAAAsecret-task-token-0123456789'
  for (const call of [
    () => mesh.workflows.sendTaskSuccess(token, {}),
    () => mesh.workflows.sendTaskFailure(token, 'E', 'c'),
    () => mesh.workflows.sendTaskHeartbeat(token),
  ]) {
    const e = await rejection(call())
    const shown = `${e.message} ${JSON.stringify(e.context)} ${e.stack}`
    assert.ok(!shown.includes('secret-task-token'), shown)
    assert.match(shown, /task token sha256:/)
  }
})
