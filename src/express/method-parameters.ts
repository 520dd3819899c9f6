/** A parameter name: what the route binder matches against `id`, `req`, query and body keys. */
const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*/u

/** One parameter of a function, as read from its source text by {@link parseParameters}. */
export interface ParameterInfo {
  /** The parameter's name, or `undefined` for a destructuring pattern (`{ a, b }`, `[a, b]`). */
  readonly name: string | undefined
  /** Whether the parameter declares a default value (`id = 0`). */
  readonly hasDefault: boolean
  /** Whether it is a rest parameter (`...items`). */
  readonly isRest: boolean
}

/**
 * Reads a function's parameters from `Function.prototype.toString()`: plain, async and generator
 * functions, methods (including computed names), arrow functions with or without parentheses.
 * Comments are ignored; default values are detected, not evaluated; a destructuring pattern has no
 * name. Native and bound functions report no parameters.
 *
 * Limits: a regular-expression literal or a template literal with a nested template inside a
 * default value can confuse the scanner, and a minifier that renames parameters breaks the names.
 */
export function parseParameters(fn: (...args: never) => unknown): ParameterInfo[] {
  const source = blankCommentsAndStrings(Function.prototype.toString.call(fn))
  const arrow = /^\s*(?:async\s+)?([\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*)\s*=>/u.exec(source)
  if (arrow?.[1] !== undefined) return [{ name: arrow[1], hasDefault: false, isRest: false }]
  const open = findParameterListStart(source)
  if (open < 0) return []
  const pieces: string[] = []
  let depth = 0
  let start = open + 1
  for (let i = open + 1; i < source.length; i++) {
    const char = source[i]
    if (char === '(' || char === '[' || char === '{') depth++
    else if (char === ')' || char === ']' || char === '}') {
      if (depth === 0) {
        pieces.push(source.slice(start, i))
        break
      }
      depth--
    } else if (char === ',' && depth === 0) {
      pieces.push(source.slice(start, i))
      start = i + 1
    }
  }
  return pieces
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '')
    .map(toParameterInfo)
}

function toParameterInfo(piece: string): ParameterInfo {
  const isRest = piece.startsWith('...')
  const text = isRest ? piece.slice(3).trimStart() : piece
  const name = IDENTIFIER.exec(text)?.[0]
  if (name !== undefined) return { name, hasDefault: text.slice(name.length).trimStart().startsWith('='), isRest }
  // A destructuring pattern: a default follows the pattern's closing bracket at depth 0.
  let depth = 0
  let hasDefault = false
  for (const char of text) {
    if (char === '(' || char === '[' || char === '{') depth++
    else if (char === ')' || char === ']' || char === '}') depth--
    else if (char === '=' && depth === 0) {
      hasDefault = true
      break
    }
  }
  return { name: undefined, hasDefault, isRest }
}

/** The index of the `(` that opens the parameter list, skipping a computed method name `[...]`. */
function findParameterListStart(source: string): number {
  let brackets = 0
  for (let i = 0; i < source.length; i++) {
    const char = source[i]
    if (char === '[') brackets++
    else if (char === ']') brackets--
    else if (char === '(' && brackets === 0) return i
    else if (char === '{' && brackets === 0) return -1
  }
  return -1
}

/** Replaces comments with a space and the contents of string and template literals with nothing. */
function blankCommentsAndStrings(source: string): string {
  let out = ''
  let i = 0
  while (i < source.length) {
    const char = source[i]
    const next = source[i + 1]
    if (char === '/' && next === '/') {
      const end = source.indexOf('\n', i)
      i = end < 0 ? source.length : end
      out += ' '
    } else if (char === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2)
      i = end < 0 ? source.length : end + 2
      out += ' '
    } else if (char === '"' || char === "'" || char === '`') {
      let j = i + 1
      while (j < source.length && source[j] !== char) j += source[j] === '\\' ? 2 : 1
      out += `${char}${char}`
      i = j + 1
    } else {
      out += char
      i++
    }
  }
  return out
}
