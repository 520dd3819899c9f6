import { InvalidJobArgsError, describeValue } from '../errors'
import { ArgsShapes } from './args-shapes'
import { describeThrown } from './error-info'

/** Nesting deeper than this is refused rather than risking a stack overflow. */
export const MAX_ARGS_DEPTH = 64

/**
 * Returns a deep copy of job arguments, so a later change by the caller cannot change the job,
 * and checks on the way that they survive a JSON round trip (what a distributed store keeps):
 * the copy is what `JSON.parse(JSON.stringify(args))` would give, or the args are refused.
 * Plain objects, instances of the user's own data classes and objects made with
 * `Object.create(plainObject)` are copied as their own enumerable string-keyed data; arrays,
 * strings, finite numbers, booleans and null as they are. `undefined` properties and symbol keys
 * are left out, as JSON leaves them (symbol keys unread).
 * A `toJSON()` method of a plain object, data class or array is called with the key, as
 * `JSON.stringify` calls it, and its result is checked and copied instead (a `Money` whose
 * `toJSON()` returns `"19.99"` is stored as that string).
 *
 * Refused, where JSON would change or drop data without a word: functions, symbols, bigints,
 * non-finite numbers, cycles, built-in objects (`Date`, `Map`, `Buffer`, ...: a job typed to get a
 * `Date` would get a string) and properties inherited from a plain prototype. Every refusal,
 * including a getter, proxy trap or `toJSON()` that throws, is an {@link InvalidJobArgsError}
 * naming the path of the value; what was thrown is its `cause`.
 *
 * @param maxBytes the largest size allowed: the UTF-8 bytes of the arguments' JSON text, counted exactly
 * @param index the job's index in a batch given to `enqueueMany`, named in an error's path
 *   (`jobs[3].args.user`); -1 (the default) for one job (`args.user`)
 * @throws InvalidJobArgsError naming the path and kind of the first bad value
 */
export function copyJobArgs<T>(args: T, maxBytes: number, index = -1): T {
  // One walk state is reused: every enqueue copies, and the state is three allocations. A getter
  // of the args that enqueues (so copies) again while this walk runs gets a fresh one.
  const walk = idleWalk ?? { left: 0, index, parents: [], keys: [], refusal: undefined }
  idleWalk = undefined
  walk.left = maxBytes
  walk.index = index
  try {
    const copied = copy(args, walk, true)
    if (copied === undefined)
      fail(walk, 'is undefined (its toJSON() returned undefined)', 'Return JSON data from toJSON().')
    return copied as T
  } catch (error) {
    // A refusal of this walk goes out as it is; anything else was thrown while reading the args
    // (a getter, a proxy's trap, a toJSON()), still at the path it was reading.
    if (error === walk.refusal) throw error
    throw new InvalidJobArgsError(
      pathOf(walk),
      `could not be read: a getter, proxy trap or toJSON() threw ${describeThrown(error).replace(/\.+$/, '')}`,
      'Pass plain data: read getters and proxies into plain values before enqueuing.',
      { cause: error },
    )
  } finally {
    // The stacks are empty unless the walk threw. Only then are they cut: setting an array's
    // length is a runtime call that costs a tenth of a whole enqueue.
    if (walk.parents.length !== 0) walk.parents.length = 0
    if (walk.keys.length !== 0) walk.keys.length = 0
    walk.refusal = undefined
    idleWalk = walk
  }
}

/**
 * The walk's state. The path of the value being copied is kept as a stack of keys and written out
 * only when a value is refused: building `args.a.b` strings for every value would cost more than
 * the copy itself. `parents` (at most {@link MAX_ARGS_DEPTH} deep) finds cycles. `left` is the
 * byte budget still unspent; `refusal` the error this walk threw, told apart from user code's.
 */
interface Walk {
  left: number
  /** The job's index in a batch, or -1: the path starts at `jobs[index].args`, or `args`. */
  index: number
  readonly parents: object[]
  readonly keys: (string | number)[]
  refusal: InvalidJobArgsError | undefined
}

let idleWalk: Walk | undefined

