// Event-driven microservices (guide: "Integration Patterns", 1).
//
// Service A (orders) sends one OrderCreated event. Three services subscribed before it was sent:
// inventory and shipping listen for OrderCreated, analytics for every event. Inventory reserves
// the stock and announces InventoryReserved, which only analytics hears. Each service prints
// what it received; in production each would be its own process (they share nothing but the
// mesh).
//
//   node examples/javascript/microservices.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/microservices.mjs
import { MeshClient } from '@agent-mesh/client'

// The next `count` events of a subscription (at most 30 s each), printed as they come.
async function receive(name, subscription, count) {
  const events = []
  for (let i = 0; i < count; i++) {
    const event = await subscription.next(30000)
    if (!event) throw new Error(`${name}: no event within 30 s`)
    console.log(`${name} received ${event.detailType} from ${event.source} ${JSON.stringify(event.detail)}`)
    events.push(event)
  }
  return events
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const services = {
  inventory: await mesh.events.subscribe({ 'detail-type': ['OrderCreated'] }),
  shipping: await mesh.events.subscribe({ 'detail-type': ['OrderCreated'] }),
  analytics: await mesh.events.subscribe({ source: [{ prefix: '' }] }), // every event
}

// Service A: order processing
await mesh.events.send({ detailType: 'OrderCreated', detail: { order_id: 'ord-123', customer_id: 'cust-456' }, source: 'orders' })

// Service B: inventory management reserves the stock and says so.
for (const order of await receive('inventory', services.inventory, 1)) {
  await mesh.kv.set(`inventory:reservation:${order.detail.order_id}`, { sku: 'iphone-15', quantity: 1 })
  await mesh.events.send({ detailType: 'InventoryReserved', detail: { order_id: order.detail.order_id, sku: 'iphone-15' }, source: 'inventory' })
}
// Service C: shipping prepares a shipment.
for (const order of await receive('shipping', services.shipping, 1)) {
  await mesh.kv.set(`shipping:shipment:${order.detail.order_id}`, { status: 'label_created', carrier: 'ups' })
}
// Service D: analytics counts everything it hears.
const counts = {}
for (const event of await receive('analytics', services.analytics, 2)) counts[event.detailType] = (counts[event.detailType] ?? 0) + 1
await mesh.kv.set('analytics:events:count', counts)

for (const [name, subscription] of Object.entries(services)) { // anything else would show up here
  const extra = await subscription.next(500)
  console.log(`${name}: ${extra ? `unexpected ${extra.detailType}` : 'nothing else'}`)
  await subscription.close()
}
for (const key of ['inventory:reservation:ord-123', 'shipping:shipment:ord-123', 'analytics:events:count']) {
  const item = await mesh.kv.get(key)
  console.log(`stored  ${key} = ${JSON.stringify(item?.value ?? null)}`)
}
