// @agent-mesh/client: the napi-rs addon (loaded by the generated native.js) plus one generic
// step: rejections of agent-mesh calls become MeshError objects whose `code` is the error kind
// ("NotFound", "Conflict", ...). No method is written here; every one comes from the addon.
'use strict'

const native = require('./native.js')

const MARKER = 'agent-mesh-error:'

/** The error every agent-mesh call rejects with: `code` is the kind name. */
class MeshError extends Error {
  constructor(payload) {
    super(payload.message)
    this.name = 'MeshError'
    this.code = payload.kind
    this.kind = payload.kind
    this.retryable = payload.retryable
    this.context = payload.context
  }
}

function translate(error) {
  if (error && typeof error.message === 'string' && error.message.startsWith(MARKER)) {
    const converted = new MeshError(JSON.parse(error.message.slice(MARKER.length)))
    converted.stack = `${converted.name} [${converted.code}]: ${converted.message}\n${new Error().stack.split('\n').slice(2).join('\n')}`
    return converted
  }
  return error
}

// Every I/O method of the addon's classes returns a Promise; an argument error thrown before the
// Promise exists becomes a rejection too, so callers handle one failure path.
function wrap(fn) {
  return function (...args) {
    try {
      return fn.apply(this, args).catch((e) => Promise.reject(translate(e)))
    } catch (error) {
      return Promise.reject(translate(error))
    }
  }
}

// Synchronous functions throw MeshError too.
function wrapSync(fn) {
  return function (...args) {
    try {
      return fn.apply(this, args)
    } catch (error) {
      throw translate(error)
    }
  }
}

// The few methods that do no I/O and return no Promise.
const SYNC_METHODS = { Workflows: ['register'], Worker: ['stop'] }

function wrapMethods(prototype, sync = []) {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
    if (name === 'constructor' || typeof descriptor.value !== 'function') continue
    const wrapped = sync.includes(name) ? wrapSync(descriptor.value) : wrap(descriptor.value)
    Object.defineProperty(prototype, name, { ...descriptor, value: wrapped })
  }
}

// Static methods of napi classes cannot be redefined, so each class is exported as a subclass
// carrying the wrapped statics; `instanceof` answers for the addon's own instances.
function withWrappedStatics(cls) {
  const exported = class extends cls {
    static [Symbol.hasInstance](value) {
      return value instanceof cls
    }
  }
  Object.defineProperty(exported, 'name', { value: cls.name })
  for (const name of Object.getOwnPropertyNames(cls)) {
    const value = cls[name]
    if (typeof value === 'function' && !['length', 'name', 'prototype'].includes(name)) {
      Object.defineProperty(exported, name, { value: wrap(value.bind(cls)), writable: false, enumerable: false })
    }
  }
  return exported
}

const classes = {}
for (const name of ['MeshClient', 'Kv', 'Artifacts', 'Events', 'Subscription', 'Timeline', 'Workflows', 'Worker']) {
  wrapMethods(native[name].prototype, SYNC_METHODS[name])
  classes[name] = withWrappedStatics(native[name])
}

// `for await (const event of subscription)`: waits for each matching event; leaving the loop
// (break, return, throw) closes the subscription.
native.Subscription.prototype[Symbol.asyncIterator] = async function* () {
  try {
    for (;;) {
      const event = await this.next()
      if (event) yield event
    }
  } finally {
    await this.close()
  }
}

module.exports = { ...native, ...classes, testEventPattern: wrapSync(native.testEventPattern), MeshError }
