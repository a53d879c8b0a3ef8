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

/** A fresh table and bucket (unique name prefix) on the moto server of tests/with-moto.sh. */
function awsUrl() {
  const endpoint = process.env.AGENT_MESH_TEST_AWS_ENDPOINT
  if (!endpoint) throw new Error('AGENT_MESH_TEST_BACKENDS names aws but AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh')
  return `aws://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=t${require('node:crypto').randomBytes(6).toString('hex')}-`
}

const awsMeshes = new WeakSet()

/** Whether `mesh` was opened on the aws backend (SQS delivery is slower and unordered). */
const isAws = (mesh) => awsMeshes.has(mesh)

async function openMesh(backend) {
  let mesh
  if (backend === 'memory') mesh = await MeshClient.open('memory://')
  else if (backend === 'local') mesh = await MeshClient.open(`local://${tempDir()}/mesh`)
  else if (backend === 'aws') mesh = await MeshClient.open(awsUrl())
  else throw new Error(`unknown backend ${backend} in AGENT_MESH_TEST_BACKENDS`)
  await mesh.provision()
  if (backend === 'aws') awsMeshes.add(mesh)
  return mesh
}

/**
 * Registers `fn(mesh)` as one test per backend: `behaviour(id, title, fn)` for a case of the
 * shared behaviour suite (`id` as listed in tests/behaviour/cases.json, which
 * tests/cross_language/test_behaviour_cases.py checks), `behaviour(title, fn)` for a Node-only one.
 */
function behaviour(...args) {
  const fn = args.pop()
  const name = args.length === 2 ? `${args[1]} [${args[0]}]` : args[0]
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

module.exports = { awsUrl, behaviour, isAws, openMesh, rejection, sleep, tempDir, BACKENDS }
