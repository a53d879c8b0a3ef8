// Workflow cases of the behaviour suite: ASL state machines on the embedded engine, served by
// JavaScript Task handlers and activity workers. Cases registered with `behaviour` run on every
// backend, aws:// included (moto's executing Step Functions); `workflow` cases need the embedded
// engine (handlers registered in this process). moto has no GetActivityTask: the aws activity
// worker runs against tests/aws/fake_sfn_activities.py, a stand-in speaking that protocol.
'use strict'
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')
const { BACKENDS, behaviour, isAws, openMesh, rejection, sleep } = require('./helpers')
const { MeshClient, Worker, Workflows } = require('..')

const PKG = path.resolve(__dirname, '..')
const MODERATION = path.join(PKG, '..', 'examples', 'workflows', 'content-moderation.json')

/** Registers `fn(mesh)` as one test per backend that runs workflows (all but aws). */
function workflow(name, fn) {
  for (const backend of BACKENDS.filter((b) => b !== 'aws')) {
    test(`${backend}: ${name}`, async () => fn(await openMesh(backend)))
  }
}

/** Polls `fn` until it returns something truthy (at most `ms`). */
async function eventually(fn, ms = 10000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition')
    await sleep(10)
  }
}

const PASS_CHOICE = {
  Comment: 'Routes by size',
  StartAt: 'Stamp',
  States: {
    Stamp: { Type: 'Pass', Result: { by: 'pass' }, ResultPath: '$.stamp', Next: 'Size' },
    Size: {
      Type: 'Choice',
      Choices: [{ Variable: '$.n', NumericGreaterThan: 10, Next: 'Big' }],
      Default: 'Small',
    },
    Big: { Type: 'Pass', Parameters: { 'size': 'big', 'n.$': '$.n', 'by.$': '$.stamp.by' }, End: true },
    Small: { Type: 'Pass', Parameters: { 'size': 'small', 'n.$': '$.n' }, End: true },
  },
}

behaviour('pass_and_choice_output', 'a Pass/Choice workflow takes both branches', async (mesh) => {
  assert.ok(mesh.workflows instanceof Workflows)
  const machine = await mesh.workflows.create('router', PASS_CHOICE)
  assert.equal(machine.name, 'router')
  // On aws the state machine is <prefix>agent-mesh-<env>-router.
  assert.match(machine.arn, /^arn:aws:states:.*:stateMachine:(.*-)?router$/)
  // JSON text is accepted too, and replaces the definition.
  await mesh.workflows.create('router', JSON.stringify(PASS_CHOICE))

  const big = await mesh.workflows.start('router', { n: 42 }, { executionName: 'big-one' })
  assert.equal(big.name, 'big-one')
  assert.ok(big.startDate instanceof Date)
  const done = await mesh.workflows.wait(big.arn)
  assert.equal(done.status, 'SUCCEEDED')
  assert.deepEqual(done.output, { size: 'big', n: 42, by: 'pass' })
  assert.deepEqual(done.input, { n: 42 })
  assert.equal(done.arn, big.arn)
  assert.equal(done.name, 'big-one')
  assert.equal(done.stateMachine, 'router')
  assert.ok(done.startDate instanceof Date && done.stopDate instanceof Date)
  assert.ok(done.stopDate.getTime() >= done.startDate.getTime())
  assert.equal(done.error ?? null, null)

  const small = await mesh.workflows.start('router', '{"n": 3}')
  assert.deepEqual((await mesh.workflows.wait(small.arn)).output, { size: 'small', n: 3 })
  assert.deepEqual((await mesh.workflows.describe(small.arn)).output, { size: 'small', n: 3 })

  // A state machine without input starts with {}.
  const empty = await mesh.workflows.start('router')
  const failed = await mesh.workflows.wait(empty.arn)
  assert.deepEqual(failed.input, {})
  assert.equal(failed.status, 'FAILED', 'the Choice reads $.n, which {} lacks')
})

