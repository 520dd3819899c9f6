/**
 * The B5 server, spawned by the B5 coordinator: `node bench/.build/bench/bullmq-http-server.js
 * '<params JSON>'`. Express with `backgroundJobsMiddleware` on the kit's BullMQ engine (an
 * enqueue-only process, `worker: false`, as a web tier in front of worker processes is), and three
 * routes: W4's `/plain` and `/enqueue` (`req.backgroundJobs.enqueue`), and `/raw`, the same
 * handler adding the job with a plain BullMQ `Queue`. It listens on 127.0.0.1 and prints its port;
 * on SIGTERM it closes everything and lets the process end.
 */
import type { AddressInfo } from 'node:net'
import { Queue } from 'bullmq'
import express from 'express'
import { backgroundJobsMiddleware } from '../src/index'
import { createBullmqKit } from './bullmq-kit'
import { B5_ROUTES, RAW_HTTP_QUEUE, type HttpServerParams } from './bullmq-http'
import { benchConnection, rawJobOptions } from './bullmq-support'
import { NoopJob, type BenchArgs } from './support'
import { READY_PREFIX } from './http-load'

async function main(): Promise<void> {
  const { prefix } = JSON.parse(process.argv[2] ?? '{}') as HttpServerParams
  const kit = createBullmqKit([NoopJob], { prefix, worker: false })
  const queue = new Queue<BenchArgs>(RAW_HTTP_QUEUE, { connection: benchConnection(), prefix })
  await Promise.all([queue.waitUntilReady(), kit.manager.counts()])
  const app = express()
  app.use(backgroundJobsMiddleware(kit.container))
  let i = 0
  app.get(B5_ROUTES.plain, async (_req, res) => {
    res.json({ ok: true })
  })
  app.get(B5_ROUTES.enqueue, async (req, res) => {
    await req.backgroundJobs.enqueue(NoopJob, { i: i++ })
    res.json({ ok: true })
  })
  app.get(B5_ROUTES.raw, async (_req, res) => {
    await queue.add('NoopJob', { i: i++ }, rawJobOptions())
    res.json({ ok: true })
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve)
    server.once('error', reject)
  })
  process.stdout.write(`${READY_PREFIX}${(server.address() as AddressInfo).port}\n`)
  process.once('SIGTERM', () => {
    server.close()
    server.closeAllConnections()
    Promise.all([queue.close(), kit.dispose()]).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exitCode = 1
    })
  })
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
