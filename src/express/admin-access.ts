import { BlockList, isIP } from 'node:net'
import type { Request } from 'express'
import { describeValue } from '../errors'

/**
 * Headers that only a proxy, load balancer or CDN adds: a request carrying one came through such a
 * hop, whatever its peer address. A proxy that adds none of them (nginx's bare `proxy_pass`) cannot
 * be told from a local client; see {@link loopbackDenial} for what covers that case.
 */
export const PROXY_HEADERS: readonly string[] = [
  'forwarded',
  'forwarded-for',
  'via',
  'x-forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-original-forwarded-for',
  'x-real-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-proxyuser-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'true-client-ip',
  'fastly-client-ip',
  'x-azure-clientip',
  'x-envoy-external-address',
  'x-appengine-user-ip',
]

const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
// BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 subnet.
loopback.addAddress('::1', 'ipv6')

/**
 * Whether `address` is a loopback IP address: 127.0.0.0/8, `::1`, or an IPv4-mapped
 * `::ffff:127.x.y.z`. Anything else, including host names, `undefined` and garbage, is not.
 */
export function isLoopbackAddress(address: unknown): boolean {
  if (typeof address !== 'string') return false
  const family = isIP(address)
  if (family === 4) return loopback.check(address, 'ipv4')
  if (family === 6) return loopback.check(address, 'ipv6')
  return false
}

/**
 * Why a request is not a direct loopback request, or undefined when it is one: the TCP peer is a
 * loopback address, the request carries none of the {@link PROXY_HEADERS}, and its `Host` header
 * is a well-formed `host[:port]` naming this machine (`localhost`, `*.localhost`, a loopback IP).
 */
export function loopbackDenial(req: Request): string | undefined {
  const fix =
    'Pass an `authorize` option to backgroundJobsAdminRouter(container, { authorize: (req) => ... }) to decide access yourself.'
  if (!isLoopbackAddress(req.socket?.remoteAddress)) {
    return `Access denied: without an \`authorize\` option the background-jobs admin only answers requests from this machine (127.0.0.1 or ::1). ${fix}`
  }
  const header = PROXY_HEADERS.find((name) => req.headers[name] !== undefined)
  if (header !== undefined) {
    return `Access denied: this request came through a proxy (it has a ${header} header), so its loopback address proves nothing. ${fix}`
  }
  if (!isLoopbackHost(req.headers.host)) {
    return `Access denied: the Host header ${describeValue(req.headers.host)} is not a loopback name and port; open the admin as localhost, 127.0.0.1 or [::1]. ${fix}`
  }
  return undefined
}

/**
 * Whether `request` is a direct request from this machine, by the checks the admin router applies
 * when it has no `authorize` option (see {@link loopbackDenial}). For an `authorize` that keeps the
 * loopback-only rule in production, knowing that a same-host reverse proxy which adds no header
 * makes every request look local: `authorize: (req) => isDirectLoopbackRequest(req)`.
 */
export function isDirectLoopbackRequest(request: Request): boolean {
  return loopbackDenial(request) === undefined
}

/** `host[:port]` of RFC 9110: a bracketed IPv6 literal or a name of letters, digits, `-` and `.`, and a decimal port. */
const HOST_HEADER = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/

/**
 * Parses a `Host` header strictly as `host[:port]`: undefined for anything else (user info,
 * fragments, paths, a non-numeric or out-of-range port, an empty name). The name is lower-cased,
 * without a trailing dot.
 */
export function parseHostHeader(
  host: unknown,
): { readonly name: string; readonly port: number | undefined } | undefined {
  if (typeof host !== 'string') return undefined
  const match = HOST_HEADER.exec(host)
  if (match === null) return undefined
  const [, ipv6, name, portText] = match
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && port > 65535) return undefined
  if (ipv6 !== undefined) return isIP(ipv6) === 6 ? { name: ipv6.toLowerCase(), port } : undefined
  const lower = (name ?? '').toLowerCase()
  if (lower.startsWith('.') || lower.includes('..')) return undefined
  const trimmed = lower.endsWith('.') ? lower.slice(0, -1) : lower
  if (trimmed === '') return undefined
  return { name: trimmed, port }
}

/** Whether a Host header names this machine: localhost, *.localhost, or a loopback IP (with any port). */
function isLoopbackHost(host: string | undefined): boolean {
  const parsed = parseHostHeader(host)
  if (parsed === undefined) return false
  const { name } = parsed
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name)
}
