// Runs every ```javascript / ```js block of README.md, CONTRIBUTING.md and docs/*.md, each in
// a fresh Node process, with the markers of tests/docs/test_snippets.py (see CONTRIBUTING.md,
// "Code snippets in the docs"):
//  - a block runs as an ES module (top-level await; CommonJS if it calls require() and
//    imports nothing) in a fresh temporary directory that holds
//    node_modules/@agent-mesh/client (a link to this package) and a link `examples` to the
//    repository's examples/, with AGENT_MESH_DIR set inside it and AGENT_MESH_URL unset, so
//    `await MeshClient.open()` opens the embedded local default;
//  - `<!-- snippet: continues -->` before a block: it runs after the block before it (same
//    language, same file), as one program;
//  - `<!-- snippet: aws -->` before the first block of a program: it runs only on the moto
//    server of tests/with-moto.sh (AWS_ENDPOINT_URL set, a fresh AGENT_MESH_ENV);
//  - each line keeps its line number in the Markdown file, so a stack trace names the line.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const PACKAGE = path.resolve(__dirname, '..')

function docFiles() {
  const files = [path.join(ROOT, 'README.md'), path.join(ROOT, 'CONTRIBUTING.md')]
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else if (name.endsWith('.md')) files.push(full)
    }
  }
  walk(path.join(ROOT, 'docs'))
  return files.filter((f) => fs.existsSync(f))
}

const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)(.*)$/
const MARKER = /^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$/

/** Every fenced block of a Markdown file: { file, line (first code line, 1-based), lang, lines, markers }. */
function blocksOf(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i])
    if (!m) continue
    const indent = m[1].length
    const fence = m[2]
    const marker = i > 0 ? MARKER.exec(lines[i - 1]) : null
    const body = []
    let j = i + 1
    while (j < lines.length && !lines[j].trim().startsWith(fence[0].repeat(fence.length))) {
      body.push(lines[j].slice(0, indent).trim() === '' ? lines[j].slice(indent) : lines[j])
      j++
    }
    blocks.push({ file, line: i + 2, lang: m[3].split(',')[0], lines: body, markers: new Set(marker ? marker[1].split(/\s+/) : []) })
    i = j
  }
  return blocks
}

/** The JavaScript programs: a block and the blocks that continue it. */
function programs() {
  const out = []
  for (const file of docFiles()) {
    let current = null
    for (const block of blocksOf(file)) {
      if (block.lang !== 'javascript' && block.lang !== 'js') continue
      if (block.markers.has('continues') && current) current.push(block)
      else out.push((current = [block]))
    }
  }
  return out
}

/** The program's text with every line at its line number in the Markdown file. */
function sourceOf(program) {
  const lines = []
  for (const block of program) {
    while (lines.length < block.line - 1) lines.push('')
    lines.push(...block.lines)
  }
  return lines.join('\n') + '\n'
}

for (const program of programs()) {
  const first = program[0]
  const where = `${path.relative(ROOT, first.file)}:${first.line}`
  const aws = first.markers.has('aws')
  const endpoint = process.env.AGENT_MESH_TEST_AWS_ENDPOINT
  test(`docs snippet ${where}`, { skip: aws && !endpoint ? 'an aws snippet: runs on the moto server of tests/with-moto.sh' : false }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-mesh-docs-'))
    try {
      fs.mkdirSync(path.join(dir, 'node_modules', '@agent-mesh'), { recursive: true })
      fs.symlinkSync(PACKAGE, path.join(dir, 'node_modules', '@agent-mesh', 'client'))
      fs.symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'))
      // Named after the Markdown file, so stack traces read "README.md.mjs:<line of README.md>".
      // A program that calls require() and imports nothing runs as CommonJS.
      const source = sourceOf(program)
      const commonjs = /\brequire\(/.test(source) && !/^\s*import\s/m.test(source)
      const script = path.join(dir, `${path.basename(first.file)}.${commonjs ? 'cjs' : 'mjs'}`)
      fs.writeFileSync(script, source)
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENT_MESH_')))
      env.AGENT_MESH_DIR = path.join(dir, '.agent-mesh')
      if (aws) {
        env.AWS_ENDPOINT_URL = endpoint
        env.AGENT_MESH_ENV = `docs${crypto.randomBytes(5).toString('hex')}`
      }
      const run = spawnSync(process.execPath, [script], { cwd: dir, env, encoding: 'utf8', timeout: 180000 })
      assert.equal(run.status, 0,
        `the javascript block at ${where} failed (exit ${run.status}${run.signal ? `, ${run.signal}` : ''}); ` +
        `line numbers of ${path.basename(script)} are lines of ${path.relative(ROOT, first.file)}:\n${run.stdout}\n${run.stderr}`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}
