#!/usr/bin/env node
// `npx agent-mesh`: the agent-mesh command line (the Rust CLI inside the addon), run in this
// process. `agent-mesh --help` lists the subcommands and the exit codes.
'use strict'
const { cliMain } = require('../native.js')

process.exit(cliMain(['agent-mesh', ...process.argv.slice(2)]))
