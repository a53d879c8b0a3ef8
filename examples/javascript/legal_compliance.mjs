// Legal & compliance: contract versions, compliance records, audit trail (guide: "Use Cases by
// Domain").
//
// Two versions of a contract are kept as artifacts (contracts/client-abc/<version>/agreement.pdf,
// with the version and author as metadata), compliance checks are recorded under the guide's
// keys (compliance:contract:abc:<regulation>), and every action is appended to an audit trail on
// the timeline (audit/contracts/client-abc/...), which is read back oldest first.
//
//   node examples/javascript/legal_compliance.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/legal_compliance.mjs
import { createHash } from 'node:crypto'
import { MeshClient } from '@agent-mesh/client'

const VERSIONS = {
  'v2.0': Buffer.from('%PDF-1.4 Agreement ABC v2.0: data is kept for 10 years.'),
  'v2.1': Buffer.from('%PDF-1.4 Agreement ABC v2.1: data is kept for 2 years; customers may ask for erasure.'),
}
const CHECKS = {
  gdpr: { status: 'compliant', checked_at: '2024-01-15T14:00:00Z', requirements_met: ['data_protection', 'right_to_erasure'], next_review: '2024-07-15' },
  ccpa: { status: 'compliant', checked_at: '2024-01-15T14:05:00Z', requirements_met: ['right_to_know', 'right_to_delete'], next_review: '2024-07-15' },
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally

for (const [version, content] of Object.entries(VERSIONS)) {
  const key = `contracts/client-abc/${version}/agreement.pdf`
  await mesh.artifacts.put(key, content, { contentType: 'application/pdf', metadata: { version, author: 'legal-bot' } })
  await mesh.timeline.append('audit/contracts/client-abc/versions', {
    action: 'version_stored', key, sha256: createHash('sha256').update(content).digest('hex').slice(0, 16),
  })
}
for (const [regulation, check] of Object.entries(CHECKS)) {
  await mesh.kv.set(`compliance:contract:abc:${regulation}`, check)
  await mesh.timeline.append('audit/contracts/client-abc/compliance', {
    action: 'compliance_checked', regulation, status: check.status, version: 'v2.1',
  })
}

console.log('contract versions:')
for (const meta of (await mesh.artifacts.list('contracts/client-abc/')).items) {
  const metadata = Object.fromEntries(Object.entries(meta.metadata).sort())
  console.log(`  ${meta.key}  ${meta.size} bytes  ${meta.contentType}  ${JSON.stringify(metadata)}`)
}
const latest = await mesh.artifacts.get('contracts/client-abc/v2.1/agreement.pdf')
if (latest) console.log(`  latest reads: ${JSON.stringify(latest.data.toString('utf8'))}`)
console.log('compliance records:')
for (const item of (await mesh.kv.list('compliance:contract:abc:')).items) console.log(`  ${item.key} = ${JSON.stringify(item.value)}`)
console.log('audit trail (oldest first):')
for (const entry of (await mesh.timeline.get('audit/contracts/client-abc/', { order: 'oldest' })).items) {
  console.log(`  ${entry.time.toISOString()}  ${entry.stream}  ${JSON.stringify(entry.data)}`)
}
