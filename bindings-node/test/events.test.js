// Event cases of the behaviour suite (the same cases as core/tests/behaviour/events.rs), and the
// shared pattern table (tests/patterns/cases.json) through the Node API.
'use strict'
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')
const { behaviour, isAws, rejection } = require('./helpers')
const { MeshError, Subscription, testEventPattern } = require('..')

const CASES_TEXT = fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'patterns', 'cases.json'), 'utf8')
const CASES = JSON.parse(CASES_TEXT)

/**
 * The JSON text of `field` in the case named `name`, cut from the file as written (one case per
 * line), so numbers JavaScript cannot hold exactly (beyond 2^53) reach the matcher unchanged.
 */
function rawField(name, field) {
  const line = CASES_TEXT.split('\n').find((l) => l.includes(`"name": ${JSON.stringify(name)}`))
  let i = line.indexOf(`"${field}": `) + field.length + 4
  const start = i
  let depth = 0
  let inString = false
  for (; i < line.length; i++) {
    const ch = line[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') depth--
    if (depth === 0 && !inString && (ch === ',' || ch === '}' || ch === ']')) {
      return line.slice(start, ch === ',' ? i : i + 1)
    }
  }
  throw new Error(`no ${field} in case ${name}`)
}

const quietMs = (mesh) => (isAws(mesh) ? 3000 : 300)

async function arrives(sub) {
  const event = await sub.next(20000)
  assert.ok(event, 'an event that was sent did not arrive')
  return event
}

test('pattern table: every matching case, as JSON text and as objects', () => {
  const failed = []
  for (const c of CASES.filter((c) => 'matches' in c)) {
    if (testEventPattern(rawField(c.name, 'pattern'), rawField(c.name, 'event')) !== c.matches) failed.push(`${c.name} (JSON text)`)
    // As JavaScript objects, numbers are doubles: integers beyond 2^53 arrive rounded.
    const exact = JSON.stringify(c) === JSON.stringify(JSON.parse(JSON.stringify(c))) && !/\d{16,}/.test(rawField(c.name, 'pattern') + rawField(c.name, 'event'))
    if (exact && testEventPattern(c.pattern, c.event) !== c.matches) failed.push(c.name)
  }
  assert.deepEqual(failed, [])
})

test('pattern table: every invalid pattern throws InvalidInput saying what is wrong', () => {
  const failed = []
  for (const c of CASES.filter((c) => 'error' in c)) {
    try {
      testEventPattern(JSON.stringify(c.pattern), { source: 'x' })
      failed.push(`${c.name}: accepted`)
    } catch (error) {
      if (!(error instanceof MeshError) || error.code !== 'InvalidInput' || !error.message.includes(c.error)) {
        failed.push(`${c.name}: ${error.code} ${error.message}`)
      }
    }
  }
  assert.deepEqual(failed, [])
})

behaviour('subscription_receives_exactly_matching_events', 'a subscription receives exactly the matching events', async (mesh) => {
  const pattern = {
    source: ['orders'],
    'detail-type': ['OrderCreated'],
    detail: { total: [{ numeric: ['>', 100] }], region: [{ 'anything-but': 'test' }] },
  }
  const sub = await mesh.events.subscribe(pattern)
  assert.ok(sub instanceof Subscription)
  await mesh.events.send({ detailType: 'OrderCreated', detail: { total: 500, region: 'eu' }, source: 'billing' })
  await mesh.events.send({ detailType: 'OrderCreated', detail: { total: 50, region: 'eu' }, source: 'orders' })
  await mesh.events.send({ detailType: 'OrderCreated', detail: { total: 500, region: 'test' }, source: 'orders' })
  const id = await mesh.events.send({
    detailType: 'OrderCreated', detail: { total: 250, region: 'eu' }, source: 'orders', resources: ['arn:aws:orders:o-1'],
  })
  const got = await arrives(sub)
  assert.equal(got.id, id)
  assert.deepEqual([got.source, got.detailType, got.detail, got.resources], ['orders', 'OrderCreated', { total: 250, region: 'eu' }, ['arn:aws:orders:o-1']])
  assert.ok(got.time instanceof Date && Math.abs(Date.now() - got.time.getTime()) < 120000)
  assert.equal(await sub.next(quietMs(mesh)), null)
  await sub.close()
})

behaviour('send_batch_reports_each_entry_and_delivers_all', 'sendBatch reports each entry and delivers all', async (mesh) => {
  const sub = await mesh.events.subscribe({ 'detail-type': ['Batch'] })
  const results = await mesh.events.sendBatch(Array.from({ length: 25 }, (_, i) => ({ detailType: 'Batch', detail: { i }, source: 'batcher' })))
  assert.equal(results.length, 25)
  assert.ok(results.every((r) => r.eventId && !r.error))
  const got = []
  for (let i = 0; i < 25; i++) got.push(await arrives(sub))
  const order = got.map((e) => e.detail.i)
  assert.deepEqual(isAws(mesh) ? [...order].sort((a, b) => a - b) : order, Array.from({ length: 25 }, (_, i) => i))
  assert.deepEqual(new Set(got.map((e) => e.id)), new Set(results.map((r) => r.eventId)))
  await sub.close()
})

behaviour('invalid_events_are_rejected_before_sending', 'invalid events reject before anything is sent', async (mesh) => {
  let e = await rejection(mesh.events.send({ detailType: 'X', detail: [1] }))
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /JSON object/)
  e = await rejection(mesh.events.send({ detailType: 'X', detail: {}, source: 'aws.s3' }))
  assert.equal(e.code, 'InvalidInput')
  e = await rejection(mesh.events.send({ detailType: 'X', detail: { blob: 'x'.repeat(256 * 1024) } }))
  assert.equal(e.code, 'TooLarge')
  e = await rejection(mesh.events.sendBatch([{ detailType: 'X', detail: {}, stream: 'rejected/batch' }, { detailType: '', detail: {} }]))
  assert.match(e.message, /event 1/)
  assert.deepEqual((await mesh.timeline.get('rejected/')).items, [])
  e = await rejection(mesh.events.send({ detail: {} }))
  assert.ok(e instanceof Error)
  e = await rejection(mesh.events.subscribe({ detail: { amount: 5 } }))
  assert.equal(e.code, 'InvalidInput')
})