workflow('content moderation served by JavaScript handlers, both Choice branches', async (mesh) => {
  const definition = fs.readFileSync(MODERATION, 'utf8')
  await mesh.workflows.create('content-moderation', definition)
  const contexts = []
  // Synchronous handler: its input is the state's Parameters ("Input.$": "$").
  mesh.workflows.register('content-extractor', (input, context) => {
    assert.equal(input.TaskDefinition, 'content-extractor')
    contexts.push(context)
    return { text: input.Input.text.trim(), extracted: true }
  })
  // Asynchronous handler: gets only {"TaskDefinition": "policy-checker"} and reads the text
  // from the context object.
  mesh.workflows.register('policy-checker', async (input, context) => {
    assert.deepEqual(input, { TaskDefinition: 'policy-checker' })
    await sleep(5)
    const text = context.Execution.Input.text
    return { policy_result: /spam|scam/i.test(text) ? 'unsafe' : 'safe', checked: text.length }
  })

  const safe = await mesh.workflows.start('content-moderation', { content_id: 'c1', text: '  hello world ' })
  const unsafe = await mesh.workflows.start('content-moderation', { content_id: 'c2', text: 'buy this SCAM now' })
  const [a, b] = await Promise.all([mesh.workflows.wait(safe.arn), mesh.workflows.wait(unsafe.arn)])
  assert.equal(a.status, 'SUCCEEDED', `${a.error}: ${a.cause}`)
  assert.deepEqual(a.output, { status: 'published' })
  assert.equal(b.status, 'SUCCEEDED', `${b.error}: ${b.cause}`)
  assert.deepEqual(b.output, { status: 'flagged' })

  const ctx = contexts.find((c) => c.Execution.Id === safe.arn)
  assert.ok(ctx, 'the handler gets the context object')
  assert.equal(ctx.State.Name, 'ExtractContent')
  assert.equal(typeof ctx.Task.Token, 'string')
  assert.deepEqual(ctx.Execution.Input, { content_id: 'c1', text: '  hello world ' })

  const types = (await mesh.workflows.history(unsafe.arn)).map((e) => e.type)
  assert.ok(types.includes('TaskSucceeded'))
  assert.equal(types.at(-1), 'ExecutionSucceeded')
})

class PolicyViolation extends Error {
  constructor(message) {
    super(message)
    this.name = 'PolicyViolation'
  }
}

workflow('a thrown custom error is caught by Catch; other throws fail the execution', async (mesh) => {
  await mesh.workflows.create('guarded', {
    StartAt: 'Check',
    States: {
      Check: {
        Type: 'Task',
        Resource: 'checker',
        Catch: [{ ErrorEquals: ['PolicyViolation'], ResultPath: '$.failure', Next: 'Rejected' }],
        End: true,
      },
      Rejected: { Type: 'Pass', End: true },
    },
  })
  mesh.workflows.register('checker', (input) => {
    if (input.mode === 'violation') throw new PolicyViolation(`content ${input.id} breaks the rules`)
    if (input.mode === 'coded') {
      const e = new Error('rate limit from upstream')
      e.error = 'Upstream.Throttled'
      return Promise.reject(e)
    }
    if (input.mode === 'string') throw 'plain text thrown' // eslint-disable-line no-throw-literal
    if (input.mode === 'async') return sleep(1).then(() => { throw new TypeError('bad shape') })
    return { ok: input.id }
  })

  const run = async (input) => mesh.workflows.wait((await mesh.workflows.start('guarded', input)).arn)
  assert.deepEqual((await run({ mode: 'fine', id: 1 })).output, { ok: 1 })

  const caught = await run({ mode: 'violation', id: 7 })
  assert.equal(caught.status, 'SUCCEEDED')
  assert.deepEqual(caught.output.failure, { Error: 'PolicyViolation', Cause: 'content 7 breaks the rules' })

  const coded = await run({ mode: 'coded' })
  assert.deepEqual([coded.status, coded.error, coded.cause], ['FAILED', 'Upstream.Throttled', 'rate limit from upstream'])

  const thrownString = await run({ mode: 'string' })
  assert.deepEqual([thrownString.status, thrownString.error, thrownString.cause], ['FAILED', 'Error', 'plain text thrown'])

  const rejected = await run({ mode: 'async' })
  assert.deepEqual([rejected.status, rejected.error, rejected.cause], ['FAILED', 'TypeError', 'bad shape'])
})

