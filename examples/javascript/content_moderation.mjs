// Content moderation pipeline (guide: "Workflow Examples", 1).
//
// Runs the guide's state machine (examples/workflows/content-moderation.json: ExtractContent and
// CheckPolicy as ECS tasks, then the IsContentSafe choice) on a clean post and on spam, so both
// branches run (PublishContent, FlagForReview), and stores each result under the guide's key
// moderation:<content_id>:result.
//
// Where the Tasks run: on the embedded engine, the two ECS TaskDefinitions (content-extractor,
// policy-checker) are served by the JavaScript functions below, registered as handlers. On
// aws://, Step Functions would start real ECS tasks, which this program cannot be; there it
// creates the same state machine with the two Tasks as callbacks
// (events:putEvents.waitForTaskToken) and serves them from here with sendTaskSuccess.
//
//   node examples/javascript/content_moderation.mjs          # embedded mesh in ./.agent-mesh
//   AGENT_MESH_URL="aws://?region=us-east-1" node examples/javascript/content_moderation.mjs
import { readFileSync } from 'node:fs'
import { MeshClient } from '@agent-mesh/client'

const DEFINITION = new URL('../workflows/content-moderation.json', import.meta.url)
const BLOCKED = /\b(spam|cheap pills|wire money)\b/i
const POSTS = { 'post-1': 'Photos from our hiking trip in the Alps', 'post-2': 'Buy SPAM now!!! cheap pills, wire money today' }

const TASKS = {
  // ECS task "content-extractor"
  'content-extractor': (content) => ({ text: content.text.trim(), words: content.text.trim().split(/\s+/).length }),
  // ECS task "policy-checker"
  'policy-checker': (content) => ({ policy_result: BLOCKED.test(content.text) ? 'unsafe' : 'safe' }),
}

// The mesh's bus on AWS: AGENT_MESH_EVENT_BUS, else <prefix>agent-mesh-<env>.
function eventBus() {
  const query = new URL(process.env.AGENT_MESH_URL || 'local://').searchParams
  const env = query.get('env') || process.env.AGENT_MESH_ENV || 'dev'
  return process.env.AGENT_MESH_EVENT_BUS || `${query.get('prefix') || ''}agent-mesh-${env}`
}

// The same state machine with each ECS Task turned into a callback: the Task sends an event with
// its token and the content, and waits for sendTaskSuccess.
function withCallbacks(definition) {
  for (const state of Object.values(definition.States)) {
    if (state.Type !== 'Task') continue
    const task = state.Parameters.TaskDefinition
    state.Resource = 'arn:aws:states:::events:putEvents.waitForTaskToken'
    state.Parameters = {
      Entries: [{
        EventBusName: eventBus(), Source: 'content-moderation', DetailType: task,
        Detail: { 'task_token.$': '$$.Task.Token', 'content.$': '$$.Execution.Input' },
      }],
    }
  }
  return definition
}

const mesh = await MeshClient.open()
await mesh.provision() // creates the AWS resources on aws://; a no-op locally
let definition = JSON.parse(readFileSync(DEFINITION, 'utf8'))
let callbacks = null
try {
  // A handler of an ECS Task state gets the ECS parameters and the context object, whose
  // Execution.Input is the content.
  for (const [name, task] of Object.entries(TASKS)) mesh.workflows.register(name, (parameters, context) => task(context.Execution.Input))
  console.log('Tasks: ECS task definitions served by handlers in this process (embedded engine)')
} catch (e) {
  if (e.code !== 'Unsupported') throw e
  definition = withCallbacks(definition)
  console.log('Tasks: callbacks (events:putEvents.waitForTaskToken) served by this process (Step Functions)')
  callbacks = await mesh.events.subscribe({ source: ['content-moderation'] })
}
await mesh.workflows.create('content-moderation', definition)

for (const [contentId, text] of Object.entries(POSTS)) {
  const run = await mesh.workflows.start('content-moderation', { content_id: contentId, text })
  while (callbacks && (await mesh.workflows.describe(run.arn)).status === 'RUNNING') {
    const event = await callbacks.next(250)
    if (event) await mesh.workflows.sendTaskSuccess(event.detail.task_token, TASKS[event.detailType](event.detail.content))
  }
  const done = await mesh.workflows.wait(run.arn, { timeoutMs: 60000 })
  console.log(`workflow content-moderation ${contentId} ${JSON.stringify(text)}: ${done.status} ${JSON.stringify(done.output)}`)

  const published = done.output?.status === 'published'
  const stored = await mesh.kv.set(`moderation:${contentId}:result`, {
    status: published ? 'approved' : 'flagged',
    confidence: 0.95,
    flags: published ? [] : ['policy_violation'],
    reviewed_at: done.stopDate ? done.stopDate.toISOString() : null,
  })
  console.log(`stored  ${stored.key} = ${JSON.stringify(stored.value)}`)
}
if (callbacks) await callbacks.close()
