// The AWS-only volume checks of core/tests/aws.rs, through the Node binding: 2,500-key
// pagination, a 1-second TTL, a 40 MiB multipart round trip, 1,200 artifacts listed completely.
// Runs when AGENT_MESH_TEST_BACKENDS names aws (tests/with-moto.sh provides the server).
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { MeshClient } = require('..')
const { BACKENDS, sleep, tempDir } = require('./helpers')

const enabled = BACKENDS.includes('aws')

async function fresh(name) {
  const endpoint = process.env.AGENT_MESH_TEST_AWS_ENDPOINT
  assert.ok(endpoint, 'run through tests/with-moto.sh')
  const prefix = `${name}${crypto.randomBytes(4).toString('hex')}-`
  const mesh = await MeshClient.open(`aws://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=${prefix}`)
  await mesh.provision()
  await mesh.provision() // idempotent: a second run finds everything in place
  return mesh
}

async function inBatches(items, size, fn) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}

test('aws: pagination over 2,500 keys', { skip: !enabled && 'aws not in AGENT_MESH_TEST_BACKENDS' }, async () => {
  const mesh = await fresh('pg')
  const keys = Array.from({ length: 2500 }, (_, i) => `page:${String(i).padStart(5, '0')}`)
  for (let i = 0; i < keys.length; i += 100) await mesh.kv.batchSet(keys.slice(i, i + 100).map((k) => [k, k]))
  const seen = []
  let cursor
  do {
    const page = await mesh.kv.list('page:', { limit: 1000, cursor })
    seen.push(...page.items.map((i) => i.key))
    cursor = page.nextCursor
  } while (cursor)
  assert.deepEqual(seen, keys)
})

test('aws: a 1-second TTL hides the item', { skip: !enabled && 'aws not in AGENT_MESH_TEST_BACKENDS' }, async () => {
  const mesh = await fresh('ttl')
  await mesh.kv.set('short', 1, { ttlSeconds: 1 })
  assert.notEqual(await mesh.kv.get('short'), null)
  await sleep(1300)
  assert.equal(await mesh.kv.get('short'), null)
})

test('aws: 40 MiB multipart round trip', { skip: !enabled && 'aws not in AGENT_MESH_TEST_BACKENDS' }, async () => {
  const mesh = await fresh('mp')
  const dir = tempDir()
  const data = crypto.randomBytes(40 * 1024 * 1024)
  fs.writeFileSync(path.join(dir, 'big.bin'), data)
  const meta = await mesh.artifacts.putFile('models/big.bin', path.join(dir, 'big.bin'))
  assert.equal(meta.size, data.length)
  assert.match(meta.etag, /-5$/)
  await mesh.artifacts.getToFile('models/big.bin', path.join(dir, 'copy.bin'))
  assert.ok(fs.readFileSync(path.join(dir, 'copy.bin')).equals(data))
})

test('aws: listing 1,200 artifacts is complete', { skip: !enabled && 'aws not in AGENT_MESH_TEST_BACKENDS' }, async () => {
  const mesh = await fresh('ls')
  const keys = Array.from({ length: 1200 }, (_, i) => `logs/${String(i).padStart(5, '0')}.txt`)
  await inBatches(keys, 16, (k) => mesh.artifacts.put(k, Buffer.from(k), { contentType: 'text/plain' }))
  const seen = []
  let cursor
  do {
    const page = await mesh.artifacts.list('logs/', { limit: 1000, cursor })
    assert.ok(page.items.every((m) => m.contentType === 'text/plain'))
    seen.push(...page.items.map((m) => m.key))
    cursor = page.nextCursor
  } while (cursor)
  assert.deepEqual(seen, keys)
})