workflow('a Node handler over TimeoutSeconds fails with States.Timeout, caught by name', async (mesh) => {
  await mesh.workflows.create('timed', {
    StartAt: 'Slow',
    States: {
      Slow: {
        Type: 'Task',
        Resource: 'slow',
        TimeoutSecondsPath: '$.limit',
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.err', Next: 'Late' }],
        End: true,
      },
      Late: { Type: 'Pass', End: true },
    },
  })
  mesh.workflows.register('slow', async (input) => { await sleep(input.sleepMs); return 'woke' })
  const run = async (input) => mesh.workflows.wait((await mesh.workflows.start('timed', input)).arn)
  const late = await run({ sleepMs: 2500, limit: 1 })
  assert.equal(late.status, 'SUCCEEDED')
  assert.equal(late.output.err.Error, 'States.Timeout')
  assert.match(late.output.err.Cause, /'Slow'/)
  assert.ok((await mesh.workflows.history(late.arn)).some((e) => e.type === 'TaskTimedOut'))
  assert.equal((await run({ sleepMs: 10, limit: 5 })).output, 'woke')
})

workflow('S3 integrations read and write the mesh artifacts', async (mesh) => {
  const Bucket = 'agent-mesh-dev-artifacts'
  await mesh.workflows.create('objects', {
    StartAt: 'Put',
    States: {
      Put: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:s3:putObject',
        Parameters: { Bucket, Key: 'notes/a.txt', 'Body.$': '$.body', ContentType: 'text/plain' },
        ResultPath: null,
        Next: 'Get',
      },
      Get: {
        Type: 'Task',
        Resource: 'arn:aws:states:::aws-sdk:s3:getObject',
        Parameters: { Bucket, Key: 'notes/a.txt' },
        ResultSelector: { 'body.$': '$.Body', 'type.$': '$.ContentType' },
        End: true,
      },
    },
  })
  const done = await mesh.workflows.wait((await mesh.workflows.start('objects', { body: 'from node' })).arn)
  assert.deepEqual(done.output, { body: 'from node', type: 'text/plain' }, `${done.error}: ${done.cause}`)
  const stored = await mesh.artifacts.get('notes/a.txt')
  assert.deepEqual([stored.data.toString(), stored.meta.contentType], ['from node', 'text/plain'])
})

workflow('handler results become JSON as JSON.stringify makes it', async (mesh) => {
  await mesh.workflows.create('shapes', { StartAt: 'Make', States: { Make: { Type: 'Task', Resource: 'maker', End: true } } })
  mesh.workflows.register('maker', async (input) => {
    if (input.kind === 'undefined') return undefined
    if (input.kind === 'cyclic') {
      const o = {}
      o.self = o
      return o
    }
    return { when: new Date(0), skipped: undefined, list: [1, 'two', null], nested: { deep: true } }
  })
  const run = async (input) => mesh.workflows.wait((await mesh.workflows.start('shapes', input)).arn)
  assert.deepEqual((await run({})).output, { when: '1970-01-01T00:00:00.000Z', list: [1, 'two', null], nested: { deep: true } })
  assert.equal((await run({ kind: 'undefined' })).output, null)
  const cyclic = await run({ kind: 'cyclic' })
  assert.equal(cyclic.status, 'FAILED')
  assert.equal(cyclic.error, 'States.TaskFailed')
  assert.match(cyclic.cause, /JSON/)
})

