// An AbortSignal passed to a waiting call cancels the work in the core (issue 20): a
// subscription's wait, a workflow wait, a file upload.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { MeshClient } = require('..')
const { BACKENDS, behaviour, isAws, rejection, tempDir } = require('./helpers.js')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

behaviour('aborting a waiting next() gives up the wait in the core and loses no event', async (mesh) => {
  const sub = await mesh.events.subscribe({ source: ['abort.test'] })
  const controller = new AbortController()
  const waiting = sub.next(undefined, controller.signal)
  await sleep(300)
  const started = Date.now()
  controller.abort()
  const error = await rejection(waiting)
  assert.equal(error.name, 'AbortError')
  assert.ok(Date.now() - started < 1000)
  // Had the core's wait gone on, it would hold the subscription and take this event into the
  // abandoned Promise. (On AWS a long poll cut short may have taken the message: SQS shows it
  // again after the queue's 30 s visibility timeout.)
  await mesh.events.send({ detailType: 'After', detail: { n: 1 }, source: 'abort.test' })
  const event = await sub.next(isAws(mesh) ? 45000 : 20000)
  assert.ok(event, 'the event sent after the abort was not delivered')
  assert.deepEqual(event.detail, { n: 1 })
  await sub.close()
})

behaviour('a call given an already aborted signal rejects at once with its reason', async (mesh) => {
  const sub = await mesh.events.subscribe({ source: ['abort.test'] })
  const reason = new Error('gave up')
  const error = await rejection(sub.next(undefined, AbortSignal.abort(reason)))
  assert.equal(error, reason)
  await sub.close()
})

for (const backend of BACKENDS.filter((b) => b !== 'aws')) {
  test(`${backend}: aborting a workflow wait stops waiting; the execution goes on`, async () => {
    const mesh = await MeshClient.open(backend === 'memory' ? 'memory://' : `local://${tempDir()}/mesh`)
    await mesh.workflows.create('slow', { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 60, End: true } } })
    const execution = await mesh.workflows.start('slow')
    const controller = new AbortController()
    const waiting = mesh.workflows.wait(execution.arn, {}, controller.signal)
    await sleep(300)
    const started = Date.now()
    controller.abort()
    assert.equal((await rejection(waiting)).name, 'AbortError')
    assert.ok(Date.now() - started < 1000)
    assert.equal((await mesh.workflows.describe(execution.arn)).status, 'RUNNING')
    assert.equal((await mesh.workflows.stop(execution.arn)).status, 'ABORTED')
  })
}

test('local: aborting a putFile stops the copy in the core and leaves nothing', async () => {
  // A sparse 4 GiB source: the copy takes many seconds, so it is still running at the abort.
  // It stops at its next chunk and its half-written blob is removed; had it gone on, the
  // artifact would appear when it finished.
  const dir = tempDir()
  const source = path.join(dir, 'sparse.bin')
  fs.closeSync(fs.openSync(source, 'w'))
  fs.truncateSync(source, 4 * 1024 ** 3)
  const meshDir = path.join(dir, 'mesh')
  const mesh = await MeshClient.open(`local://${meshDir}`)
  const blobs = path.join(meshDir, 'artifacts', 'blobs')
  const written = () => fs.readdirSync(blobs, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  const controller = new AbortController()
  const upload = mesh.artifacts.putFile('big.bin', source, {}, controller.signal)
  let deadline = Date.now() + 10000
  while (!written().length) {
    assert.ok(Date.now() < deadline, 'the copy did not start')
    await sleep(10)
  }
  await sleep(200)
  controller.abort()
  assert.equal((await rejection(upload)).name, 'AbortError')
  deadline = Date.now() + 3000
  while (written().length) {
    assert.ok(Date.now() < deadline, 'the core went on copying after the abort')
    await sleep(20)
  }
  await sleep(1000)
  assert.equal(await mesh.artifacts.head('big.bin'), null)
  assert.deepEqual(written(), [])
})

test('memory: one AbortSignal reused across many calls: nothing piles up on it, and its onabort stays the caller\'s', async () => {
  const { getEventListeners } = require('node:events')
  const mesh = await MeshClient.open('memory://')
  const sub = await mesh.events.subscribe({ source: ['reuse.test'] })
  const controller = new AbortController()
  for (let i = 0; i < 50; i++) {
    await mesh.events.send({ detailType: 'R', detail: { i }, source: 'reuse.test' })
    assert.deepEqual((await sub.next(5000, controller.signal)).detail, { i })
  }
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0)
  let called = false
  controller.signal.onabort = () => { called = true }
  const own = getEventListeners(controller.signal, 'abort').length // the onabort handler
  const waiting = sub.next(undefined, controller.signal)
  await sleep(100)
  controller.abort()
  assert.equal((await rejection(waiting)).name, 'AbortError')
  assert.ok(called, "the caller's onabort was replaced")
  assert.equal(getEventListeners(controller.signal, 'abort').length, own)
  await sub.close()
})
