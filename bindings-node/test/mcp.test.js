// `agent-mesh mcp` driven by the official Node MCP client (@modelcontextprotocol/sdk, a
// devDependency), started as `npx agent-mesh` does (bin/agent-mesh.js, the addon's CLI), over
// stdio and Streamable HTTP, on the local backend and on aws (moto) when
// AGENT_MESH_TEST_BACKENDS names it: every tool listed and called with upstream's result
// shapes, error results, and 401 without the bearer token.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFileSync } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')
const { Client } = require('@modelcontextprotocol/sdk/client/index.js')
const { StdioClientTransport } = require('@modelcontextprotocol/sdk/client/stdio.js')
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js')
const { BACKENDS, tempDir } = require('./helpers')

const BIN = path.resolve(__dirname, '..', 'bin', 'agent-mesh.js')
const TOOLS = ['mesh_kv_get', 'mesh_kv_set', 'mesh_kv_delete', 'mesh_kv_list', 'mesh_artifacts_list', 'mesh_artifacts_get',
  'mesh_artifacts_put', 'mesh_event_send', 'mesh_timeline_get', 'mesh_workflow_start', 'mesh_workflow_status', 'mesh_status']

function meshUrl(backend) {
  if (backend === 'local') return `local://${tempDir()}/mesh`
  const endpoint = process.env.AGENT_MESH_TEST_AWS_ENDPOINT
  if (!endpoint) throw new Error('AGENT_MESH_TEST_BACKENDS names aws but AGENT_MESH_TEST_AWS_ENDPOINT is not set: run through tests/with-moto.sh')
  return `aws://?region=us-east-1&endpoint=${encodeURIComponent(endpoint)}&prefix=t${require('node:crypto').randomBytes(6).toString('hex')}-`
}

/** `agent-mesh --url URL ARGS` through the package's bin, for setup. */
function cli(url, ...args) {
  return execFileSync(process.execPath, [BIN, '--url', url, '--json', ...args], { encoding: 'utf8' })
}

/** Starts `agent-mesh mcp --http 127.0.0.1:0`; resolves to {url, token, stop()}. */
function startHttp(url, ...extra) {
  const child = spawn(process.execPath, [BIN, '--url', url, 'mcp', '--http', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    let endpoint
    const lines = readline.createInterface({ input: child.stderr })
    lines.on('line', (line) => {
      const at = line.match(/at (http:\/\/\S+\/mcp) /)
      if (at) endpoint = at[1]
      const token = line.match(/bearer token \(generated.*\): ([0-9a-f]{64})/)
      if (token) resolve({ url: endpoint, token: token[1], stop: () => { child.kill('SIGTERM'); return exited } })
    })
    child.on('exit', (code) => reject(new Error(`agent-mesh mcp --http exited ${code} before printing its token`)))
  })
}