workflow('a Task without a handler fails with States.TaskFailed naming the resource', async (mesh) => {
  await mesh.workflows.create('orphan', {
    StartAt: 'Call',
    States: { Call: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:nobody-home', End: true } },
  })
  const started = await mesh.workflows.start('orphan', {})
  const done = await mesh.workflows.wait(started.arn)
  assert.equal(done.status, 'FAILED')
  assert.equal(done.error, 'States.TaskFailed')
  assert.match(done.cause, /nobody-home/)
  assert.match(done.cause, /register/)
})

behaviour('invalid_definitions_raise_invalid_input', 'invalid definitions and arguments are rejected with InvalidInput', async (mesh) => {
  let e = await rejection(mesh.workflows.create('broken', {
    StartAt: 'First',
    States: { First: { Type: 'Pass', Next: 'Nowhere' } },
  }))
  assert.equal(e.code, 'InvalidInput')
  assert.match(e.message, /First/)
  assert.match(e.message, /Nowhere/)
  e = await rejection(mesh.workflows.create('broken', '{"StartAt": '))
  assert.equal(e.code, 'InvalidInput')
  e = await rejection(mesh.workflows.create('bad name!', { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }))
  assert.equal(e.code, 'InvalidInput')
  await mesh.workflows.create('ok', { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } })
  assert.equal((await rejection(mesh.workflows.start('ok', '{not json'))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.workflows.start('ok', {}, { executionName: 'spaces are bad' }))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.workflows.start('missing', {}))).code, 'NotFound')
  assert.equal((await rejection(mesh.workflows.listExecutions('ok', { status: 'DONE' }))).code, 'InvalidInput')
  assert.equal((await rejection(mesh.workflows.wait('ok', { timeoutMs: Number.NaN }))).code, 'InvalidInput')
  assert.throws(() => mesh.workflows.register('', () => 1), (err) => err.code === 'InvalidInput')
})

behaviour('history_lists_events_in_order', 'history lists the events in order', async (mesh) => {
  await mesh.workflows.create('router', PASS_CHOICE)
  const started = await mesh.workflows.start('router', { n: 1 })
  await mesh.workflows.wait(started.arn)
  const history = await mesh.workflows.history(started.arn)
  assert.deepEqual(history.map((e) => e.type), [
    'ExecutionStarted',
    'PassStateEntered',
    'PassStateExited',
    'ChoiceStateEntered',
    'ChoiceStateExited',
    'PassStateEntered',
    'PassStateExited',
    'ExecutionSucceeded',
  ])
  assert.deepEqual(history.map((e) => e.id), [1, 2, 3, 4, 5, 6, 7, 8])
  // moto reports previousEventId 0 for every event; Step Functions and the engine chain them.
  if (!isAws(mesh)) assert.deepEqual(history.map((e) => e.previousEventId), [0, 1, 2, 3, 4, 5, 6, 7])
  assert.ok(history.every((e, i) => e.timestamp instanceof Date && (i === 0 || e.timestamp >= history[i - 1].timestamp)))
  assert.equal(history[1].details.name, 'Stamp')
  assert.equal(history[5].details.name, 'Small')
})

behaviour('wait_timeout_and_stop', 'stop aborts a running execution', async (mesh) => {
  await mesh.workflows.create('slow', { StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 3600, End: true } } })
  const started = await mesh.workflows.start('slow', { x: 1 })
  const running = await mesh.workflows.wait(started.arn, { timeoutMs: 50 })
  assert.equal(running.status, 'RUNNING')
  assert.equal(running.stopDate ?? null, null)
  const stopped = await mesh.workflows.stop(started.arn, { error: 'Operator.Cancelled', cause: 'not needed any more' })
  assert.equal(stopped.status, 'ABORTED')
  // moto's DescribeExecution drops StopExecution's error and cause; the engine keeps them.
  if (!isAws(mesh)) assert.deepEqual([stopped.error, stopped.cause], ['Operator.Cancelled', 'not needed any more'])
  const described = await mesh.workflows.describe(started.arn)
  assert.equal(described.status, 'ABORTED')
  assert.ok(described.stopDate instanceof Date)
  assert.equal((await mesh.workflows.history(started.arn)).at(-1).type, 'ExecutionAborted')

  const other = await mesh.workflows.start('slow', {})
  assert.equal((await mesh.workflows.stop(other.arn)).status, 'ABORTED')
})

