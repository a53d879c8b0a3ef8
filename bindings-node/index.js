// @agent-mesh/client: the napi-rs addon (loaded by the generated native.js) plus one generic
// step: rejections of agent-mesh calls become MeshError objects whose `code` is the error kind
// ("NotFound", "Conflict", ...). No method is written here; every one comes from the addon.
'use strict'

const native = require('./native.js')

const MARKER = 'agent-mesh-error:'

// KV items are made here, one call per item from Rust (src/kv_item.rs): an object literal and
// two Dates made in JavaScript cost about 1.4 µs less than six N-API property sets. The shape is
// the one napi-rs gave: `expiresAt` is absent when the item has no TTL.
native.setKvItemFactory((key, value, version, createdAt, updatedAt, expiresAt) => {
  const item = { key, value: JSON.parse(value), version, createdAt: new Date(createdAt), updatedAt: new Date(updatedAt) }
  if (expiresAt !== undefined) item.expiresAt = new Date(expiresAt)
  return item
})

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

function translate(error, operation) {
  // napi-rs refuses an argument of the wrong JS type before Rust runs: that is bad input too.
  if (operation && error && typeof error.message === 'string' && error.message.startsWith('Failed to convert JavaScript value')) {
    return invalid('InvalidInput', operation, '', `${error.message.trim()}: an argument has the wrong type; see index.d.ts for the expected types`)
  }
  if (error && typeof error.message === 'string' && error.message.startsWith(MARKER)) {
    const converted = new MeshError(JSON.parse(error.message.slice(MARKER.length)))
    converted.stack = `${converted.name} [${converted.code}]: ${converted.message}\n${new Error().stack.split('\n').slice(2).join('\n')}`
    return converted
  }
  return error
}

const LIMITS = native.valueLimits()

function invalid(kind, operation, key, message) {
  const error = new MeshError({ kind, message: `${operation} ${JSON.stringify(key)}: ${message}`, retryable: false, context: { operation, key } })
  return error
}

// Before an argument crosses into Rust (whose conversion of JS values recurses), it is walked
// here without recursion: nesting past the core's depth limit (also an object that contains
// itself), more nodes than its node limit (shared arrays that expand exponentially), and values
// JSON cannot hold (NaN, Infinity, BigInt, functions, symbols, Dates, Maps, class instances)
// are refused with an InvalidInput/TooLarge MeshError. Top-level functions (handlers), binary
// data (Buffer, typed arrays) and Dates in the typed time options pass as they are.
// The only places a Date may stand: the typed time options (elsewhere napi would turn a Date in
// a JSON value into {}). A route is the argument index, then property names; '*' is any index.
const DATE_FIELDS = {
  'events.send': [[0, 'time']],
  'events.sendBatch': [[0, '*', 'time']],
  'timeline.get': [[1, 'since'], [1, 'until']],
}

function dateAllowed(operation, route) {
  return (DATE_FIELDS[operation] || []).some((fields) => fields.length === route.length && fields.every((f, i) => f === '*' ? typeof route[i] === 'number' : f === route[i]))
}

function checkArgs(operation, args) {
  const key = typeof args[0] === 'string' ? args[0] : ''
  let nodes = 0
  for (const [index, arg] of args.entries()) {
    if (typeof arg === 'function' || ArrayBuffer.isView(arg) || arg instanceof ArrayBuffer) continue
    // Each entry: value, depth, path (for messages), route (while shallow enough to be a Date field).
    const stack = [[arg, 1, 'value', [index]]]
    while (stack.length) {
      const [value, depth, path, route] = stack.pop()
      nodes += 1
      if (nodes > LIMITS.maxNodes) {
        throw invalid('TooLarge', operation, key, `the arguments hold more than ${LIMITS.maxNodes} objects, arrays and scalars (counting shared ones each time they appear); store large data as an artifact`)
      }
      const fail = (why) => invalid('InvalidInput', operation, key, `${path.length > 60 ? path.slice(0, 60) + '…' : path} ${why}; values must be plain objects, arrays, strings, finite numbers, booleans or null`)
      switch (typeof value) {
        case 'string':
        case 'boolean':
        case 'undefined':
          continue
        case 'number':
          if (!Number.isFinite(value)) throw fail('is NaN or infinite, which JSON cannot hold')
          continue
        case 'bigint':
        case 'symbol':
        case 'function':
          throw fail(`is a ${typeof value}, which is not JSON`)
      }
      if (value === null) continue
      if (depth > LIMITS.maxDepth) throw fail(`nests deeper than ${LIMITS.maxDepth} levels of objects and arrays (does it contain itself?); flatten it`)
      const child = (k) => (route && route.length < 3 ? [...route, k] : null)
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], depth + 1, `${path}[${i}]`, child(i)])
        continue
      }
      if (value instanceof Date && route && dateAllowed(operation, route)) continue
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        throw fail(`is a ${value.constructor ? value.constructor.name : 'object'}, which is not JSON (convert it first, e.g. a Date with toISOString())`)
      }
      for (const [k, v] of Object.entries(value)) stack.push([v, depth + 1, `${path}[${JSON.stringify(k)}]`, child(k)])
    }
  }
}

