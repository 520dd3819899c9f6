/**
 * One workload run in a fresh process, compiled by `tsc -p tsconfig.bench.json`: `node --expose-gc
 * bench/.build/bench/child.js <workload> <variant> '<params JSON>'`. It prints its figures on one
 * `BENCH_RESULT` line and then returns without calling process.exit, so the parent also sees
 * whether it exits by itself.
 */
import { report } from './support'
import { handOverKit, handOverMicrotask, handOverPQueue, handOverSetTimeout } from './w1-hand-over'
import { immediateKit, immediateMicrotask, immediatePQueue } from './w1-immediate'
import { delayedKit, delayedSetTimeout } from './w2-delayed'
import { pendingKit, pendingKitBulk, pendingPQueue, pendingSetTimeout, pendingToad } from './w3-pending'

type Run = (params: never) => Promise<Record<string, number>>

const RUNS: Record<string, Record<string, Run>> = {
  w1: { microtask: immediateMicrotask, 'p-queue': immediatePQueue, kit: immediateKit },
  w1h: {
    setTimeout: handOverSetTimeout,
    microtask: handOverMicrotask,
    'p-queue': handOverPQueue,
    kit: handOverKit,
  },
  w2: { setTimeout: delayedSetTimeout, kit: delayedKit },
  w3: {
    setTimeout: pendingSetTimeout,
    'p-queue': pendingPQueue,
    'toad-scheduler': pendingToad,
    kit: pendingKit,
    'kit-bulk': pendingKitBulk,
  },
}

async function main(): Promise<void> {
  const [workload = '', variant = '', params = '{}'] = process.argv.slice(2)
  // The W4 server loads express, the BullMQ workloads bullmq and ioredis; the others never do.
  if (workload === 'w4') {
    await (await import('./w4-http')).serveHttp()
    return
  }
  const runs = workload.startsWith('b') ? (await import('./bullmq-runs')).BULLMQ_RUNS : RUNS
  const run = runs[workload]?.[variant]
  if (run === undefined)
    throw new Error(`Unknown workload ${JSON.stringify(workload)} / variant ${JSON.stringify(variant)}.`)
  report(await run(JSON.parse(params) as never))
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
})