function pathOf(walk: Walk): string {
  let path = walk.index < 0 ? 'args' : `jobs[${walk.index}].args`
  for (const key of walk.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`
  return path
}

function fail(walk: Walk, what: string, fix: string): never {
  walk.refusal = new InvalidJobArgsError(pathOf(walk), what, fix)
  throw walk.refusal
}

function spend(walk: Walk, bytes: number): void {
  walk.left -= bytes
  if (walk.left < 0) overBudget(walk)
}

function overBudget(walk: Walk): never {
  return fail(
    walk,
    'pushes the arguments past the `maxArgsBytes` limit',
    'Store large data elsewhere and pass its key, or raise `maxArgsBytes`.',
  )
}

/**
 * The UTF-8 bytes of `text` as a JSON string, quotes and escapes included: what
 * `Buffer.byteLength(JSON.stringify(text))` gives, without building the text. One pass over the
 * code units, in which ASCII that needs no escape costs one comparison.
 */
export function jsonStringBytes(text: string): number {
  let bytes = text.length + 2
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0x20 && unit < 0x7f) {
      if (unit === 0x22 || unit === 0x5c) bytes += 1 // \" and \\
    } else if (unit < 0x20) {
      // \b \t \n \f \r take two bytes; the other control characters \u00XX six.
      bytes += unit === 0x08 || unit === 0x09 || unit === 0x0a || unit === 0x0c || unit === 0x0d ? 1 : 5
    } else if (unit < 0x800) {
      bytes += unit < 0x80 ? 0 : 1
    } else if (unit < 0xd800 || unit > 0xdfff) {
      bytes += 2
    } else if (unit < 0xdc00 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2 // a surrogate pair: four bytes for two code units
      i++
    } else {
      bytes += 5 // a lone surrogate, which JSON.stringify writes as \uDXXX
    }
  }
  return bytes
}

/** The length of `value` written as JSON: the digits of an integer counted, others converted. */
function numberBytes(value: number): number {
  if (!Number.isInteger(value) || value <= -1e21 || value >= 1e21) return String(value).length
  let bytes = value < 0 ? 2 : 1
  const size = Math.abs(value)
  // Most numbers in args are counts and ids: five comparisons at most below a million.
  if (size < 1e6) return bytes + (size < 10 ? 0 : size < 100 ? 1 : size < 1e3 ? 2 : size < 1e4 ? 3 : size < 1e5 ? 4 : 5)
  bytes += 6
  for (let power = 1e7; power <= size; power *= 10) bytes++
  return bytes
}

/**
 * The bytes of `value` written as JSON when it is a string, a finite number, a boolean or null,
 * which are copied as they are; -1 for anything else, which {@link copy} copies or refuses.
 * Workload W3: a primitive in an object or array is counted here, without the call to `copy` and
 * the push and pop of its key on the walk's path that `copy` needs for what it refuses.
 */
function primitiveBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return jsonStringBytes(value)
    case 'number':
      return Number.isFinite(value) ? numberBytes(value) : -1
    case 'boolean':
      return value ? 4 : 5
    case 'object':
      return value === null ? 4 : -1
    default:
      return -1
  }
}

/**
 * Copies `value`, or returns undefined when its `toJSON()` returned undefined (JSON then leaves
 * the property out, or writes null in an array). `mayCallToJSON` is false for what a `toJSON()`
 * returned, which `JSON.stringify` does not convert again.
 */
function copy(value: unknown, walk: Walk, mayCallToJSON: boolean): unknown {
  switch (typeof value) {
    case 'string':
      spend(walk, jsonStringBytes(value))
      return value
    case 'number':
      if (!Number.isFinite(value)) fail(walk, `is ${describeValue(value)}`, 'Use a finite number or null.')
      spend(walk, numberBytes(value))
      return value
    case 'boolean':
      spend(walk, value ? 4 : 5)
      return value
    case 'function':
      return fail(
        walk,
        `is a function ${describeValue(value)}`,
        'Pass data the job needs, and resolve services inside the job.',
      )
    case 'symbol':
      return fail(walk, `is a symbol ${describeValue(value)}`, 'Use a string instead.')
    case 'bigint': {
      // JSON.stringify honours a toJSON() put on BigInt.prototype; so does the copy.
      const toJSON: unknown = (BigInt.prototype as { toJSON?: unknown }).toJSON
      if (mayCallToJSON && typeof toJSON === 'function') return copyToJSON(value, toJSON as ToJSON, walk)
      return fail(walk, `is a bigint ${describeValue(value)}`, 'Pass it as a string (value.toString()).')
    }
    case 'undefined':
      return fail(walk, 'is undefined', 'Pass null, or leave the property out.')
  }
  if (value === null) {
    spend(walk, 4)
    return null
  }
  const object = value as object
  const { parents, keys } = walk
  if (parents.length >= MAX_ARGS_DEPTH)
    fail(walk, `is nested deeper than ${MAX_ARGS_DEPTH} levels`, 'Flatten the arguments.')
  const isArray = Array.isArray(object)
  if (!isArray) checkDataObject(object, walk)
  if (mayCallToJSON) {
    const toJSON: unknown = (object as { toJSON?: unknown }).toJSON
    if (typeof toJSON === 'function') return copyToJSON(object, toJSON as ToJSON, walk)
  }
  if (parents.length !== 0 && parents.includes(object))
    fail(walk, 'refers back to one of its parents (a cycle)', 'Remove the cycle; JSON cannot hold it.')
  let result: unknown
  if (isArray) {
    const { length } = object as unknown[]
    // Only a proxy can claim such a length; a real array's is an integer from 0 to 2^32 - 1.
    if (!Number.isInteger(length) || length < 0 || length > 2 ** 32 - 1)
      fail(walk, `is an array whose length is ${describeValue(length)}`, 'Pass a plain array.')
    // Brackets and commas, counted before copying: `new Array(2 ** 32 - 1)` costs its caller
    // nothing, and is refused here before its copy costs a slot per hole.
    spend(walk, length === 0 ? 2 : length + 1)
    parents.push(object)
    const out = new Array<unknown>(length)
    // The item's index is on the path while it is read and copied: one slot, rewritten per item.
    const top = keys.push(0) - 1
    for (let i = 0; i < length; i++) {
      keys[top] = i
      const item: unknown = (object as unknown[])[i]
      const bytes = primitiveBytes(item)
      if (bytes >= 0) {
        spend(walk, bytes)
        out[i] = item
        continue
      }
      // JSON turns holes, undefined items and a toJSON() returning undefined into null; so does the copy.
      const copied = item === undefined ? undefined : copy(item, walk, true)
      if (copied === undefined) {
        spend(walk, 4)
        out[i] = null
      } else {
        out[i] = copied
      }
    }
    keys.pop()
    parents.pop()
    result = out
  } else {
    spend(walk, 2)
    result = copyObject(object as Record<string, unknown>, walk)
  }
  return result
}

/** The blanks copies of objects are made from (see {@link ArgsShapes}). */
const shapes = new ArgsShapes()

/**
 * Copies a data object (already checked): its own enumerable string-keyed properties, in
 * `Object.keys` order, all read first (as a spread reads them), then each value checked and
 * replaced by its copy. Symbol keys are not read: JSON leaves them out. The copy is compact when
 * its keys have a blank (see {@link ArgsShapes}), else built key by key.
 */
function copyObject(object: Record<string, unknown>, walk: Walk): Record<string, unknown> {
  // A known key list is found without the array `Object.keys` makes (see ArgsShapes.blankOf).
  const known = shapes.blankOf(object)
  const names = known === undefined ? Object.keys(object) : known.keys
  const blank = known === undefined ? shapes.blankFor(names) : known.blank
  // Speed trick (workload W3, enqueue): the key list is walked by index in the copy's two loops,
  // which V8 left as a call of the array iterator's `next` per key in `for...of`. The obvious
  // version is `for (const key of names)`.
  const count = names.length
  let out: Record<string, unknown>
  if (blank === undefined) {
    out = {}
    for (const key of names) {
      const value = object[key]
      // Assigning `__proto__` would set the copy's prototype; define it so it stays plain data.
      if (key === '__proto__') defineData(out, key, value)
      else out[key] = value
    }
  } else {
    // The blank's own `__proto__` data property (JSON.parse defines one) shadows the setter.
    out = { ...blank }
    for (let i = 0; i < count; i++) {
      const key = names[i]!
      out[key] = object[key]
    }
  }
  const { keys } = walk
  let isJsonShaped = true
  let isParent = false
  let written = 0
  for (let i = 0; i < count; i++) {
    const key = names[i]!
    const item = out[key]
    if (item === undefined) {
      isJsonShaped = false
      continue
    }
    // The key, its colon, and the comma before it unless it is the first.
    const keyBytes = jsonStringBytes(key) + (written === 0 ? 1 : 2)
    spend(walk, keyBytes)
    const bytes = primitiveBytes(item)
    if (bytes >= 0) {
      walk.left -= bytes
      if (walk.left < 0) {
        keys.push(key)
        overBudget(walk)
      }
      written++
      continue
    }
    // Speed trick (workload W3, enqueue): the object goes on the parents' stack (which finds
    // cycles) only before its first nested value is copied, so flat args (most of them) never
    // push and pop it. The obvious version pushes it before copying any of its values.
    if (!isParent) {
      walk.parents.push(object)
      isParent = true
    }
    keys.push(key)
    const copied = copy(item, walk, true)
    keys.pop()
    if (copied === undefined) {
      // A toJSON() returned undefined: JSON leaves the property out, and its key costs nothing.
      walk.left += keyBytes
      out[key] = undefined
      isJsonShaped = false
      continue
    }
    written++
    if (copied !== item) out[key] = copied
  }
  if (isParent) walk.parents.pop()
  // JSON leaves out undefined values; so does the copy (rare, so done apart).
  return isJsonShaped ? out : withoutNonJson(out)
}

/** Defines `key` on `object` as an enumerable, writable data property holding `value`. */
function defineData(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
}

type ToJSON = (this: unknown, key: string) => unknown

/** Copies what `toJSON` returns for `value`, called with the key as `JSON.stringify` calls it. */
function copyToJSON(value: unknown, toJSON: ToJSON, walk: Walk): unknown {
  const key = walk.keys.length === 0 ? '' : walk.keys[walk.keys.length - 1]
  const json = toJSON.call(value, String(key))
  return json === undefined ? undefined : copy(json, walk, false)
}

/** `object`'s string-keyed properties whose values are defined, as a new plain object. */
function withoutNonJson(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object)) {
    const value = object[key]
    if (value === undefined) continue
    // Assigning `__proto__` would set the copy's prototype; define it so it stays plain data.
    if (key === '__proto__') defineData(out, key, value)
    else out[key] = value
  }
  return out
}

/**
 * Refuses an object that is not data: accepted are plain objects, instances of a user's own
 * classes (not built-ins like Date or Map), and objects whose prototypes are plain objects
 * (`Object.create({ ... })`) as long as they inherit no enumerable property, which JSON would drop.
 */
function checkDataObject(object: object, walk: Walk): void {
  const proto: unknown = Object.getPrototypeOf(object)
  if (proto === null || proto === Object.prototype) return
  const tag = Object.prototype.toString.call(object)
  const constructor: unknown = (object as { constructor?: unknown }).constructor
  if (tag === '[object Object]') {
    // A class instance: accepted when its class is a plain user class, not a built-in one.
    if (typeof constructor === 'function' && !isNative(constructor)) return
    if (isPlainPrototype(proto)) {
      for (const key in object) {
        if (!Object.prototype.hasOwnProperty.call(object, key)) {
          fail(
            walk,
            `inherits \`${key}\` from its prototype (made with Object.create()), which JSON would leave out`,
            'Copy every property the job needs into a plain object, e.g. { ...Object.getPrototypeOf(value), ...value }.',
          )
        }
      }
      return
    }
  }
  const named: unknown = typeof constructor === 'function' ? (constructor as { name?: unknown }).name : undefined
  const kind = typeof named === 'string' && named !== '' ? named : 'object'
  fail(
    walk,
    `is a ${kind}`,
    kind === 'Date'
      ? 'Pass date.toISOString() and parse it in the job.'
      : `Convert the ${kind} to a plain object or array.`,
  )
}

