import { BlockList, isIP } from 'node:net'
import type { Request } from 'express'
import { describeValue } from '../errors'

/** Headers a proxy adds; a request carrying one came through a proxy, whatever its peer address. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip']

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

/** Why a request is not a direct loopback request, or undefined when it is one. */
export function loopbackDenial(req: Request): string | undefined {
  const fix =
    'Pass an `authorize` option to backgroundJobsAdminRouter(container, { authorize: (req) => ... }) to decide access yourself.'
  if (!isLoopbackAddress(req.socket?.remoteAddress)) {
    return `Access denied: without an \`authorize\` option the background-jobs admin only answers requests from this machine (127.0.0.1 or ::1). ${fix}`
  }
  if (FORWARDING_HEADERS.some((header) => req.headers[header] !== undefined)) {
    return `Access denied: this request came through a proxy (it has a Forwarded or X-Forwarded-* header), so its loopback address proves nothing. ${fix}`
  }
  if (!isLoopbackHost(req.headers.host)) {
    return `Access denied: the Host header ${describeValue(req.headers.host)} is not a loopback name; open the admin as localhost, 127.0.0.1 or [::1]. ${fix}`
  }
  return undefined
}

/** Whether a Host header names this machine: localhost, *.localhost, or a loopback IP (with any port). */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false
  let name: string
  if (host.startsWith('[')) {
    const end = host.indexOf(']')
    if (end === -1) return false
    name = host.slice(1, end)
  } else {
    const colon = host.lastIndexOf(':')
    name = colon === -1 ? host : host.slice(0, colon)
  }
  name = name.toLowerCase()
  if (name.endsWith('.')) name = name.slice(0, -1)
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name)
}
