// Tenancy cases of the behaviour suite (the shared subset of core/tests/behaviour/tenancy.rs):
// two tenants of one mesh try the hostile spellings of tests/behaviour/hostile_tenancy.json
// against each other, in both directions; none may reach the other's data.
'use strict'
const assert = require('node:assert/strict')
const path = require('node:path')
const fs = require('node:fs')
const { behaviour, rejection } = require('./helpers')
const { MeshClient, MeshError } = require('..')

const HOSTILE = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'tests', 'behaviour', 'hostile_tenancy.json'), 'utf8'))
const TENANTS = ['tenant-a', 'tenant-b']

/** The hostile `kind` entries with {v}/{V} the victim and {o} the attacker. */
function spellings(kind, attacker, victim) {
  const text = JSON.stringify(HOSTILE[kind]).replaceAll('{v}', victim).replaceAll('{V}', victim.toUpperCase()).replaceAll('{o}', attacker)
  return JSON.parse(text)
}

function pairs(mesh) {
  const a = mesh.scope(TENANTS[0])
  const b = mesh.scope(TENANTS[1])
  return [[a, TENANTS[0], b, TENANTS[1]], [b, TENANTS[1], a, TENANTS[0]]]
}

/** The call's result, or null when the input was refused (InvalidInput, TooLarge). */
async function refusedOr(promise) {
  try {
    return await promise
  } catch (error) {
    if (error instanceof MeshError && ['InvalidInput', 'TooLarge'].includes(error.code)) return null
    throw error
  }
}

async function allKv(mesh, prefix = '') {
  const items = []
  let cursor
  do {
    const page = await mesh.kv.list(prefix, { limit: 1000, cursor })
    items.push(...page.items)
    cursor = page.nextCursor
  } while (cursor)
  return items
}

behaviour('kv_hostile_keys_never_cross', 'KV: no hostile key reaches another tenant', async (mesh) => {
  for (const [attacker, who, victim, victimName] of pairs(mesh)) {
    await victim.kv.set('x', { owner: victimName })
    const written = []
    for (const key of spellings('keys', who, victimName)) {
      if ((await refusedOr(attacker.kv.set(key, { owner: who, key }))) !== null) written.push(key)
      const item = await refusedOr(attacker.kv.get(key))
      if (item) {
        assert.equal(item.value.owner, who, key)
        assert.equal(item.key, key)
      }
    }
    assert.ok(written.length >= 50, `${written.length}`)
    for (const item of await attacker.kv.batchGet(written)) if (item) assert.equal(item.value.owner, who)
    assert.equal((await victim.kv.get('x')).value.owner, victimName)
    for (const item of await allKv(victim)) assert.equal(item.value.owner, victimName, item.key)
    assert.equal((await allKv(attacker)).filter((i) => i.key !== 'x').length, written.length)
    for (const tenant of TENANTS) {
      for (const item of await allKv(mesh, `tenants/${tenant}/`)) assert.equal(item.value.owner, tenant)
    }
    for (const key of written) assert.equal(await attacker.kv.delete(key), true, key)
    assert.ok(await victim.kv.get('x'))
  }
})

function forgedArns(arn, victim, attacker) {
  const cut = arn.lastIndexOf(':')
  const base = arn.slice(0, cut)
  const execution = arn.slice(cut + 1)
  return [
    arn,
    arn.replace(`${victim}.`, `${attacker}.`),
    arn.replace(`${victim}.`, ''),
    arn.replace(`:${victim}.`, `:${attacker}.${victim}.`),
    arn.toUpperCase(),
    `${arn}:`,
    `${arn}/`,
    `${base}:../${execution}`,
    arn.replaceAll(':', '%3A'),
    arn.replace('execution', 'stateMachine'),
    base.replace('execution', 'stateMachine'),
    ` ${arn}`,
  ]
}

const WAIT_30 = { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 30, End: true } } }

