// Node side of bindings_kv.py: times kv.get through @agent-mesh/client and the same lookup
// through better-sqlite3 on the same mesh file, in alternating rounds; prints JSON.
// Usage: node bindings_kv.js <mesh-dir> <n> <keys>
'use strict'
const path = require('node:path')
const { MeshClient } = require(path.resolve(__dirname, '../../bindings-node'))
const Database = require('better-sqlite3')

const ROUNDS = 10

function stats(samples) {
  samples.sort((a, b) => a - b)
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))]
  return { p50_ns: at(0.5), p99_ns: at(0.99) }
}

async function main() {
  const [dir, nText, keysText] = process.argv.slice(2)
  const n = Number(nText)
  const keys = Number(keysText)
  const names = Array.from({ length: n }, (_, i) => `user:${(i * 7919) % keys}:preferences`)
  const mesh = await MeshClient.open(`local://${dir}`)
  const db = new Database(path.join(dir, 'mesh.db'), { readonly: true })
  const select = db.prepare('SELECT value, version, created_at, updated_at, expires_at FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)')
  const rawGet = (key) => {
    const row = select.get(key, Date.now())
    return row && { ...row, value: JSON.parse(row.value) }
  }
  for (const name of names.slice(0, 1000)) {
    await mesh.kv.get(name)
    rawGet(name)
  }
  const meshSamples = []
  const rawSamples = []
  const per = Math.floor(n / ROUNDS)
  for (let r = 0; r < ROUNDS; r++) {
    const slice = names.slice(r * per, (r + 1) * per)
    for (const name of slice) {
      const t = process.hrtime.bigint()
      const item = await mesh.kv.get(name)
      meshSamples.push(Number(process.hrtime.bigint() - t))
      if (item === null) throw new Error(`missing ${name}`)
    }
    for (const name of slice) {
      const t = process.hrtime.bigint()
      const row = rawGet(name)
      rawSamples.push(Number(process.hrtime.bigint() - t))
      if (!row) throw new Error(`missing ${name}`)
    }
  }
  console.log(JSON.stringify({ agent_mesh: stats(meshSamples), better_sqlite3: stats(rawSamples) }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