/**
 * Whether `proto` and its own prototypes, up to `Object.prototype` or null, are plain objects
 * (none of them a class's or built-in's prototype, which would have its own `constructor`).
 */
function isPlainPrototype(proto: unknown): boolean {
  for (let level = 0; level < MAX_ARGS_DEPTH; level++) {
    if (proto === null || proto === Object.prototype) return true
    if (typeof proto !== 'object' || Object.prototype.hasOwnProperty.call(proto, 'constructor')) return false
    proto = Object.getPrototypeOf(proto)
  }
  return false
}

const nativeByClass = new WeakMap<object, boolean>()

function isNative(fn: object): boolean {
  let native = nativeByClass.get(fn)
  if (native === undefined) {
    native = /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn as () => unknown))
    nativeByClass.set(fn, native)
  }
  return native
}

/**
 * A deep copy of arguments that {@link copyJobArgs} already produced (plain objects, arrays and
 * primitives), for snapshots: the same result as `structuredClone` for such data, at a fraction
 * of its cost. Anything else falls back to `structuredClone`.
 */
export function cloneJobArgs<T>(args: T): T {
  return cloneData(args, 0) as T
}

function cloneData(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth > MAX_ARGS_DEPTH) return structuredClone(value)
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = cloneData(value[i], depth + 1)
    return out
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value)
  // Speed trick (workload W1, a copy per attempt): a spread copy takes the source's layout with
  // its values in place (an own `__proto__` key stays a plain data property), and only nested
  // objects are then replaced by their copies; `for...in` over it reads the layout's cached keys
  // where `Object.keys` makes an array per object. The obvious version builds the copy key by key
  // from `Object.keys(value)`. (Spread also copies symbol keys, which `copyJobArgs` never leaves.)
  const out: Record<string, unknown> = { ...value }
  for (const key in out) {
    const item = out[key]
    // Own keys only: an enumerable key someone put on Object.prototype is not the args'.
    if (item !== null && typeof item === 'object' && Object.prototype.hasOwnProperty.call(out, key))
      out[key] = cloneData(item, depth + 1)
  }
  return out
}
