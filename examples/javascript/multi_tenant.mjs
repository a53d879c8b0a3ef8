// Multi-tenant SaaS: tenant isolation that holds (guide: "Advanced Patterns", 1. Multi-Tenant
// Architecture).
//
// The guide prefixes keys with the tenant id by hand (`tenant-abc:user:123:profile`); one
// forgotten prefix and a tenant reads another's data. Here each tenant's agent gets a scoped
// client, `mesh.scope(tenant)`: it uses plain keys, and whatever key it is handed stays inside
// its tenant. Two tenants store the same key, each sends UserAction events, and each tenant's
// subscriber receives only its own tenant's events, with the same pattern; the operator (the
// unscoped client) sees both, the tenant in each event's source. Last, the IAM policy a
// tenant's agent needs on AWS (`agent-mesh --tenant tenant-abc iam-policy` prints the same).
//
//   node examples/javascript/multi_tenant.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/multi_tenant.mjs
import { MeshClient } from '@agent-mesh/client'

const TENANTS = { 'tenant-abc': { name: 'Ada', plan: 'pro' }, 'tenant-xyz': { name: 'Yuki', plan: 'free' } }

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
const scoped = Object.fromEntries(Object.keys(TENANTS).map((t) => [t, mesh.scope(t)]))
// Subscribers start before anything is sent. Each tenant's has the same pattern.
const subscribers = {}
for (const [tenant, client] of Object.entries(scoped)) {
  subscribers[tenant] = await client.events.subscribe({ 'detail-type': ['UserAction'] })
}
const operator = await mesh.events.subscribe({ 'detail-type': ['UserAction'], source: [{ prefix: 'tenants/' }] })

for (const [tenant, profile] of Object.entries(TENANTS)) {
  const client = scoped[tenant]
  await client.kv.set('user:123:profile', profile) // the same key in both tenants
  await client.events.send({ detailType: 'UserAction', detail: { tenant_id: tenant, user_id: '123', action: 'login' }, source: 'auth' })
  console.log(`${tenant}: stored user:123:profile and sent UserAction login`)
}

const abc = scoped['tenant-abc']
const xyz = scoped['tenant-xyz']
console.log(`tenant-abc reads user:123:profile -> ${JSON.stringify((await abc.kv.get('user:123:profile')).value)}`)
console.log(`tenant-xyz reads user:123:profile -> ${JSON.stringify((await xyz.kv.get('user:123:profile')).value)}`)
for (const attempt of ['../tenant-xyz/user:123:profile', 'tenants/tenant-xyz/user:123:profile', 'tenant-xyz:user:123:profile']) {
  const item = await abc.kv.get(attempt)
  console.log(`tenant-abc reads ${attempt} -> ${item === null ? 'None' : JSON.stringify(item.value)}`)
}
const keys = (await mesh.kv.list('tenants/tenant-abc/')).items.map((i) => i.key)
console.log(`operator lists tenants/tenant-abc/ -> ${JSON.stringify(keys)}`)

for (const [tenant, subscription] of Object.entries(subscribers)) {
  const event = await subscription.next(30000)
  if (!event) throw new Error(`${tenant}: no UserAction event within 30 s`)
  console.log(`${tenant} received ${event.detailType} from ${event.source} ${JSON.stringify(event.detail)}`)
  const extra = await subscription.next(1000)
  if (extra) throw new Error(`${tenant} received another tenant's event: ${JSON.stringify(extra)}`)
  await subscription.close()
}
for (let i = 0; i < Object.keys(TENANTS).length; i++) {
  const event = await operator.next(30000)
  if (!event) throw new Error('operator: a UserAction event did not arrive within 30 s')
  console.log(`operator received ${event.detailType} from ${event.source} ${JSON.stringify(event.detail)}`)
}
await operator.close()

const policy = abc.iamPolicy()
const leading = policy.Statement[0].Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']
console.log(`tenant-abc's IAM policy: ${policy.Statement.length} statements; its KV items: dynamodb:LeadingKeys ${JSON.stringify(leading)}`)
