// Type-checked (tsc --strict) use of the whole API; a wrong or missing declaration fails it.
import { MeshClient, MeshError, testEventPattern, type ErrorCode, type KvItem, type ArtifactMeta, type KvPage, type SendResult, type Subscription, type ReceivedEvent, type TimelineEntry, type TimelinePage } from '..'

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
  const entry: TimelineEntry = await mesh.timeline.append('user/u1', { x: 1 })
  const timeline: TimelinePage = await mesh.timeline.get('user/', { limit: 10, order: 'oldest', since: new Date(0) })
  console.log(matched, eventId, failure, next?.id, entry.id, timeline.nextCursor)
  console.log(item.version, got?.value, page.nextCursor, many.length, deleted, size, when)
  try {
    await mesh.artifacts.getToFile('missing', '/tmp/x')
  } catch (e) {
    if (e instanceof MeshError) {
      const code: ErrorCode = e.code
      console.log(code, e.retryable, e.context)
    }
  }
}

function page0(): string | undefined {
  return undefined
}

void usage()
