// Shared by the behaviour tests: each case runs against every backend in
// AGENT_MESH_TEST_BACKENDS (comma-separated; default "memory,local").
'use strict'
const { test } = require('node:test')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { MeshClient } = require('..')

const BACKENDS = (process.env.AGENT_MESH_TEST_BACKENDS || 'memory,local').split(',').map((b) => b.trim()).filter(Boolean)

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'agent-mesh-node-'))
}

async function openMesh(backend) {
  if (backend === 'memory') return MeshClient.open('memory://')
  if (backend === 'local') return MeshClient.open(`local://${tempDir()}/mesh`)
  throw new Error(`unknown backend ${backend} in AGENT_MESH_TEST_BACKENDS`)
}

/** Registers `fn(mesh)` as one test per backend. */
function behaviour(name, fn) {
  for (const backend of BACKENDS) {
    test(`${backend}: ${name}`, async () => fn(await openMesh(backend)))
  }
}

/** Resolves to the error `promise` rejects with; fails if it resolves. */
async function rejection(promise) {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

module.exports = { behaviour, rejection, sleep, tempDir, BACKENDS }
