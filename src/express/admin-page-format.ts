/**
 * Text formatting of the admin page, done on the server so the page reads the same without
 * script: relative times (with the absolute time for a tooltip), durations, and JSON.
 */

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** A duration in ms as people read it: `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return ''
  const value = Math.max(0, ms)
  if (value < SECOND) return `${Math.round(value)} ms`
  if (value < 10 * SECOND) return `${(value / SECOND).toFixed(1)} s`
  if (value < MINUTE) return `${Math.floor(value / SECOND)} s`
  if (value < HOUR) return pair(value, MINUTE, 'min', SECOND, 's')
  if (value < DAY) return pair(value, HOUR, 'h', MINUTE, 'min')
  return pair(value, DAY, 'd', HOUR, 'h')
}

function pair(value: number, big: number, bigUnit: string, small: number, smallUnit: string): string {
  const whole = Math.floor(value / big)
  const rest = Math.floor((value - whole * big) / small)
  return rest === 0 ? `${whole} ${bigUnit}` : `${whole} ${bigUnit} ${rest} ${smallUnit}`
}

/** `at` relative to `now`: `in 5 min`, `3 s ago`, `just now`. */
export function formatRelative(at: number, now: number): string {
  const delta = at - now
  if (Math.abs(delta) < SECOND) return 'just now'
  const distance = Math.abs(delta)
  // Whole seconds below ten: "3 s ago" reads better than "3.4 s ago" for a moment in time.
  const text = distance < 10 * SECOND ? `${Math.round(distance / SECOND)} s` : formatDuration(distance)
  return delta > 0 ? `in ${text}` : `${text} ago`
}

/** The absolute time in UTC, to the second: `2030-01-01 12:00:05 UTC`. */
export function formatAbsolute(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** A date's ms since the epoch, or undefined for a missing or invalid date (also from JSON text). */
export function timeOf(date: Date | string | undefined): number | undefined {
  if (date === undefined) return undefined
  const ms = date instanceof Date ? date.getTime() : Date.parse(date)
  return Number.isNaN(ms) ? undefined : ms
}

/** JSON text of `value`, indented when `indent` > 0; '' when it is not JSON data. */
export function toJson(value: unknown, indent = 0): string {
  try {
    return JSON.stringify(value, null, indent) ?? ''
  } catch {
    return ''
  }
}

/**
 * Escaped compact JSON (`escaped`, already HTML) with a line-break opportunity (`<wbr>`) after each
 * comma and colon. Compact JSON has no spaces, so a narrow cell would otherwise break it inside a
 * key or a value; with these, `overflow-wrap: anywhere` splits a token only when it is longer than
 * the line.
 */
export function breakableJson(escaped: string): string {
  return escaped.replace(/[,:]/g, '$&<wbr>')
}

/** `text` cut to `max` characters, ending in `…` when cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}\u2026` : text
}