behaviour('list_executions_pages', 'listExecutions pages newest first and filters by status', async (mesh) => {
  await mesh.workflows.create('quick', { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } })
  await mesh.workflows.create('slow', { StartAt: 'Nap', States: { Nap: { Type: 'Wait', Seconds: 3600, End: true } } })
  const names = []
  for (let i = 0; i < 5; i++) {
    const started = await mesh.workflows.start('quick', { i }, { executionName: `run-${i}` })
    await mesh.workflows.wait(started.arn)
    names.push(started.name)
    await sleep(2)
  }
  const pending = await mesh.workflows.start('slow', {}, { executionName: 'sleeper' })

  const seen = []
  const sizes = []
  let cursor
  do {
    const page = await mesh.workflows.listExecutions('quick', { limit: 2, cursor })
    sizes.push(page.items.length)
    seen.push(...page.items.map((e) => e.name))
    assert.ok(page.items.every((e) => e.stateMachine === 'quick' && e.status === 'SUCCEEDED'))
    cursor = page.nextCursor
  } while (cursor)
  assert.deepEqual(sizes, [2, 2, 1])
  assert.deepEqual(seen, [...names].reverse())

  assert.equal((await mesh.workflows.listExecutions('quick', { status: 'SUCCEEDED' })).items.length, 5)
  assert.deepEqual((await mesh.workflows.listExecutions('quick', { status: 'RUNNING' })).items, [])
  const running = await mesh.workflows.listExecutions('slow', { status: 'RUNNING' })
  assert.deepEqual(running.items.map((e) => e.name), ['sleeper'])
  await mesh.workflows.stop(pending.arn)
  assert.deepEqual((await mesh.workflows.listExecutions('slow', { status: 'RUNNING' })).items, [])
})

