// A Node process SIGKILLed between a large KV value's two writes (its body stored in the artifact
// store, its pointer not yet: the failpoint holds the writer there), on local:// and, when
// AGENT_MESH_TEST_BACKENDS names it, on moto: the value stays whole at the last acknowledged
// version, the body of the write cut short is the only garbage, and a later writer collects it.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFileSync } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')
const { MeshClient } = require('..')
const { awsUrl, tempDir, BACKENDS } = require('./helpers')
const { BODIES, doc } = require('./large_value_writer')

const WRITER = path.join(__dirname, 'large_value_writer.js')

const writes = (url, n, env = {}) =>
  execFileSync(process.execPath, [WRITER, url, String(n)], { env: { ...process.env, ...env }, encoding: 'utf8' }).split(/\s+/).filter(Boolean)

for (const backend of BACKENDS.filter((b) => b === 'local' || b === 'aws')) {
  test(`${backend}: SIGKILL between a large value's two writes leaves a consistent store`, async () => {
    const url = backend === 'local' ? `local://${tempDir()}/mesh` : awsUrl()
    const mesh = await MeshClient.open(url)
    await mesh.provision()
    assert.deepEqual(writes(url, 2), ['1', '2', 'bodies', '1'])

    const cut = spawn(process.execPath, [WRITER, url, '1'], {
      env: { ...process.env, AGENT_MESH_FAILPOINT: 'kv.set:body-stored' },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    const [line] = await readline.createInterface({ input: cut.stderr })[Symbol.asyncIterator]().next().then((r) => [r.value])
    assert.match(line ?? '', /paused$/)
    const exited = new Promise((resolve) => cut.on('exit', (_code, signal) => resolve(signal)))
    cut.kill('SIGKILL')
    assert.equal(await exited, 'SIGKILL')

    const item = await mesh.kv.get('doc')
    assert.equal(item.version, 2, 'the last acknowledged version')
    assert.deepEqual(item.value, doc(2), 'whole')
    assert.equal((await mesh.artifacts.list(BODIES)).items.length, 2, 'its body and the orphan of the write cut short')

    assert.deepEqual(writes(url, 1, { AGENT_MESH_KV_BODY_GRACE_SECONDS: '0' }), ['3', 'bodies', '1'])
    assert.deepEqual((await mesh.kv.get('doc')).value, doc(3))
  })
}
