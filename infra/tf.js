#!/usr/bin/env node
// `npm run tf:<plan|apply|destroy|output> -- --var WS=<workspace> ENV=<env> [NAME=value ...]`,
// as the guide writes it: runs Terraform (or OpenTofu) in infra/workspaces/<WS> with the
// Terraform workspace <ENV> (one state per environment) and -var env=<ENV>. Other NAME=value
// pairs become -var name=value (REGION=eu-west-1 -> -var region=eu-west-1); flags such as
// -auto-approve are passed on to the command. TF_BINARY picks the binary; else `terraform`,
// then `tofu`, is looked up on PATH.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const WORKSPACES = path.join(__dirname, 'workspaces')
const COMMANDS = ['plan', 'apply', 'destroy', 'output']

function fail(message) {
  console.error(`agent-mesh tf: ${message}`)
  process.exit(2)
}

/** Every workspace: the folders under infra/workspaces holding a main.tf, as `small/kv_store`. */
function workspaces(dir = WORKSPACES, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => {
    const name = prefix + e.name
    const nested = workspaces(path.join(dir, e.name), `${name}/`)
    return fs.existsSync(path.join(dir, e.name, 'main.tf')) ? [name, ...nested] : nested
  }).sort()
}

/** NAME=value pairs from the arguments (`--var` and `--var=` are accepted and skipped), and
 * the flags (`-auto-approve`, ...) to pass on. */
function parse(args) {
  const vars = {}
  const flags = []
  for (const arg of args) {
    const text = arg.startsWith('--var=') ? arg.slice('--var='.length) : arg
    if (text === '--var' || text === '') continue
    if (text.startsWith('-')) {
      flags.push(text)
      continue
    }
    const at = text.indexOf('=')
    if (at <= 0) fail(`'${arg}' is not NAME=value; write: npm run tf:apply -- --var WS=small/kv_store ENV=personal`)
    vars[text.slice(0, at)] = text.slice(at + 1)
  }
  return { vars, flags }
}

/** The Terraform binary to run: TF_BINARY, else terraform or tofu from PATH. */
function binary() {
  if (process.env.TF_BINARY) return process.env.TF_BINARY
  for (const name of ['terraform', 'tofu']) {
    for (const dir of (process.env.PATH || '').split(path.delimiter).filter(Boolean)) {
      const candidate = path.join(dir, name)
      try {
        fs.accessSync(candidate, fs.constants.X_OK)
        return candidate
      } catch {}
    }
  }
  return null
}

function run(bin, args) {
  console.error(`agent-mesh tf: ${path.basename(bin)} ${args.join(' ')}`)
  const result = spawnSync(bin, args, { stdio: 'inherit' })
  if (result.error) fail(`cannot run ${bin}: ${result.error.message}`)
  if (result.status !== 0) process.exit(result.status ?? 1)
}

function main() {
  const [command, ...args] = process.argv.slice(2)
  if (!COMMANDS.includes(command)) fail(`unknown command '${command}'; one of ${COMMANDS.join(', ')}`)
  const { vars, flags } = parse(args)
  const { WS: ws, ENV: env, ...rest } = vars
  const known = workspaces()
  if (!ws) fail(`WS is missing: npm run tf:${command} -- --var WS=<workspace> ENV=<env>; workspaces: ${known.join(', ')}`)
  if (!known.includes(ws)) fail(`no workspace '${ws}' under infra/workspaces; one of ${known.join(', ')}`)
  if (!env) fail(`ENV is missing: npm run tf:${command} -- --var WS=${ws} ENV=<env> (e.g. ENV=personal)`)
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(env)) {
    fail(`ENV '${env}' must be 1 to 31 lowercase letters, digits or '-' (it is part of S3 bucket and table names)`)
  }
  const bin = binary()
  if (!bin) {
    fail('neither terraform nor tofu is on PATH: install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) ' +
      'or OpenTofu (https://opentofu.org/docs/intro/install/), or set TF_BINARY to the binary')
  }
  const dir = `-chdir=${path.join(WORKSPACES, ws)}`
  const tfVars = ['-var', `env=${env}`, ...Object.entries(rest).map(([k, v]) => ['-var', `${k.toLowerCase()}=${v}`]).flat()]
  run(bin, [dir, 'init', '-input=false'])
  run(bin, [dir, 'workspace', 'select', '-or-create', env])
  if (command === 'output') run(bin, [dir, 'output'])
  else run(bin, [dir, command, '-input=false', ...tfVars, ...flags])
}

main()
