/** Objects with more keys than this are copied key by key: their layout matters less. */
const MAX_SHAPE_KEYS = 32
/** Keys longer than this keep an object out of the cache, so that it cannot hold large strings. */
const MAX_KEY_LENGTH = 64
/** Past this many key lists the cache starts over, so that objects with made-up keys cannot grow it. */
const MAX_SHAPES = 256

/** One key list seen, and its blank once the list was seen a second time. */
interface Shape {
  readonly keys: readonly string[]
  blank: object | undefined
}

/**
 * Speed trick (workload W3, enqueue): blank objects for the key lists that args objects come
 * with, so that `copyJobArgs` makes a compact copy without symbol keys in one step. The obvious
 * version copies an object with a spread, `{ ...object }`, which takes V8's compact layout from
 * its source (`{ i }` in 32 bytes), and then asks `Object.getOwnPropertySymbols(copy)` whether it
 * must drop any symbol keys (JSON leaves them out): that question alone was half the copy of
 * `{ i }`. A copy built key by key into `{}` needs no such question, but takes 56 bytes for `{ i }`
 * (V8 gives an object literal room for four properties), on every pending job. So a copy spreads
 * a blank of the same keys, whose values are null, made once with `JSON.parse` (which sizes an
 * object for exactly its keys), and then assigns the values read from the source.
 *
 * A key list gets its blank when it is seen the second time with the same first key, so objects
 * whose keys are made up (ids as keys) cost a lookup, not a blank each.
 */
export class ArgsShapes {
  readonly #byFirstKey = new Map<string, Shape>()
  /** The shape {@link ArgsShapes.blankOf} found last, asked first: args come in runs of one shape. */
  #last: Shape | undefined = undefined

  /**
   * A blank object whose own keys are `keys`, in that order, each holding null (spread it to get
   * a fresh one); undefined when the copy is to be built key by key. `keys` is an array of own
   * enumerable string keys, as `Object.keys` returns them; it is kept, so it must not change.
   */
  blankFor(keys: readonly string[]): object | undefined {
    const count = keys.length
    if (count === 0 || count > MAX_SHAPE_KEYS) return undefined
    const first = keys[0]!
    const shape = this.#byFirstKey.get(first)
    if (shape !== undefined && isSameList(shape.keys, keys)) return (shape.blank ??= blankOf(keys))
    if (!isCacheable(keys)) return undefined
    if (this.#byFirstKey.size >= MAX_SHAPES) {
      this.#byFirstKey.clear()
      this.#last = undefined
    }
    this.#byFirstKey.set(first, { keys, blank: undefined })
    return undefined
  }

  /**
   * The blank of the key list that is exactly `object`'s own enumerable string keys, in their
   * order, with that list; undefined when no such list has a blank yet (then ask
   * {@link ArgsShapes.blankFor} with `Object.keys(object)`, which also notes a first sighting).
   *
   * Speed trick (workload W3, enqueue): the keys are read with `for...in`, which walks V8's
   * cached key list of the object's layout in place, where `Object.keys` makes an array (and a
   * copy of that list) per object: garbage on every enqueue, most of what copying `{ i }`
   * allocated besides the copy itself. Only own keys count: `for...in` also yields enumerable
   * inherited ones (after the own ones), which are skipped. No value is read (no getter runs);
   * a proxy's traps are asked what `for...in` asks (its keys, their descriptors, its prototype),
   * and `Object.keys` after it when no blank fits. The obvious version is
   * `blankFor(Object.keys(object))`.
   */
  blankOf(object: object): { readonly keys: readonly string[]; readonly blank: object } | undefined {
    let shape: Shape | undefined
    let count = 0
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue
      if (count === 0) {
        const last = this.#last
        shape = last !== undefined && last.keys[0] === key ? last : this.#byFirstKey.get(key)
        if (shape === undefined || shape.blank === undefined) return undefined
      }
      if (shape!.keys[count] !== key) return undefined
      count++
    }
    if (shape === undefined || count !== shape.keys.length) return undefined
    this.#last = shape
    return shape as { readonly keys: readonly string[]; readonly blank: object }
  }

  /** Key lists held, for tests. */
  get size(): number {
    return this.#byFirstKey.size
  }
}

function isSameList(a: readonly string[], b: readonly string[]): boolean {
  const count = a.length
  if (count !== b.length) return false
  for (let i = 0; i < count; i++) if (a[i] !== b[i]) return false
  return true
}

function isCacheable(keys: readonly string[]): boolean {
  for (const key of keys) if (key.length > MAX_KEY_LENGTH) return false
  return true
}

/** An object with exactly `keys` as own data properties, each null; `__proto__` too, as JSON.parse makes it. */
function blankOf(keys: readonly string[]): object {
  let text = '{'
  for (let i = 0; i < keys.length; i++) text += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:null`
  return JSON.parse(`${text}}`) as object
}
