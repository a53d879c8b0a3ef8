// Document processing pipeline (guide: "Quick Start Examples", 2).
//
// A document is stored as an artifact and announced with the guide's DocumentUploaded event.
// The event starts the document-pipeline workflow (examples/workflows/document-pipeline.json),
// which extracts the text, classifies it and routes it to legal review; the result is kept in
// the KV.
//
// The processors are functions in this program: each Task of the workflow sends an event with
// its task token (events:putEvents.waitForTaskToken), this program does the work and answers
// with sendTaskSuccess. The same definition runs on the embedded engine and on Step Functions.
//
//   node examples/javascript/document_pipeline.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/document_pipeline.mjs
import { readFileSync } from 'node:fs'
import { MeshClient } from '@agent-mesh/client'

const DEFINITION = new URL('../workflows/document-pipeline.json', import.meta.url)
const CONTRACT = `%PDF-1.4 (a text stand-in for a PDF)
MASTER SERVICES AGREEMENT between ABC Corp and Example Ltd.
1. Confidentiality: each party keeps the other's data confidential.
2. Termination: either party may terminate with 30 days notice.
3. Governing law: this agreement is governed by the laws of Delaware.
`
const LABELS = { contract: ['agreement', 'party'], confidentiality: ['confidential'], termination: ['terminate'], jurisdiction: ['governing law'] }

// The bus the definition's Tasks send to. The embedded engine ignores the name; on AWS it is the
// mesh's bus: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env> (what provision() makes).
function eventBus() {
  const query = new URL(process.env.AGENT_MESH_URL || 'local://').searchParams
  const env = query.get('env') || process.env.AGENT_MESH_ENV || 'dev'
  return process.env.AGENT_MESH_EVENT_BUS || `${query.get('prefix') || ''}agent-mesh-${env}`
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally

const PROCESSORS = {
  async ExtractText(document) {
    const artifact = await mesh.artifacts.get(document.key)
    if (!artifact) throw new Error(`artifact ${document.key} is missing`)
    const text = artifact.data.toString('utf8').split('\n').slice(1).join('\n')
    return { text, words: text.split(/\s+/).filter(Boolean).length }
  },
  async ClassifyDocument(document) {
    const text = document.extracted.text.toLowerCase()
    return { labels: Object.keys(LABELS).filter((label) => LABELS[label].some((w) => text.includes(w))) }
  },
}

await mesh.workflows.create('document-pipeline', readFileSync(DEFINITION, 'utf8').replaceAll('${EventBus}', eventBus()))
const uploads = await mesh.events.subscribe({ 'detail-type': ['DocumentUploaded'], source: ['document-processor'] })
const tasks = await mesh.events.subscribe({ source: ['document-pipeline'] })

const meta = await mesh.artifacts.put('documents/contract.pdf', Buffer.from(CONTRACT), { contentType: 'application/pdf' })
console.log(`stored  ${meta.key} (${meta.size} bytes, ${meta.contentType})`)
await mesh.events.send({
  detailType: 'DocumentUploaded',
  detail: {
    document_id: 'doc-123',
    bucket: 'agent-mesh-artifacts',
    key: 'documents/contract.pdf',
    processing_type: 'legal_review',
  },
  source: 'document-processor',
})

const upload = await uploads.next(30000)
if (!upload) throw new Error('no DocumentUploaded event arrived within 30 s')
console.log(`event   ${upload.detailType} from ${upload.source}: ${JSON.stringify(upload.detail)}`)
const run = await mesh.workflows.start('document-pipeline', upload.detail)
console.log(`started document-pipeline for ${upload.detail.document_id}`)

while ((await mesh.workflows.describe(run.arn)).status === 'RUNNING') { // serve the workflow's Tasks until it ends
  const task = await tasks.next(250)
  if (!task) continue
  const result = await PROCESSORS[task.detailType](task.detail.document)
  const { text, ...shown } = result
  console.log(`task    ${task.detailType} done: ${JSON.stringify(shown)}`)
  await mesh.workflows.sendTaskSuccess(task.detail.task_token, result)
}
await uploads.close()
await tasks.close()

const done = await mesh.workflows.describe(run.arn)
console.log(`workflow document-pipeline: ${done.status} ${JSON.stringify(done.output)}`)
if (done.status === 'SUCCEEDED') {
  await mesh.kv.set('document:doc-123:analysis', done.output)
  console.log('stored  document:doc-123:analysis')
}
