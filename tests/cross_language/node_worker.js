// Cross-language worker (Node side). Usage: node node_worker.js URL ME OTHER INCREMENTS
// The same steps as python_worker.py, through @agent-mesh/client.
'use strict'
const path = require('node:path')
const { MeshClient } = require(path.resolve(__dirname, '../../bindings-node'))

const payload = (tag) => Buffer.from(tag.repeat(1000))
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function main() {
  const [url, me, other, incrementsText] = process.argv.slice(2)
  const increments = Number(incrementsText)
  const mesh = await MeshClient.open(url)
  await mesh.kv.set(`from:${me}`, { writer: me, lang: 'node', list: [1, 2, 3] })
  await mesh.artifacts.put(`from/${me}.bin`, payload(me), { contentType: `application/x-${me}`, metadata: { writer: me } })
  const deadline = Date.now() + 30000
  let item
  while ((item = await mesh.kv.get(`from:${other}`)) === null || (await mesh.artifacts.head(`from/${other}.bin`)) === null) {
    if (Date.now() > deadline) throw new Error(`${me}: ${other}'s writes never appeared`)
    await sleep(10)
  }
  const artifact = await mesh.artifacts.get(`from/${other}.bin`)
  const report = {
    read_value: item.value,
    artifact_ok: artifact.data.equals(payload(other)),
    artifact_meta: [artifact.meta.contentType, artifact.meta.metadata],
  }
  let conflicts = 0
  let done = 0
  while (done < increments) {
    const current = await mesh.kv.get('shared:counter')
    try {
      await mesh.kv.set('shared:counter', current.value + 1, { ifVersion: current.version })
      done++
    } catch (e) {
      if (e.code !== 'Conflict') throw e
      conflicts++
    }
  }
  report.conflicts = conflicts
  console.log(JSON.stringify(report))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