behaviour('named_subscription_resumes_after_close', 'a named subscription resumes after close', async (mesh) => {
  const name = `resume-${Math.random().toString(16).slice(2, 10)}`
  let sub = await mesh.events.subscribe({ 'detail-type': ['Step'] }, { name })
  await mesh.events.send({ detailType: 'Step', detail: { n: 1 } })
  assert.deepEqual((await arrives(sub)).detail, { n: 1 })
  await mesh.events.send({ detailType: 'Step', detail: { n: 2 } })
  await sub.close()
  await sub.close()
  assert.equal((await rejection(sub.next(0))).code, 'InvalidInput')
  await mesh.events.send({ detailType: 'Step', detail: { n: 3 } })
  sub = await mesh.events.subscribe({ 'detail-type': ['Step'] }, { name })
  const got = [(await arrives(sub)).detail.n, (await arrives(sub)).detail.n].sort()
  assert.deepEqual(got, [2, 3])
  await sub.close()
})

behaviour('subscription_as_a_stream_yields_events_in_order', 'for await over a subscription; leaving the loop closes it', async (mesh) => {
  const sub = await mesh.events.subscribe({ source: [{ prefix: 'iter' }] })
  for (let i = 0; i < 3; i++) await mesh.events.send({ detailType: 'Tick', detail: { i }, source: 'iterator' })
  const seen = []
  for await (const event of sub) {
    seen.push(event.detail.i)
    if (seen.length === 3) break
  }
  assert.deepEqual(seen.sort(), [0, 1, 2])
  assert.equal((await rejection(sub.next(0))).code, 'InvalidInput', 'closed by the loop')
})

behaviour('sent_events_are_appended_to_the_timeline', 'sent events are on the timeline', async (mesh) => {
  const id = await mesh.events.send({ detailType: 'Uploaded', detail: { doc: 'd-1' }, source: 'docs', stream: 'docs/d-1' })
  const [entry] = (await mesh.timeline.get('docs/d-1')).items
  assert.equal(entry.stream, 'docs/d-1')
  assert.equal(entry.data.id, id)
  await mesh.events.send({ detailType: 'Uploaded', detail: { doc: 'd-2' }, source: 'docs' })
  const [other] = (await mesh.timeline.get('events/docs/Uploaded')).items
  assert.deepEqual(other.data.detail, { doc: 'd-2' })
})

behaviour('close_while_next_waits_ends_the_wait', 'close() while next() waits ends the wait', async (mesh) => {
  const sub = await mesh.events.subscribe({ source: ['never-sent'] })
  const pending = rejection(sub.next())
  await new Promise((resolve) => setTimeout(resolve, 50))
  await sub.close()
  const e = await pending
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /closed/)
})
