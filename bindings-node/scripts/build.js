// Builds the native addon with cargo when the package is installed from source
// (`npm install ./bindings-node`). Only the registries' tools are needed: cargo and node.
// Skips the build when the addon is already there, unless AGENT_MESH_REBUILD=1.
'use strict'
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const pkg = path.resolve(__dirname, '..')
const addon = path.join(pkg, `agent-mesh.${process.platform}-${process.arch}-gnu.node`)
if (fs.existsSync(addon) && process.env.AGENT_MESH_REBUILD !== '1') process.exit(0)

const profile = process.env.AGENT_MESH_BUILD_PROFILE || 'release'
const args = ['build', '-p', 'agent-mesh-node', '--message-format', 'json-render-diagnostics']
if (profile === 'release') args.push('--release')
console.error(`@agent-mesh/client: building the native addon (cargo ${args.slice(0, 4).join(' ')}) ...`)
const out = execFileSync('cargo', args, { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 })
const artifact = out
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line))
  .filter((m) => m.reason === 'compiler-artifact' && m.target && m.target.name === 'agent_mesh_node')
  .flatMap((m) => m.filenames)
  .find((f) => f.endsWith('.so') || f.endsWith('.dylib') || f.endsWith('.dll'))
if (!artifact) throw new Error('@agent-mesh/client: cargo built no agent_mesh_node library')
fs.copyFileSync(artifact, addon)
console.error(`@agent-mesh/client: installed ${path.basename(addon)}`)