workflow('an activity is served by a worker until it stops', async (mesh) => {
  const arn = await mesh.workflows.createActivity('review')
  assert.match(arn, /^arn:aws:states:.*:activity:review$/)
  assert.equal(await mesh.workflows.createActivity('review'), arn, 'idempotent')
  await mesh.workflows.create('reviewed', {
    StartAt: 'Review',
    States: {
      Review: { Type: 'Task', Resource: arn, Parameters: { 'doc.$': '$.doc' }, ResultPath: '$.review', End: true },
    },
  })
  const tokens = []
  const worker = await mesh.workflows.worker('review', async (input, context) => {
    tokens.push(context.Task.Token)
    await mesh.workflows.sendTaskHeartbeat(context.Task.Token)
    if (input.doc === 'bad') throw new PolicyViolation('rejected by review')
    return { approved: true, doc: input.doc }
  })
  assert.ok(worker instanceof Worker)
  assert.equal(worker.running, true)

  const ok = await mesh.workflows.start('reviewed', { doc: 'd-1' })
  const done = await mesh.workflows.wait(ok.arn)
  assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`)
  assert.deepEqual(done.output, { doc: 'd-1', review: { approved: true, doc: 'd-1' } })
  assert.equal(tokens.length, 1)

  const bad = await mesh.workflows.wait((await mesh.workflows.start('reviewed', { doc: 'bad' })).arn)
  assert.deepEqual([bad.status, bad.error, bad.cause], ['FAILED', 'PolicyViolation', 'rejected by review'])

  // Resolves once the worker has stopped: its last poll has ended, no task is taken after.
  await worker.stop()
  await worker.stop()
  assert.equal(worker.running, false)
  const unserved = await mesh.workflows.start('reviewed', { doc: 'd-2' })
  assert.equal((await mesh.workflows.wait(unserved.arn, { timeoutMs: 1500 })).status, 'RUNNING', 'no worker polls any more')
  await mesh.workflows.stop(unserved.arn)
})

/**
 * A callback state machine: `request-approval` is told about each document and its task token
 * (in the Payload when `tokenInPayload`, else only in the handler's context), then the task
 * waits for sendTaskSuccess / sendTaskFailure. Resolves to `tokenOf(doc, arn)`.
 */
async function approvalFlow(mesh, tokenInPayload) {
  const payload = tokenInPayload ? { 'token.$': '$$.Task.Token', 'doc.$': '$.doc' } : { 'doc.$': '$.doc' }
  await mesh.workflows.create('approval', {
    StartAt: 'Ask',
    States: {
      Ask: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: 'request-approval', Payload: payload },
        Catch: [{ ErrorEquals: ['Approval.Denied'], ResultPath: '$.denied', Next: 'Denied' }],
        End: true,
      },
      Denied: { Type: 'Pass', End: true },
    },
  })
  const requests = new Map()
  mesh.workflows.register('request-approval', (input, context) => {
    if (tokenInPayload) assert.equal(input.token, context.Task.Token, 'Parameters read $$.Task.Token')
    requests.set(input.doc, context.Task.Token)
    return { asked: true }
  })
  // The token the handler got, once it ran (failing fast if the execution ended instead).
  return (doc, arn) => eventually(async () => {
    if (requests.has(doc)) return requests.get(doc)
    const now = await mesh.workflows.describe(arn)
    assert.equal(now.status, 'RUNNING', `${now.error}: ${now.cause}`)
  })
}

workflow('registered handlers keep a HeartbeatSeconds task alive with their task token', async (mesh) => {
  const beats = []
  await mesh.workflows.register('slow', async (input, context) => {
    for (let i = 0; i < 6; i++) {
      await sleep(300)
      if (input.beat) {
        await mesh.workflows.sendTaskHeartbeat(context.Task.Token)
        beats.push(context.Task.Token)
      }
    }
    return 'done'
  })
  await mesh.workflows.create('beating', {
    StartAt: 'Slow',
    States: { Slow: { Type: 'Task', Resource: 'slow', HeartbeatSeconds: 1, End: true } },
  })
  const ok = await mesh.workflows.wait((await mesh.workflows.start('beating', { beat: true })).arn)
  assert.equal(ok.status, 'SUCCEEDED', `${ok.error}: ${ok.cause}`)
  assert.equal(ok.output, 'done')
  assert.equal(beats.length, 6)
  const silent = await mesh.workflows.wait((await mesh.workflows.start('beating', { beat: false })).arn)
  assert.deepEqual([silent.status, silent.error], ['FAILED', 'States.HeartbeatTimeout'])
  // The handler has ended: its token takes no more heartbeats.
  assert.equal((await rejection(mesh.workflows.sendTaskHeartbeat(beats[0]))).code, 'NotFound')
})

workflow('.waitForTaskToken waits for sendTaskSuccess / sendTaskFailure', async (mesh) => {
  const tokenOf = await approvalFlow(mesh, false)
  const yes = await mesh.workflows.start('approval', { doc: 'd-yes' })
  const token = await tokenOf('d-yes', yes.arn)
  assert.equal((await mesh.workflows.wait(yes.arn, { timeoutMs: 100 })).status, 'RUNNING', 'waits for the token')
  await mesh.workflows.sendTaskSuccess(token, { approved: true, by: 'alice' })
  const done = await mesh.workflows.wait(yes.arn)
  assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`)
  assert.deepEqual(done.output, { approved: true, by: 'alice' })
  assert.equal((await rejection(mesh.workflows.sendTaskSuccess(token, {}))).code, 'Conflict')
  assert.equal((await rejection(mesh.workflows.sendTaskSuccess('no-such-token', {}))).code, 'NotFound')

  const no = await mesh.workflows.start('approval', { doc: 'd-no' })
  const noToken = await tokenOf('d-no', no.arn)
  await mesh.workflows.sendTaskHeartbeat(noToken)
  await mesh.workflows.sendTaskFailure(noToken, 'Approval.Denied', 'bob said no')
  const denied = await mesh.workflows.wait(no.arn)
  assert.equal(denied.status, 'SUCCEEDED')
  assert.deepEqual(denied.output.denied, { Error: 'Approval.Denied', Cause: 'bob said no' })

  // Output as JSON text, as Step Functions' SendTaskSuccess takes it.
  const text = await mesh.workflows.start('approval', { doc: 'd-text' })
  await mesh.workflows.sendTaskSuccess(await tokenOf('d-text', text.arn), '{"approved": false}')
  assert.deepEqual((await mesh.workflows.wait(text.arn)).output, { approved: false })
})

workflow('.waitForTaskToken Parameters can pass $$.Task.Token on', async (mesh) => {
  const tokenOf = await approvalFlow(mesh, true)
  const run = await mesh.workflows.start('approval', { doc: 'd-1' })
  await mesh.workflows.sendTaskSuccess(await tokenOf('d-1', run.arn), { approved: true })
  const done = await mesh.workflows.wait(run.arn)
  assert.equal(done.status, 'SUCCEEDED', `${done.error}: ${done.cause}`)
  assert.deepEqual(done.output, { approved: true })
})

