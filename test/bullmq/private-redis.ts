import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { Redis } from 'ioredis'

/** Why no private redis-server can be started here (none on the PATH), or undefined. */
export function redisServerMissing(): string | undefined {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  return found.error === undefined && found.status === 0
    ? undefined
    : 'redis-server is not on the PATH (install the redis-server package) for a private Redis to stop and start'
}

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

/**
 * A redis-server of this test's own, on a free loopback port, without persistence, so that it can
 * be stopped and started again without touching the Redis other tests and engineers share. Always
 * {@link PrivateRedis.kill} it (in `after`).
 */
export class PrivateRedis {
  readonly port: number
  #process: ChildProcess | undefined

  private constructor(port: number) {
    this.port = port
  }

  /** Starts a private Redis on a free port and waits until it answers. */
  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort())
    await redis.restart()
    return redis
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    const child = this.#process
    return child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined
  }

  /** Starts the server (again) on the same port and waits until it answers PING. */
  async restart(): Promise<void> {
    if (this.pid !== undefined) throw new Error(`The private Redis on ${this.port} is already running.`)
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { stdio: 'ignore' },
    )
    this.#process = child
    const deadline = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${this.port} exited (${child.exitCode}).`)
      if (await this.#answers()) return
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not answer within 10 s.`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async #answers(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      return (await client.ping()) === 'PONG'
    } catch {
      return false
    } finally {
      client.disconnect()
    }
  }

  /** Kills the server by its PID (SIGKILL: Redis gone at once, as in a crash) and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.#process
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
}
