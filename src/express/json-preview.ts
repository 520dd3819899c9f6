/** A bounded rendering of a value as JSON: {@link previewJson}. */
export interface JsonPreview {
  /** The JSON text, whole when `isComplete`, else its first characters followed by `…`. */
  readonly text: string
  /** Whether `text` is the value's whole JSON. */
  readonly isComplete: boolean
}

/** Thrown inside {@link previewJson} once the budget is spent; never escapes it. Made once: no stack per throw. */
const FULL = new Error('The JSON preview is full')

/** Deeper values are shown as `…`: the kit's args are at most 64 levels deep anyway. */
const MAX_DEPTH = 100

/**
 * Renders `value` as `JSON.stringify` would, but stops after `maxChars` characters, so its cost is
 * bounded by `maxChars` (and the nesting depth), not by the size of the value: a list of a thousand
 * jobs whose args are close to 1 MiB each costs a few kilobytes per job instead of a gigabyte of
 * string building. `toJSON()` is honoured, keys holding `undefined`, functions or symbols are left
 * out, and in arrays they are `null`, as in JSON.
 *
 * @throws TypeError when the value is not JSON data (a bigint, a cycle), as `JSON.stringify` does
 */
export function previewJson(value: unknown, maxChars: number): JsonPreview {
  const parts: string[] = []
  let length = 0
  const ancestors = new Set<object>()

  const write = (text: string): void => {
    const room = maxChars - length
    if (text.length > room) {
      parts.push(text.slice(0, room))
      length = maxChars
      throw FULL
    }
    parts.push(text)
    length += text.length
  }

  const writeString = (text: string): void => {
    // Only as much of a long string as could still fit is encoded (an escape is at most 6 characters).
    const room = maxChars - length
    write(JSON.stringify(text.length > room ? text.slice(0, room) : text))
  }

  /** Writes `item`, or returns false when JSON leaves it out (undefined, a function, a symbol). */
  const writeValue = (item: unknown, depth: number): boolean => writeResolved(toJsonValue(item), depth)

  /** {@link writeValue} for a value whose `toJSON()` was already called. */
  const writeResolved = (data: unknown, depth: number): boolean => {
    switch (typeof data) {
      case 'string':
        writeString(data)
        return true
      case 'number':
        write(Number.isFinite(data) ? String(data) : 'null')
        return true
      case 'boolean':
        write(data ? 'true' : 'false')
        return true
      case 'bigint':
        throw new TypeError('Do not know how to serialize a BigInt')
      case 'undefined':
      case 'function':
      case 'symbol':
        return false
    }
    if (data === null) {
      write('null')
      return true
    }
    if (depth >= MAX_DEPTH) {
      write('…')
      throw FULL
    }
    const object = data as object
    if (ancestors.has(object)) throw new TypeError('Converting circular structure to JSON')
    ancestors.add(object)
    if (Array.isArray(object)) {
      write('[')
      for (let i = 0; i < object.length; i++) {
        if (i > 0) write(',')
        if (!writeValue(object[i], depth + 1)) write('null')
      }
      write(']')
    } else {
      write('{')
      let first = true
      for (const key in object) {
        if (!Object.hasOwn(object, key)) continue
        const field = toJsonValue((object as Record<string, unknown>)[key])
        if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue
        write(first ? JSON.stringify(key) : `,${JSON.stringify(key)}`)
        write(':')
        first = false
        writeResolved(field, depth + 1)
      }
      write('}')
    }
    ancestors.delete(object)
    return true
  }

  try {
    if (!writeValue(value, 0)) return { text: '', isComplete: true }
  } catch (error) {
    if (error !== FULL) throw error
    return { text: `${parts.join('')}…`, isComplete: false }
  }
  return { text: parts.join(''), isComplete: true }
}

/** What JSON encodes in place of `value`: the result of its `toJSON()`, when it has one. */
function toJsonValue(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON: () => unknown }).toJSON()
  }
  return value
}
