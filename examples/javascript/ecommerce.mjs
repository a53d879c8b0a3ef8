// E-commerce: customer preferences and purchase events (guide: "Use Cases by Domain").
//
// The customer's preferences are stored under the guide's key, the product catalog is an
// artifact, and two purchases are announced with PurchaseCompleted events (kept on the
// customer's timeline). Two services react: the recommender hears of every purchase of user123
// and updates the preferences from the catalog (a conditional write); the loyalty service hears
// only of purchases of 100 or more and awards points.
//
//   node examples/javascript/ecommerce.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/ecommerce.mjs
import { MeshClient } from '@agent-mesh/client'

const CATALOG = { 'iphone-15': { category: 'electronics', brand: 'apple' }, 'rust-book': { category: 'books', brand: 'no-starch' } }
const PURCHASES = [
  { customer_id: 'user123', order_id: 'ord-456', items: [{ sku: 'iphone-15', quantity: 1, price: 999 }], total: 999 },
  { customer_id: 'user123', order_id: 'ord-457', items: [{ sku: 'rust-book', quantity: 1, price: 45 }], total: 45 },
]

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
await mesh.kv.set('customer:user123:preferences', {
  categories: ['electronics', 'books'],
  price_range: { min: 10, max: 500 },
  brands: ['apple', 'samsung'],
  last_updated: '2024-01-15T12:00:00Z',
})
await mesh.artifacts.put('catalog/products.json', Buffer.from(JSON.stringify(CATALOG)), { contentType: 'application/json' })
const recommender = await mesh.events.subscribe({ 'detail-type': ['PurchaseCompleted'], detail: { customer_id: ['user123'] } })
const loyalty = await mesh.events.subscribe({ 'detail-type': ['PurchaseCompleted'], detail: { total: [{ numeric: ['>=', 100] }] } })

for (const purchase of PURCHASES) {
  await mesh.events.send({ detailType: 'PurchaseCompleted', detail: purchase, source: 'checkout', stream: 'customer/user123/purchases' })
  console.log(`event   PurchaseCompleted ${purchase.order_id} total ${purchase.total}`)
}

const catalog = JSON.parse((await mesh.artifacts.get('catalog/products.json')).data)
for (let i = 0; i < PURCHASES.length; i++) {
  const event = await recommender.next(30000)
  if (!event) throw new Error('the recommender received no PurchaseCompleted event within 30 s')
  console.log(`recommender received ${event.detailType} ${JSON.stringify(event.detail)}`)
  for (;;) { // read, modify, write only if nobody wrote in between
    const item = await mesh.kv.get('customer:user123:preferences')
    const prefs = item.value
    for (const line of event.detail.items) {
      const product = catalog[line.sku]
      prefs.recently_bought = [...(prefs.recently_bought ?? []), line.sku]
      prefs.brands = [...new Set([...prefs.brands, product.brand])].sort()
    }
    prefs.price_range.max = Math.max(prefs.price_range.max, event.detail.total)
    prefs.last_updated = event.time.toISOString().replace(/\.\d+Z$/, 'Z')
    try {
      await mesh.kv.set('customer:user123:preferences', prefs, { ifVersion: item.version })
      break
    } catch (e) {
      if (e.code !== 'Conflict') throw e
    }
  }
}
const event = await loyalty.next(30000)
if (!event) throw new Error('the loyalty service received no PurchaseCompleted event within 30 s')
console.log(`loyalty received ${event.detailType} ${JSON.stringify(event.detail)}`)
const points = await mesh.kv.set('customer:user123:loyalty', { points: event.detail.total, last_order: event.detail.order_id })
console.log(`stored  ${points.key} = ${JSON.stringify(points.value)}`)
await recommender.close()
await loyalty.close()

const prefs = await mesh.kv.get('customer:user123:preferences')
console.log(`preferences v${prefs.version}: ${JSON.stringify(prefs.value)}`)
console.log('purchase history:')
for (const entry of (await mesh.timeline.get('customer/user123/', { order: 'oldest' })).items) {
  console.log(`  ${entry.stream}  ${entry.data.detail.order_id}  total ${entry.data.detail.total}`)
}
