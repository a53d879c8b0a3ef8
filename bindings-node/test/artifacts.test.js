// Artifact cases of the behaviour suite (the same cases as core/tests/behaviour/artifacts.rs).
'use strict'
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { behaviour, rejection, tempDir } = require('./helpers')

// Same stored artifact: every field, with lastModified to within 2 s (a put reports the time
// it sent the content; S3 records its own, to the second).
function assertSameArtifact(a, b) {
  const { lastModified: ta, ...restA } = a
  const { lastModified: tb, ...restB } = b
  assert.deepEqual(restA, restB)
  assert.ok(Math.abs(ta - tb) <= 2000, `lastModified differs by ${Math.abs(ta - tb)} ms`)
}

const content = (seed, n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff))

behaviour('put_get_head_roundtrip', 'put/get/head roundtrip', async (mesh) => {
  const data = content(1, 10000)
  const meta = await mesh.artifacts.put('conversations/2024/resume.pdf', data, {
    contentType: 'application/pdf',
    metadata: { Author: 'john', pages: '3' },
  })
  assert.equal(meta.size, 10000)
  assert.equal(meta.contentType, 'application/pdf')
  assert.deepEqual(meta.metadata, { author: 'john', pages: '3' })
  const got = await mesh.artifacts.get('conversations/2024/resume.pdf')
  assert.ok(Buffer.isBuffer(got.data))
  assert.ok(got.data.equals(data))
  assertSameArtifact(got.meta, meta)
  assertSameArtifact(await mesh.artifacts.head('conversations/2024/resume.pdf'), meta)
  const plain = await mesh.artifacts.put('empty', Buffer.alloc(0))
  assert.equal(plain.contentType, 'application/octet-stream')
  assert.deepEqual(plain.metadata, {})
  assert.equal((await mesh.artifacts.get('empty')).data.length, 0)
})

behaviour('replace_changes_etag_and_content', 'replace changes etag and content', async (mesh) => {
  const first = await mesh.artifacts.put('doc', content(1, 100), { contentType: 'text/plain' })
  const second = await mesh.artifacts.put('doc', content(2, 50))
  assert.notEqual(first.etag, second.etag)
  const got = await mesh.artifacts.get('doc')
  assert.ok(got.data.equals(content(2, 50)))
  assert.equal(got.meta.contentType, 'application/octet-stream')
  assert.equal(got.meta.etag, second.etag)
})

behaviour('put_file_and_get_to_file_stream', 'putFile and getToFile stream files', async (mesh) => {
  const dir = tempDir()
  const source = path.join(dir, 'source.bin')
  const data = crypto.randomBytes(5 * 1024 * 1024 + 3)
  fs.writeFileSync(source, data)
  const meta = await mesh.artifacts.putFile('big/file.bin', source, { contentType: 'application/x-test' })
  assert.equal(meta.size, data.length)
  fs.mkdirSync(path.join(dir, 'out'))
  const dest = path.join(dir, 'out', 'copy.bin')
  fs.writeFileSync(dest, 'old contents are replaced')
  assertSameArtifact(await mesh.artifacts.getToFile('big/file.bin', dest), meta)
  assert.ok(fs.readFileSync(dest).equals(data))
  assert.deepEqual(fs.readdirSync(path.join(dir, 'out')), ['copy.bin'])
  const missing = await rejection(mesh.artifacts.putFile('x', path.join(dir, 'missing')))
  assert.equal(missing.code, 'NotFound')
  assert.match(missing.message, /missing/)
  assert.equal((await rejection(mesh.artifacts.putFile('x', dir))).code, 'InvalidInput')
})

