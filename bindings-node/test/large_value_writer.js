// Writes the large value `doc` version after version for large_value_crash.test.js:
// `node large_value_writer.js <url> <writes>` prints each version once stored, then waits (up to
// 10 s) for background collection to leave a single body and prints `bodies <n>`.
'use strict'
const { MeshClient } = require('..')

const BODIES = '.agent-mesh/kv-values/'
const SIZE = 1500000

const doc = (version) => {
  const unit = version.toString(16).padStart(16, '0')
  return { i: version, text: unit.repeat(Math.ceil(SIZE / 16) + 1).slice(0, SIZE) }
}

async function main() {
  const [url, writes] = process.argv.slice(2)
  const mesh = await MeshClient.open(url)
  for (let n = 0; n < Number(writes); n++) {
    const item = await mesh.kv.get('doc')
    const version = item ? item.version : 0
    await mesh.kv.set('doc', doc(version + 1), version ? { ifVersion: version } : { ifAbsent: true })
    console.log(version + 1)
  }
  const bodies = async () => (await mesh.artifacts.list(BODIES)).items.length
  const deadline = Date.now() + 10000
  while ((await bodies()) > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  console.log(`bodies ${await bodies()}`)
}

if (require.main === module) main().catch((e) => { console.error(e); process.exit(1) })
module.exports = { BODIES, doc }
