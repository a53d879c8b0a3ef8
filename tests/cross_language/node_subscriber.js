// Cross-process subscriber (Node side). Usage: node node_subscriber.js URL PATTERN_JSON COUNT
// The same steps as python_subscriber.py, through @agent-mesh/client.
'use strict'
const path = require('node:path')
const { MeshClient } = require(path.resolve(__dirname, '../../bindings-node'))

async function main() {
  const [url, patternText, countText] = process.argv.slice(2)
  const count = Number(countText)
  const mesh = await MeshClient.open(url)
  const sub = await mesh.events.subscribe(JSON.parse(patternText))
  process.stdout.write('ready\n')
  const ns = []
  const latency = []
  for (let i = 0; i < count; i++) {
    const event = await sub.next(60000)
    if (!event) break
    latency.push(Date.now() - event.detail.sent_ms)
    ns.push(event.detail.n)
  }
  const extra = (await sub.next(500)) !== null
  await sub.close()
  process.stdout.write(JSON.stringify({ ns, latency_ms: latency, extra }) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
