// Activity worker in its own Node process. Usage: node node_activity_worker.js URL ACTIVITY TASKS
// Serves ACTIVITY on the mesh at URL until it has handled TASKS tasks, then stops its worker and
// exits. Each result names the language and the process that produced it.
'use strict'
const path = require('node:path')
const { MeshClient } = require(path.resolve(__dirname, '../../bindings-node'))

async function main() {
  const [url, activity, tasksText] = process.argv.slice(2)
  const mesh = await MeshClient.open(url)
  let handled = 0
  let finish
  const finished = new Promise((resolve) => { finish = resolve })
  const worker = await mesh.workflows.worker(activity, async (input) => {
    handled += 1
    if (handled === Number(tasksText)) setImmediate(finish)
    if (input.score < 0) {
      const e = new Error(`negative score ${input.score}`)
      e.error = 'Review.Rejected'
      throw e
    }
    return { approved: input.score > 5, by: 'node', pid: process.pid }
  })
  // A worker does not keep Node's event loop alive (scripts that use one still exit when their
  // own work is done): a process that only serves activities keeps itself alive until it stops.
  const alive = setInterval(() => {}, 60000)
  console.log('ready')
  await finished
  await worker.stop()
  clearInterval(alive)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