test('registered handlers and running workers do not keep Node alive', () => {
  if (!BACKENDS.some((b) => b !== 'aws')) return
  const script = `
    const { MeshClient } = require(${JSON.stringify(PKG)})
    ;(async () => {
      const mesh = await MeshClient.open('memory://')
      await mesh.workflows.create('t', { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'echo', End: true } } })
      mesh.workflows.register('echo', async (input) => ({ echoed: input }))
      await mesh.workflows.worker('idle', () => ({}))
      const run = await mesh.workflows.start('t', { x: 1 })
      const done = await mesh.workflows.wait(run.arn)
      console.log(done.status, JSON.stringify(done.output))
    })()
  `
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 })
  assert.equal(out.trim(), 'SUCCEEDED {"echoed":{"x":1}}')
})

if (BACKENDS.includes('aws')) {
  test('aws: register is unsupported and points to workers', async () => {
    const mesh = await openMesh('aws')
    assert.throws(() => mesh.workflows.register('echo', (input) => input), (err) => err.code === 'Unsupported' && /worker/.test(err.message))
  })

  test('aws: an activity worker speaks the Step Functions protocol', async () => {
    const { spawn } = require('node:child_process')
    const python = fs.existsSync(path.join(PKG, '..', '.venv', 'bin', 'python')) ? path.join(PKG, '..', '.venv', 'bin', 'python') : 'python3'
    const server = spawn(python, [path.join(PKG, '..', 'tests', 'aws', 'fake_sfn_activities.py')], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const port = await new Promise((resolve, reject) => {
        server.stdout.once('data', (chunk) => resolve(/PORT (\d+)/.exec(String(chunk))[1]))
        server.once('exit', (code) => reject(new Error(`fake Step Functions exited with ${code}`)))
      })
      const base = `http://127.0.0.1:${port}`
      const post = async (body) => (await fetch(`${base}/test/tasks`, { method: 'POST', body: JSON.stringify(body) })).json()
      const requests = async () => (await (await fetch(`${base}/test/requests`)).json()).requests
      const activity = 'arn:aws:states:us-east-1:123456789012:activity:review'
      const mesh = await MeshClient.open(`aws://?region=us-east-1&endpoint=${encodeURIComponent(base)}`)
      const good = (await post({ activityArn: activity, input: JSON.stringify({ score: 9 }) })).taskToken
      const bad = (await post({ activityArn: activity, input: JSON.stringify({ score: -1 }) })).taskToken
      const worker = await mesh.workflows.worker(activity, async (input, context) => {
        if (input.score < 0) {
          const e = new Error('negative score')
          e.name = 'PolicyViolation'
          throw e
        }
        await mesh.workflows.sendTaskHeartbeat(context.Task.Token)
        return { approved: input.score > 5 }
      })
      await eventually(async () => (await requests()).filter((r) => r.action.startsWith('SendTask')).length >= 3)
      await worker.stop()
      const sent = (await requests()).filter((r) => r.action !== 'GetActivityTask')
      assert.deepEqual(sent[0], { action: 'SendTaskHeartbeat', body: { taskToken: good } })
      assert.equal(sent[1].action, 'SendTaskSuccess')
      assert.equal(sent[1].body.taskToken, good)
      assert.deepEqual(JSON.parse(sent[1].body.output), { approved: true })
      assert.deepEqual(sent[2], { action: 'SendTaskFailure', body: { taskToken: bad, error: 'PolicyViolation', cause: 'negative score' } })
      const polls = (await requests()).filter((r) => r.action === 'GetActivityTask')
      assert.ok(polls.length > 0 && polls.every((p) => p.body.activityArn === activity && p.body.workerName))
      const e = await rejection(mesh.workflows.sendTaskSuccess(good, { again: true }))
      assert.equal(e.code, 'NotFound')
      // Named by its fingerprint only (a task token is a credential; Step Functions quotes it).
      const fingerprint = `task token sha256:${crypto.createHash('sha256').update(good).digest('hex').slice(0, 8)}`
      assert.ok(e.message.includes(fingerprint) && !`${e.message} ${JSON.stringify(e.context)}`.includes(good), e.message)
    } finally {
      server.kill()
    }
  })
}
