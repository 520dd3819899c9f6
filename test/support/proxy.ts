import { once } from 'node:events'
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the test proxy treats each request it forwards. */
export interface ProxyOptions {
  /**
   * Keep the client's `Host` (nginx's `proxy_set_header Host $host`) instead of sending the
   * upstream's address, which is what nginx's bare `proxy_pass http://127.0.0.1:PORT` does.
   */
  readonly preserveHost?: boolean
  /** Headers the proxy adds to every forwarded request (e.g. `Via`). */
  readonly addHeaders?: Readonly<Record<string, string>>
}

/** A reverse proxy listening on loopback and its upstream's port. */
export interface TestProxy {
  /** The port the proxy listens on, on 127.0.0.1. */
  readonly port: number
  /** `http://127.0.0.1:<port>`: the origin a browser would see. */
  readonly origin: string
  close(): Promise<void>
}

/**
 * Starts an HTTP reverse proxy on 127.0.0.1 that forwards every request to
 * `127.0.0.1:upstreamPort`, as nginx configured with only `proxy_pass` does: from loopback, with
 * `Host` set to the upstream's address and no forwarding header (unless told otherwise).
 */
export async function startProxy(upstreamPort: number, options: ProxyOptions = {}): Promise<TestProxy> {
  const server: Server = http.createServer((req, res) => {
    const headers: OutgoingHttpHeaders = { ...req.headers, ...options.addHeaders }
    if (options.preserveHost !== true) headers['host'] = `127.0.0.1:${upstreamPort}`
    const upstream = http.request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => {
      res.writeHead(502).end()
    })
    req.pipe(upstream)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () => closeServer(server),
  }
}

/** Closes `server`, ending idle keep-alive connections so that the close does not wait for them. */
export async function closeServer(server: Server): Promise<void> {
  const closed = once(server, 'close')
  server.close()
  server.closeAllConnections()
  await closed
}

/** An answer read whole by {@link send}. */
export interface RawAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly text: string
}

/**
 * Sends one request to 127.0.0.1:`port` with exactly `headers` (a `Host` too, which `fetch`
 * would refuse to set), and reads the whole answer.
 */
export function send(
  port: number,
  request: { method?: string; path: string; headers?: OutgoingHttpHeaders; body?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path,
        headers: { connection: 'close', ...request.headers },
        setHost: request.headers?.['host'] === undefined,
      },
      (answer) => {
        let text = ''
        answer.setEncoding('utf8')
        answer.on('data', (chunk: string) => (text += chunk))
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, headers: answer.headers, text }))
        answer.on('error', reject)
      },
    )
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}