async function connect(transportName, url) {
  const client = new Client({ name: 'agent-mesh-node-test', version: '1.0.0' })
  if (transportName === 'stdio') {
    const env = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined))
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, '--url', url, 'mcp'], env }))
    return { client, close: () => client.close() }
  }
  const server = await startHttp(url)
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${server.token}` } } })
  await client.connect(transport)
  return {
    client,
    close: async () => {
      await client.close()
      assert.equal(await server.stop(), 0, 'a clean stop on SIGTERM')
    },
  }
}

async function ok(client, name, args) {
  const result = await client.callTool({ name, arguments: args })
  assert.ok(!result.isError, `${name}: ${result.content[0].text}`)
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent)
  return result.structuredContent
}

async function failure(client, name, args) {
  const result = await client.callTool({ name, arguments: args })
  assert.equal(result.isError, true, `${name} succeeded`)
  return result.content[0].text
}

for (const backend of BACKENDS.filter((b) => b === 'local' || b === 'aws')) {
  for (const transportName of ['stdio', 'http']) {
    test(`${backend} ${transportName}: every tool through the Node MCP client`, async () => {
      const url = meshUrl(backend)
      cli(url, 'provision')
      cli(url, 'workflows', 'create', 'echo', '{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}')
      const { client, close } = await connect(transportName, url)
      try {
        const { tools } = await client.listTools()
        assert.deepEqual(tools.map((t) => t.name), TOOLS)
        for (const tool of tools) {
          assert.ok(tool.description.length > 60, tool.name)
          assert.equal(tool.inputSchema.type, 'object')
        }
        const stored = await ok(client, 'mesh_kv_set', { key: 'customer:user123:preferences', value: JSON.stringify({ categories: ['books'] }), ttl_hours: 1 })
        assert.deepEqual([stored.key, stored.status], ['customer:user123:preferences', 'stored'])
        assert.ok(Math.abs(stored.expires_at - (Date.now() / 1000 + 3600)) < 30)
        const got = await ok(client, 'mesh_kv_get', { key: 'customer:user123:preferences' })
        assert.deepEqual([got.value, got.found], ['{"categories":["books"]}', true])
        assert.deepEqual(await ok(client, 'mesh_kv_get', { key: 'nope' }), { key: 'nope', value: null, found: false })
        assert.equal((await ok(client, 'mesh_kv_list', { prefix: 'customer:' })).count, 1)
        assert.equal((await ok(client, 'mesh_kv_delete', { key: 'customer:user123:preferences' })).deleted, true)
        const put = await ok(client, 'mesh_artifacts_put', { key: 'contracts/v2.1/agreement.txt', content: 'terms' })
        assert.deepEqual([put.size, put.content_type, put.status], [5, 'text/plain', 'stored'])
        const art = await ok(client, 'mesh_artifacts_get', { key: 'contracts/v2.1/agreement.txt' })
        assert.deepEqual([art.content, art.content_type, art.size], ['terms', 'text/plain', 5])
        const listed = await ok(client, 'mesh_artifacts_list', { prefix: 'contracts/' })
        assert.deepEqual([listed.bucket, listed.count, listed.objects[0].key, listed.objects[0].size], [put.bucket, 1, 'contracts/v2.1/agreement.txt', 5])
        assert.match(listed.objects[0].modified, /Z$/)
        const sent = await ok(client, 'mesh_event_send', { detail_type: 'PurchaseCompleted', detail: { total: 999 } })
        assert.deepEqual([sent.detail_type, sent.source, sent.status], ['PurchaseCompleted', 'mcp-client', 'sent'])
        const timeline = await ok(client, 'mesh_timeline_get', { prefix: 'events/mcp-client/' })
        assert.equal(timeline.timeline_events[0].data.id, sent.event_id)
        assert.match(timeline.timeline_events[0].key, /^events\/mcp-client\/PurchaseCompleted\//)
        const started = await ok(client, 'mesh_workflow_start', { name: 'echo', input: { x: 1 } })
        let status
        for (let i = 0; i < 600; i++) {
          status = await ok(client, 'mesh_workflow_status', { execution_arn: started.execution_arn })
          if (status.status !== 'RUNNING') break
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        assert.deepEqual([status.status, status.output], ['SUCCEEDED', { x: 1 }])
        const meshStatus = await ok(client, 'mesh_status', {})
        assert.deepEqual([meshStatus.status, meshStatus.backend, meshStatus.probe.ok], ['ok', backend, true])
        assert.ok(meshStatus.environment && meshStatus.region && meshStatus.infrastructure.kv_table)
        const dotted = await ok(client, 'workflow.status', { executionArn: started.execution_arn })
        assert.equal(dotted.executionArn, started.execution_arn)
        const missing = await failure(client, 'mesh_event_send', { detail: {} })
        assert.match(missing, /^InvalidInput: mesh_event_send: the argument "detail_type".*call it as mesh_event_send \{/)
        const unknown = await failure(client, 'mesh_nope', {})
        assert.match(unknown, /no such tool.*mesh_kv_get.*mesh_status/)
        const bad = await failure(client, 'mesh_kv_set', { key: '', value: 1 })
        assert.match(bad, /^mesh_kv_set failed: InvalidInput: kv\.set/)
      } finally {
        await close()
      }
    })
  }
}

test('http: 401 without the bearer token or with a wrong one', async () => {
  const server = await startHttp(`local://${tempDir()}/mesh`)
  try {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${server.token.slice(1)}`]) {
      const response = await fetch(server.url, { method: 'POST', body, headers: auth ? { ...headers, Authorization: auth } : headers })
      assert.equal(response.status, 401, String(auth))
      assert.match(response.headers.get('www-authenticate'), /^Bearer/)
    }
    const client = new Client({ name: 'no-token', version: '1.0.0' })
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(server.url))), /401|Unauthorized/)
    const health = await fetch(server.url.replace(/\/mcp$/, '/health'))
    assert.equal(health.status, 200)
  } finally {
    assert.equal(await server.stop(), 0)
  }
})
