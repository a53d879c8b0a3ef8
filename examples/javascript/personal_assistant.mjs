// The "personal assistant with memory" demo in JavaScript: preferences with a 30-day TTL and an
// attachment, stored and read back on the embedded local mesh (./.agent-mesh by default).
//
//   npm install ./bindings-node && node examples/javascript/personal_assistant.mjs
import { MeshClient } from '@agent-mesh/client'

const mesh = await MeshClient.open()
const stored = await mesh.kv.set('user:john:preferences', { timezone: 'PST', communication_style: 'concise' }, { ttlHours: 720 })
console.log(`stored  ${stored.key}  version ${stored.version}  expires ${stored.expiresAt.toISOString()}`)
const meta = await mesh.artifacts.put('conversations/2024/resume.pdf', Buffer.from("%PDF-1.4\n% John's resume (demo content)\n"), {
  contentType: 'application/pdf',
  metadata: { owner: 'john' },
})
console.log(`stored  ${meta.key}  ${meta.size} bytes  ${meta.contentType}`)
const item = await mesh.kv.get('user:john:preferences')
console.log(`read    preferences v${item.version}: ${JSON.stringify(item.value)}`)
const artifact = await mesh.artifacts.get('conversations/2024/resume.pdf')
console.log(`read    ${artifact.meta.key}: ${artifact.data.length} bytes, ${JSON.stringify(artifact.meta.metadata)}`)

const uploads = await mesh.events.subscribe({ 'detail-type': ['DocumentUploaded'] })
await mesh.events.send({ detailType: 'DocumentUploaded', detail: { key: 'conversations/2024/resume.pdf' }, source: 'document-processor', stream: 'user/john/documents' })
const event = await uploads.next(5000)
console.log(`event   ${event.detailType} from ${event.source}: ${JSON.stringify(event.detail)}`)
await uploads.close()
await mesh.timeline.append('user/john/profile', { step: 'preferences saved' })
for (const entry of (await mesh.timeline.get('user/john/', { limit: 5 })).items) {
  console.log(`history ${entry.time.toISOString()} ${entry.stream}`)
}