behaviour('workflows_never_cross', 'workflows: names and execution ARNs of another tenant are NotFound', async (mesh) => {
  for (const [attacker, who, victim, victimName] of pairs(mesh)) {
    const name = `${victimName}-wf`
    await victim.workflows.create(name, WAIT_30)
    const run = await victim.workflows.start(name, { secret: victimName })
    assert.equal((await victim.workflows.describe(run.arn)).stateMachine, name)
    let tried = 0
    for (const arn of forgedArns(run.arn, victimName, who)) {
      for (const op of [(a) => attacker.workflows.describe(a), (a) => attacker.workflows.history(a),
        (a) => attacker.workflows.stop(a), (a) => attacker.workflows.wait(a, 0)]) {
        const error = await rejection(op(arn))
        assert.ok(['NotFound', 'InvalidInput'].includes(error.code), `${arn}: ${error.message}`)
        tried += 1
      }
    }
    const executionAsMachine = run.arn.replace(':execution:', ':stateMachine:')
    const machineArn = executionAsMachine.slice(0, executionAsMachine.lastIndexOf(':'))
    assert.equal((await rejection(attacker.workflows.start(machineArn, {}))).code, 'NotFound')
    for (const hostile of spellings('state_machine_names', who, victimName)) {
      tried += 1
      const error = await rejection(attacker.workflows.start(hostile, {}))
      assert.ok(['NotFound', 'InvalidInput'].includes(error.code), `${hostile}: ${error.message}`)
      try {
        assert.deepEqual((await attacker.workflows.listExecutions(hostile)).items, [])
      } catch (e) {
        if (!(e instanceof MeshError)) throw e
      }
    }
    assert.ok(tried >= 50)
    await attacker.workflows.create(name, WAIT_30)
    assert.deepEqual((await attacker.workflows.listExecutions(name)).items, [])
    assert.equal((await victim.workflows.stop(run.arn)).status, 'ABORTED')
  }
})

behaviour('scope_ids_are_validated', 'scope ids are validated; iamPolicy needs a scope', async (mesh) => {
  for (const bad of ['', '.', '..', 'A', 'tenant/a', 'tenant.a', 'tenant_a', '-a', 'a-', ' a', 'a\0', 'é', 'tenants/x', 'x'.repeat(33)]) {
    assert.throws(() => mesh.scope(bad), (e) => e instanceof MeshError && e.code === 'InvalidInput' && e.message.includes('mesh.scope'), JSON.stringify(bad))
  }
  assert.throws(() => mesh.scope(42), (e) => e instanceof MeshError && e.code === 'InvalidInput')
  const deep = mesh.scope('a').scope('b').scope('c').scope('d')
  assert.deepEqual(deep.scopePath, ['a', 'b', 'c', 'd'])
  assert.throws(() => deep.scope('e'), (e) => e.code === 'InvalidInput')
  assert.throws(() => mesh.iamPolicy(), (e) => e.code === 'InvalidInput')
  assert.equal(mesh.scope('acme').iamPolicy().Version, '2012-10-17')
  assert.ok(mesh.scope('acme') instanceof MeshClient)
})

behaviour('tool_calls_stay_in_the_scope', 'call() on a scoped client stays in the scope', async (mesh) => {
  const a = mesh.scope('tenant-a')
  const b = mesh.scope('tenant-b')
  await a.call('mesh_kv_set', { key: 'k', value: 'a-secret' })
  assert.equal((await b.call('mesh_kv_get', { key: 'k' })).found, false)
  assert.equal((await b.call('kv.get', { key: '../tenant-a/k' })).found, false)
  assert.equal((await a.call('mesh_kv_get', { key: 'k' })).value, 'a-secret')
  await a.call('mesh_artifacts_put', { key: 'doc.txt', content: 'a-doc' })
  assert.equal((await b.call('mesh_artifacts_list', { prefix: '' })).count, 0)
  assert.equal((await a.call('mesh_artifacts_list', { prefix: '' })).objects[0].key, 'doc.txt')
  assert.equal((await a.call('mesh_status')).tenant, 'tenant-a')
  assert.equal((await mesh.call('mesh_status')).tenant, null)
})
