// Type-checked (tsc --strict) use of the whole API; a wrong or missing declaration fails it.
import { MeshClient, MeshError, testEventPattern, type ErrorCode, type KvItem, type ArtifactMeta, type KvPage, type SendResult, type Subscription, type ReceivedEvent, type TimelineEntry, type TimelinePage } from '..'
import type { Execution, ExecutionPage, ExecutionRef, ExecutionStatus, HistoryEvent, StateMachineInfo, TaskContext, TaskFailure, TaskHandler, Worker } from '..'

async function usage(): Promise<void> {
  const mesh: MeshClient = await MeshClient.open('memory://')
  const item: KvItem = await mesh.kv.set('k', { a: 1 }, { ttlSeconds: 5, ifAbsent: true })
  const got: KvItem | null = await mesh.kv.get('k')
  const page: KvPage = await mesh.kv.list('k', { limit: 10, cursor: page0() })
  const many = await mesh.kv.batchGet(['k'])
  await mesh.kv.batchSet({ a: 1 }, { ttlHours: 1 })
  await mesh.kv.batchSet([['a', 1]])
  const deleted: boolean = await mesh.kv.delete('k')
  const meta: ArtifactMeta = await mesh.artifacts.put('a', Buffer.from('x'), { contentType: 'text/plain', metadata: { m: 'v' } })
  const size: number = meta.size
  const when: Date = meta.lastModified
  await mesh.provision()
  const matched: boolean = testEventPattern({ source: [{ prefix: 'doc' }] }, { source: 'docs' })
  const eventId: string = await mesh.events.send({ detailType: 'DocumentUploaded', detail: { id: 'd-1' }, source: 'docs', time: new Date() })
  const results: SendResult[] = await mesh.events.sendBatch([{ detailType: 'A', detail: {} }])
  const failure: string | undefined = results[0].error?.code
  const sub: Subscription = await mesh.events.subscribe({ 'detail-type': ['DocumentUploaded'] }, { name: 'typed' })
  const next: ReceivedEvent | null = await sub.next(100)
  for await (const event of sub) {
    const detailType: string = event.detailType
    console.log(detailType, event.time.getTime())
    break
  }
  await sub.close()
  const existed: boolean = await mesh.events.deleteSubscription('typed')
  const shown: string = mesh.toString()
  console.log(existed, shown)
  const entry: TimelineEntry = await mesh.timeline.append('user/u1', { x: 1 })
  const timeline: TimelinePage = await mesh.timeline.get('user/', { limit: 10, order: 'oldest', since: new Date(0) })
  console.log(matched, eventId, failure, next?.id, entry.id, timeline.nextCursor)
  console.log(item.version, got?.value, page.nextCursor, many.length, deleted, size, when)
  await workflows(mesh)
  try {
    await mesh.artifacts.getToFile('missing', '/tmp/x')
  } catch (e) {
    if (e instanceof MeshError) {
      const code: ErrorCode = e.code
      console.log(code, e.retryable, e.context)
    }
  }
}

async function workflows(mesh: MeshClient): Promise<void> {
  const machine: StateMachineInfo = await mesh.workflows.create('flow', { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } })
  await mesh.workflows.create('flow', '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}')
  const review: TaskHandler = async (input: { text: string }, context: TaskContext) => {
    if (input.text.length === 0) {
      const failure: TaskFailure = Object.assign(new Error('empty'), { error: 'Review.Empty' })
      throw failure
    }
    return { reviewed: context.Execution?.Input, token: context.Task.Token }
  }
  mesh.workflows.register('review', review)
  mesh.workflows.register('sync', (input) => ({ echoed: input }))
  const worker: Worker = await mesh.workflows.worker('activity', async () => ({ done: true }))
  const running: boolean = worker.running
  await worker.stop()
  const activityArn: string = await mesh.workflows.createActivity('activity')
  const started: ExecutionRef = await mesh.workflows.start('flow', { text: 'hi' }, { executionName: 'run-1' })
  await mesh.workflows.start('flow')
  const when: Date = started.startDate
  const done: Execution = await mesh.workflows.wait(started.arn, { timeoutMs: 1000 })
  const status: ExecutionStatus = done.status
  if (done.status === 'SUCCEEDED') console.log(done.output, done.stopDate?.getTime())
  const described: Execution = await mesh.workflows.describe(started.arn)
  const history: HistoryEvent[] = await mesh.workflows.history(started.arn)
  const first: string = history[0].type
  const stopped: Execution = await mesh.workflows.stop(started.arn, { error: 'Cancelled', cause: 'typed' })
  const page: ExecutionPage = await mesh.workflows.listExecutions('flow', { status: 'SUCCEEDED', limit: 10, cursor: page0() })
  await mesh.workflows.sendTaskSuccess('token', { ok: true })
  await mesh.workflows.sendTaskFailure('token', 'Failed', 'cause')
  await mesh.workflows.sendTaskFailure('token', 'Failed')
  await mesh.workflows.sendTaskHeartbeat('token')
  console.log(machine.arn, running, activityArn, when, status, described.error, first, stopped.cause, page.nextCursor, page.items[0]?.stateMachine)
}

function page0(): string | undefined {
  return undefined
}

void usage()