const ABORTED = 'agent-mesh-aborted'

// The reason a call given an aborted `signal` rejects with, as `fetch` does.
function abortReason(signal) {
  return signal.reason !== undefined ? signal.reason : new DOMException('This operation was aborted', 'AbortError')
}

// Every I/O method of the addon's classes returns a Promise; an argument error thrown before the
// Promise exists becomes a rejection too, so callers handle one failure path. A call whose
// AbortSignal (its last argument) fired rejects with the signal's reason.
function wrap(fn, operation) {
  return function (...args) {
    const signal = args.length && args[args.length - 1] instanceof AbortSignal ? args[args.length - 1] : null
    if (!signal) {
      try {
        checkArgs(operation, args)
        return fn.apply(this, args).catch((e) => Promise.reject(translate(e, operation)))
      } catch (error) {
        return Promise.reject(translate(error, operation))
      }
    }
    if (signal.aborted) return Promise.reject(abortReason(signal))
    // The signal stays here: a listener for this call only, removed when it settles, cancels
    // the call's native Canceller (nothing is attached to the signal for longer).
    const canceller = new native.Canceller()
    const onAbort = () => canceller.cancel()
    try {
      checkArgs(operation, args.slice(0, -1))
      signal.addEventListener('abort', onAbort, { once: true })
      return fn
        .apply(this, [...args.slice(0, -1), canceller])
        .catch((e) => Promise.reject(e && e.message === ABORTED ? abortReason(signal) : translate(e, operation)))
        .finally(() => signal.removeEventListener('abort', onAbort))
    } catch (error) {
      signal.removeEventListener('abort', onAbort)
      return Promise.reject(translate(error, operation))
    }
  }
}

// Synchronous functions throw MeshError too.
function wrapSync(fn, operation) {
  return function (...args) {
    checkArgs(operation, args)
    try {
      return fn.apply(this, args)
    } catch (error) {
      throw translate(error, operation)
    }
  }
}

// The operation a method is, as errors name it: `kv.set`, `events.sendBatch`, `call`.
function operationName(className, method) {
  if (className === 'MeshClient') return method
  return `${className.charAt(0).toLowerCase()}${className.slice(1)}.${method}`
}

// The few methods that do no I/O and return no Promise.
const SYNC_METHODS = { MeshClient: ['toString', 'scope', 'iamPolicy'], Workflows: ['register'], Worker: ['stop'] }

function wrapMethods(className, prototype, sync = []) {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
    if (name === 'constructor' || typeof descriptor.value !== 'function') continue
    const operation = operationName(className, name)
    const wrapped = sync.includes(name) ? wrapSync(descriptor.value, operation) : wrap(descriptor.value, operation)
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
      Object.defineProperty(exported, name, { value: wrap(value.bind(cls), operationName(cls.name, name)), writable: false, enumerable: false })
    }
  }
  return exported
}

const classes = {}
for (const name of ['MeshClient', 'Kv', 'Artifacts', 'Events', 'Subscription', 'Timeline', 'Workflows', 'Worker']) {
  wrapMethods(name, native[name].prototype, SYNC_METHODS[name])
  classes[name] = withWrappedStatics(native[name])
}

// A client's namespaces (`mesh.kv`, ...) are made once per client and kept: making one is a
// native object allocation (about 1.4 µs, as much as a third of a local `kv.get`).
for (const name of ['kv', 'artifacts', 'events', 'timeline', 'workflows']) {
  const descriptor = Object.getOwnPropertyDescriptor(native.MeshClient.prototype, name)
  const kept = Symbol(name)
  Object.defineProperty(native.MeshClient.prototype, name, {
    ...descriptor,
    get() {
      if (!Object.hasOwn(this, kept)) Object.defineProperty(this, kept, { value: descriptor.get.call(this) })
      return this[kept]
    },
  })
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

// setKvItemFactory is index.js's own (above): not exported.
const { setKvItemFactory: _internal, ...exported } = native
module.exports = { ...exported, ...classes, testEventPattern: wrapSync(native.testEventPattern, 'testEventPattern'), MeshError }
