// The error kinds are defined once, in the Rust core (`ErrorKind::ALL`); the addon reports them
// (`errorKinds()`), and the `ErrorCode` type of index.d.ts must list exactly those, in order.
// A kind added in Rust and not in the types (or the other way round) fails here.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { errorKinds, MeshClient, MeshError } = require('..')

test('ErrorCode in index.d.ts lists the core error kinds', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const union = dts.match(/export type ErrorCode =([^;]*?)\n\n/s)
  assert.ok(union, 'index.d.ts declares `export type ErrorCode = ...`')
  const declared = [...union[1].matchAll(/'(\w+)'/g)].map((m) => m[1])
  assert.deepEqual(declared, errorKinds())
  assert.ok(errorKinds().length >= 10)
})

test('a rejection carries one of the listed kinds as its code', async () => {
  const mesh = await MeshClient.open('memory://')
  await assert.rejects(mesh.kv.set('', 1), (e) => e instanceof MeshError && errorKinds().includes(e.code) && e.code === 'InvalidInput')
})
