// Real-time analytics (guide: "Advanced Patterns", 3).
//
// The web front end sends activity events (page views, conversions with revenue) in batches. An
// aggregator subscribed to them rolls them up into this hour's metrics, stored under the guide's
// key shape metrics:hourly:<YYYY-MM-DD-HH> with a 1-week TTL, and a dashboard lists the hours
// kept.
//
//   node examples/javascript/realtime_metrics.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/realtime_metrics.mjs
import { MeshClient } from '@agent-mesh/client'

// 30 page views by 12 users, 4 of whom buy something.
function activity() {
  const events = []
  for (let n = 0; n < 30; n++) {
    events.push({ detailType: 'PageViewed', source: 'web-frontend', detail: { user_id: `u${n % 12}`, page: `/products/${n % 5}` } })
  }
  for (const [user, revenue] of [['u1', 120], ['u4', 80], ['u7', 250], ['u9', 45]]) {
    events.push({ detailType: 'Conversion', source: 'web-frontend', detail: { user_id: user, revenue } })
  }
  return events
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const aggregator = await mesh.events.subscribe({ source: ['web-frontend'] })
const events = activity()
await mesh.events.sendBatch(events)
console.log(`sent    ${events.length} activity events`)

const users = new Set()
const metrics = { active_users: 0, page_views: 0, conversions: 0, revenue: 0 }
for (let i = 0; i < events.length; i++) {
  const event = await aggregator.next(30000)
  if (!event) throw new Error('the aggregator received fewer events than were sent')
  users.add(event.detail.user_id)
  if (event.detailType === 'PageViewed') {
    metrics.page_views += 1
  } else {
    metrics.conversions += 1
    metrics.revenue += event.detail.revenue
  }
}
await aggregator.close()
metrics.active_users = users.size

const hour = new Date().toISOString().slice(0, 13).replace('T', '-') // YYYY-MM-DD-HH, UTC
const item = await mesh.kv.set(`metrics:hourly:${hour}`, metrics, { ttlHours: 168 }) // keep for 1 week
console.log(`stored  ${item.key} = ${JSON.stringify(item.value)}`)
console.log('dashboard (hours kept):')
for (const row of (await mesh.kv.list('metrics:hourly:')).items) {
  console.log(`  ${row.key}  ${JSON.stringify(row.value)}  expires ${row.expiresAt?.toISOString()}`)
}
