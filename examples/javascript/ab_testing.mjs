// A/B testing framework (guide: "Advanced Patterns", 2).
//
// The experiment's configuration is stored under the guide's key; twenty users are assigned to
// a variant by a stable hash weighted by the configured split, and their exposures and
// conversions are tracked as ExperimentEvent events (sent in batches). A tally service
// subscribed to the experiment's events counts them per variant and stores the results.
//
//   node examples/javascript/ab_testing.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/ab_testing.mjs
import { MeshClient } from '@agent-mesh/client'

const USERS = Array.from({ length: 20 }, (_, i) => `user${100 + i}`)

// The same variant for a user every time: a stable hash of the id, bucketed by the split.
function variantFor(userId, split) {
  let bucket = [...userId].reduce((sum, c, i) => sum + c.charCodeAt(0) * (i + 1), 0) % 100
  for (const [variant, share] of Object.entries(split)) {
    if (bucket < share * 100) return variant
    bucket -= Math.trunc(share * 100)
  }
  return Object.keys(split).at(-1)
}

// Stand-in for real behaviour: variant B's shorter checkout converts more users.
const converts = (userId, variant) => Number(userId.slice(4)) % (variant === 'B' ? 2 : 4) === 0

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const config = (await mesh.kv.set('experiment:checkout-flow:config', {
  variants: { A: 0.5, B: 0.5 },
  start_date: '2024-01-15',
  metrics: ['conversion_rate', 'revenue'],
})).value
const tally = await mesh.events.subscribe({ 'detail-type': ['ExperimentEvent'], detail: { experiment: ['checkout-flow'] } })

const events = []
for (const userId of USERS) {
  const variant = variantFor(userId, config.variants)
  for (const step of converts(userId, variant) ? ['exposure', 'conversion'] : ['exposure']) {
    events.push({ detailType: 'ExperimentEvent', source: 'checkout', detail: { experiment: 'checkout-flow', variant, user_id: userId, event: step } })
  }
}
const results = await mesh.events.sendBatch(events)
console.log(`sent    ${results.filter((r) => r.eventId).length} ExperimentEvent events for ${USERS.length} users`)

const counts = Object.fromEntries(Object.keys(config.variants).map((v) => [v, { exposure: 0, conversion: 0 }]))
for (let i = 0; i < events.length; i++) {
  const event = await tally.next(30000)
  if (!event) throw new Error('the tally received fewer events than were sent')
  counts[event.detail.variant][event.detail.event] += 1
}
await tally.close()
const summary = Object.fromEntries(Object.entries(counts).map(([v, c]) => [v, { ...c, conversion_rate: Math.round((c.conversion / c.exposure) * 1000) / 1000 }]))
const stored = await mesh.kv.set('experiment:checkout-flow:results', summary)
console.log(`tally received ${events.length} events`)
for (const [variant, row] of Object.entries(summary)) {
  console.log(`  variant ${variant}: ${row.exposure} exposed, ${row.conversion} converted, rate ${row.conversion_rate}`)
}
console.log(`stored  ${stored.key} = ${JSON.stringify(stored.value)}`)
