// The "personal assistant with memory" demo in JavaScript: preferences with a 30-day TTL and an
// attachment, stored and read back, an event, the timeline, and a content-moderation workflow
// (examples/workflows/content-moderation.json) served by JavaScript handlers, on the embedded
// local mesh (./.agent-mesh by default). On aws:// (AGENT_MESH_URL) everything but the workflow
// runs unchanged: its Tasks are ECS tasks there, which this program cannot serve (see
// content_moderation.mjs, which runs it on AWS with callbacks).
//
//   npm install ./bindings-node && node examples/javascript/personal_assistant.mjs
import { readFileSync } from 'node:fs'
import { MeshClient } from '@agent-mesh/client'

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
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
const event = await uploads.next(30000)
console.log(`event   ${event.detailType} from ${event.source}: ${JSON.stringify(event.detail)}`)
await uploads.close()
await mesh.timeline.append('user/john/profile', { step: 'preferences saved' })
for (const entry of (await mesh.timeline.get('user/john/', { limit: 5 })).items) {
  console.log(`history ${entry.time.toISOString()} ${entry.stream}`)
}

// Moderation before a note is published: the same ASL JSON runs on Step Functions; here its two
// Task states are served by the handlers below.
let served = true
try {
  mesh.workflows.register('content-extractor', (input) => ({ text: input.Input.text.trim(), words: input.Input.text.split(/\s+/).length }))
  mesh.workflows.register('policy-checker', async (input, context) => ({
    policy_result: /spam/i.test(context.Execution.Input.text) ? 'unsafe' : 'safe',
  }))
} catch (e) {
  if (e.code !== 'Unsupported') throw e // aws://: Step Functions runs the ECS tasks itself
  console.log('workflow content-moderation: skipped, its ECS tasks cannot be served from this process on aws://')
  served = false
}
if (served) {
  await mesh.workflows.create('content-moderation', readFileSync(new URL('../workflows/content-moderation.json', import.meta.url), 'utf8'))
  for (const text of ["Notes from John's resume review", 'Buy SPAM now']) {
    const run = await mesh.workflows.start('content-moderation', { content_id: 'note-1', text })
    const done = await mesh.workflows.wait(run.arn)
    console.log(`workflow content-moderation ${JSON.stringify(text)}: ${done.status} ${JSON.stringify(done.output)}`)
  }
}