behaviour('missing_artifacts', 'missing artifacts', async (mesh) => {
  assert.equal(await mesh.artifacts.get('nope'), null)
  assert.equal(await mesh.artifacts.head('nope'), null)
  const dir = tempDir()
  const e = await rejection(mesh.artifacts.getToFile('nope', path.join(dir, 'f')))
  assert.equal(e.code, 'NotFound')
  assert.match(e.message, /artifacts\.get_to_file "nope"/)
  assert.equal(fs.existsSync(path.join(dir, 'f')), false)
})

behaviour('list_pages_are_complete_and_disjoint', 'list pages are complete and disjoint', async (mesh) => {
  const expected = Array.from({ length: 120 }, (_, i) => `reports/${String(i).padStart(3, '0')}.txt`)
  for (const [i, key] of expected.entries()) await mesh.artifacts.put(key, Buffer.from(`report ${i}`))
  await mesh.artifacts.put('reportsX', Buffer.from('x'))
  for (const limit of [1, 13, 120, 1000]) {
    const keys = []
    let cursor
    for (;;) {
      const page = await mesh.artifacts.list('reports/', { limit, cursor })
      assert.ok(page.items.length <= limit)
      assert.ok(page.items.every((m) => m.size > 0))
      keys.push(...page.items.map((m) => m.key))
      cursor = page.nextCursor
      if (!cursor) break
    }
    assert.deepEqual(keys, expected, `limit ${limit}`)
  }
})

behaviour('delete_removes', 'delete removes', async (mesh) => {
  await mesh.artifacts.put('gone', Buffer.from('bye'))
  assert.equal(await mesh.artifacts.delete('gone'), true)
  assert.equal(await mesh.artifacts.delete('gone'), false)
  assert.equal(await mesh.artifacts.get('gone'), null)
  assert.deepEqual((await mesh.artifacts.list('gone')).items, [])
})

behaviour('keys_cannot_escape_the_store', 'keys cannot escape the store', async (mesh) => {
  const outside = tempDir()
  for (const key of ['../escaped', 'a/../../escaped', path.join(outside, 'escaped'), './x', 'a//b', 'a\\..\\b', '', 'x\0y']) {
    const e = await rejection(mesh.artifacts.put(key, Buffer.from('no')))
    assert.equal(e.code, 'InvalidInput', key)
    assert.match(e.message, /artifacts\.put/)
    for (const call of [(k) => mesh.artifacts.get(k), (k) => mesh.artifacts.head(k), (k) => mesh.artifacts.delete(k)]) {
      assert.equal((await rejection(call(key))).code, 'InvalidInput', key)
    }
  }
  assert.deepEqual(fs.readdirSync(outside), [])
})

behaviour('metadata_is_validated', 'metadata is validated', async (mesh) => {
  assert.equal((await rejection(mesh.artifacts.put('m', Buffer.from('x'), { metadata: { note: 'n'.repeat(2100) } }))).code, 'TooLarge')
  assert.equal((await rejection(mesh.artifacts.put('m', Buffer.from('x'), { metadata: { 'bad name': 'v' } }))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.artifacts.put('m', Buffer.from('x'), { metadata: { ok: 'line\nbreak' } }))).code, 'InvalidInput')
  assert.equal(await mesh.artifacts.head('m'), null)
})

behaviour('readers_never_see_a_mix_during_replacement', 'readers never see a mix during replacement', async (mesh) => {
  const a = content(1, 64 * 1024)
  const b = content(2, 96 * 1024)
  await mesh.artifacts.put('swap', a, { contentType: 'a' })
  let writing = true
  const writer = (async () => {
    for (let i = 0; i < 60; i++) {
      await mesh.artifacts.put('swap', i % 2 === 0 ? b : a, { contentType: i % 2 === 0 ? 'b' : 'a' })
    }
    writing = false
  })()
  let reads = 0
  while (writing || reads < 20) {
    const got = await mesh.artifacts.get('swap')
    assert.ok(got.data.equals(got.meta.contentType === 'a' ? a : b), 'content does not match its metadata')
    assert.equal(got.meta.size, got.data.length)
    reads++
  }
  await writer
})
