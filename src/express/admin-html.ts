import { formatAbsolute, formatRelative } from './admin-page-format'

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/**
 * Escapes text for HTML element content and for double- or single-quoted attribute values:
 * `&`, `<`, `>`, `"` and `'` become character references. Safe for any string.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char)
}

/** A `<time>` showing `at` relative to `now`, the absolute UTC time in its tooltip; '' without a time. */
export function timeElement(at: number | undefined, now: number): string {
  if (at === undefined) return ''
  const iso = new Date(at).toISOString()
  return `<time datetime="${escapeHtml(iso)}" title="${escapeHtml(formatAbsolute(at))}">${escapeHtml(formatRelative(at, now))}</time>`
}

/** A relative `?query` href from the given parameters, leaving out undefined and empty ones. */
export function queryHref(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value))
  }
  return `?${search.toString()}`
}
