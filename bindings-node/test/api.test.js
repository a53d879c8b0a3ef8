// What only the Node binding has: error objects, generated types, default opening, install.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { MeshClient, MeshError, Kv, Artifacts } = require('..')
const { rejection, tempDir } = require('./helpers')

const PKG = path.resolve(__dirname, '..')
const ROOT = path.resolve(PKG, '..')
const NAPI = path.join(PKG, 'node_modules', '.bin', 'napi')
const TSC = path.join(PKG, 'node_modules', '.bin', 'tsc')

test('errors carry the kind as code, plus retryable and context', async () => {
  const e = await rejection(MeshClient.open('redis://x'))
  assert.ok(e instanceof MeshError && e instanceof Error)
  assert.equal(e.code, 'Config')
  assert.equal(e.kind, 'Config')
  assert.equal(e.retryable, false)
  assert.match(e.message, /local:\/\/, memory:\/\/, aws:\/\//)
  assert.match(e.stack, /MeshError \[Config\]/)
  const mesh = await MeshClient.open('memory://')
  assert.ok(mesh instanceof MeshClient && mesh.kv instanceof Kv && mesh.artifacts instanceof Artifacts)
  const bad = await rejection(mesh.kv.get(''))
  assert.equal(bad.code, 'InvalidInput')
  assert.deepEqual(bad.context, { operation: 'kv.get', key: '' })
})

test('MeshClient.open() follows AGENT_MESH_URL and AGENT_MESH_DIR', () => {
  const dir = tempDir()
  const script = `require(${JSON.stringify(PKG)}).MeshClient.open().then(m => m.kv.set('k', 1)).then(() => console.log('ok'))`
  const run = (env) => execFileSync(process.execPath, ['-e', script], { cwd: dir, env: { ...process.env, AGENT_MESH_URL: '', AGENT_MESH_DIR: '', ...env }, encoding: 'utf8' })
  assert.equal(run({}).trim(), 'ok')
  assert.ok(fs.existsSync(path.join(dir, '.agent-mesh', 'mesh.db')), 'default ./.agent-mesh')
  run({ AGENT_MESH_DIR: path.join(dir, 'custom') })
  assert.ok(fs.existsSync(path.join(dir, 'custom', 'mesh.db')))
  run({ AGENT_MESH_URL: `local://${dir}/from-url`, AGENT_MESH_DIR: path.join(dir, 'ignored') })
  assert.ok(fs.existsSync(path.join(dir, 'from-url', 'mesh.db')))
  assert.ok(!fs.existsSync(path.join(dir, 'ignored')))
})

test('committed native.d.ts and native.js match what napi generates from the Rust code', () => {
  // The output folder also receives a copy of the addon (~350 MB in debug): removed afterwards.
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-mesh-dts-'))
  try {
    execFileSync(NAPI, ['build', '--platform', '--output-dir', out, '--js', 'native.js', '--dts', 'native.d.ts'], {
      cwd: PKG,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    for (const file of ['native.d.ts', 'native.js']) {
      const generated = fs.readFileSync(path.join(out, file), 'utf8')
      const committed = fs.readFileSync(path.join(PKG, file), 'utf8')
      assert.equal(committed, generated, `${file} is stale: run \`npm run build\` in bindings-node and commit it`)
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})

test('the declarations type-check a use of the whole API (tsc --strict)', () => {
  execFileSync(TSC, ['--strict', '--noEmit', '--esModuleInterop', '--types', 'node', '--module', 'commonjs', '--target', 'es2022', path.join(__dirname, 'typed-usage.ts')], {
    cwd: PKG,
    stdio: 'inherit',
  })
})

test('npm install of the package into a new project, then the example runs', () => {
  const project = tempDir()
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, allowScripts: { '@agent-mesh/client': true } }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', PKG], { cwd: project, stdio: 'inherit' })
  // The example reads ../workflows/content-moderation.json: keep the repository's layout.
  for (const dir of ['javascript', 'workflows']) fs.mkdirSync(path.join(project, 'examples', dir), { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'examples', 'workflows', 'content-moderation.json'), path.join(project, 'examples', 'workflows', 'content-moderation.json'))
  const example = path.join(project, 'examples', 'javascript', 'example.mjs')
  fs.copyFileSync(path.join(ROOT, 'examples', 'javascript', 'personal_assistant.mjs'), example)
  const out = execFileSync(process.execPath, [example], { cwd: project, encoding: 'utf8' })
  assert.match(out, /read {4}preferences v1: \{"timezone":"PST"/)
  assert.match(out, /resume\.pdf: 40 bytes/)
  assert.match(out, /event {3}DocumentUploaded from document-processor/)
  assert.match(out, /history .* user\/john\/documents/)
  assert.match(out, /workflow content-moderation "Notes from John's resume review": SUCCEEDED \{"status":"published"\}/)
  assert.match(out, /workflow content-moderation "Buy SPAM now": SUCCEEDED \{"status":"flagged"\}/)
})

test('the ES module entry exports every name of the CommonJS entry', async () => {
  const esm = await import(path.join(PKG, 'index.mjs'))
  const cjsNames = Object.keys(require('..')).filter((n) => !n.startsWith('__'))
  for (const name of cjsNames) assert.equal(esm[name], require('..')[name], `index.mjs does not export ${name}`)
})

test('a client keeps its namespaces: mesh.kv is the same object on every access', async () => {
  const mesh = await MeshClient.open('memory://')
  for (const name of ['kv', 'artifacts', 'events', 'timeline', 'workflows']) {
    assert.equal(mesh[name], mesh[name], name)
  }
  const other = await MeshClient.open('memory://')
  assert.notEqual(other.kv, mesh.kv)
  const scoped = mesh.scope('tenant-a')
  await scoped.kv.set('k', 1)
  assert.equal(await mesh.kv.get('k'), null)
  assert.equal((await scoped.kv.get('k')).value, 1)
})
