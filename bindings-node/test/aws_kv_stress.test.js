// Compare-and-set on aws:// (moto) under concurrency and faults, through the Node binding:
// N writers x M read-then-set(ifVersion) increments of one key end exact (value N*M at version
// N*M + 1) as promises sharing one client, with their own clients, in separate processes, and
// through the fault proxy (tests/aws/fault_proxy.py, a child process) that loses a quarter of
// the writes' answers and answers a tenth of all requests with throttling or server errors.
// A retryable error means nothing was written, so the writer tries again; an error that is not
// retryable (the outcome is unknown) fails the test. Runs when AGENT_MESH_TEST_BACKENDS names
// aws (tests/with-moto.sh provides the server).
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { spawn, execFile } = require('node:child_process')
const { MeshClient } = require('..')
const { BACKENDS } = require('./helpers')

const enabled = BACKENDS.includes('aws')
const skip = !enabled && 'aws not in AGENT_MESH_TEST_BACKENDS'
const TRIALS = 3
const WRITERS = 4
const INCREMENTS = 25
const ROOT = path.join(__dirname, '..', '..')

const url = (endpoint, prefix) => `aws://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=${prefix}`

async function freshCounter() {
  const prefix = `nstress${crypto.randomBytes(4).toString('hex')}-`
  const direct = await MeshClient.open(url(process.env.AGENT_MESH_TEST_AWS_ENDPOINT, prefix))
  await direct.provision()
  await direct.kv.set('count', 0)
  return { prefix, direct }
}

/** `n` conditional increments of `count`; resolves to the conflicts seen. */
async function increment(mesh, n) {
  let done = 0
  let conflicts = 0
  while (done < n) {
    let item
    try {
      item = await mesh.kv.get('count')
    } catch (error) {
      if (error.retryable) continue
      throw error
    }
    try {
      await mesh.kv.set('count', item.value + 1, { ifVersion: item.version })
      done += 1
    } catch (error) {
      if (error.code === 'Conflict') conflicts += 1
      else if (!error.retryable) throw new Error(`a non-retryable error (outcome unknown?): ${error.message}`)
    }
  }
  return conflicts
}

async function assertExact(direct) {
  const total = WRITERS * INCREMENTS
  const item = await direct.kv.get('count')
  assert.deepEqual([item.value, item.version], [total, total + 1], `${total} increments acknowledged`)
}

test('aws: promises sharing a client and with their own clients increment exactly', { skip }, async () => {
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const shared of [true, false]) {
      const { prefix, direct } = await freshCounter()
      const endpoint = process.env.AGENT_MESH_TEST_AWS_ENDPOINT
      const one = await MeshClient.open(url(endpoint, prefix))
      const clients = shared ? Array(WRITERS).fill(one) : await Promise.all(Array.from({ length: WRITERS }, () => MeshClient.open(url(endpoint, prefix))))
      await Promise.all(clients.map((mesh) => increment(mesh, INCREMENTS)))
      await assertExact(direct)
    }
  }
})

const WORKER = `
const { MeshClient } = require(${JSON.stringify(path.join(__dirname, '..'))})
;(async () => {
  const mesh = await MeshClient.open(process.argv[1])
  ${increment.toString()}
  const conflicts = await increment(mesh, Number(process.argv[2]))
  console.log(JSON.stringify({ conflicts }))
})().catch((error) => { console.error(error); process.exit(1) })
`

test('aws: separate processes increment exactly', { skip }, async () => {
  for (let trial = 0; trial < TRIALS; trial++) {
    const { prefix, direct } = await freshCounter()
    const target = url(process.env.AGENT_MESH_TEST_AWS_ENDPOINT, prefix)
    const runs = Array.from({ length: WRITERS }, () => new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', WORKER, target, String(INCREMENTS)], (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))))
    }))
    await Promise.all(runs)
    await assertExact(direct)
  }
})

/** Starts tests/aws/fault_proxy.py; resolves to { url, stop, stats }. */
async function faultProxy(seed) {
  const venv = path.join(ROOT, '.venv', 'bin', 'python')
  const python = process.env.AGENT_MESH_TEST_PYTHON || (fs.existsSync(venv) ? venv : 'python3')
  const child = spawn(python, [path.join(ROOT, 'tests', 'aws', 'fault_proxy.py'), process.env.AGENT_MESH_TEST_AWS_ENDPOINT, '--rate', '0.1', '--lose-rate', '0.25', '--seed', String(seed)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = await new Promise((resolve, reject) => {
    child.once('error', reject)
    readline.createInterface({ input: child.stdout }).once('line', (l) => resolve([l]))
  })
  assert.match(line, /^http:\/\//)
  return {
    url: line.trim(),
    stats: async () => (await fetch(`${line.trim()}/__proxy/stats`)).json(),
    stop: () => child.kill(),
  }
}

test('aws: increments through a proxy that loses answers are exact', { skip }, async () => {
  let lost = 0
  let injected = 0
  for (let trial = 0; trial < TRIALS; trial++) {
    const proxy = await faultProxy(300 + trial)
    try {
      const { prefix, direct } = await freshCounter()
      const clients = await Promise.all(Array.from({ length: WRITERS }, () => MeshClient.open(url(proxy.url, prefix))))
      await Promise.all(clients.map((mesh) => increment(mesh, INCREMENTS)))
      await assertExact(direct)
      const stats = await proxy.stats()
      lost += stats.lost
      injected += stats.injected
    } finally {
      proxy.stop()
    }
  }
  assert.ok(lost >= 10 * TRIALS && injected >= 10 * TRIALS, `the proxy lost ${lost} answers and injected ${injected} faults`)
})
