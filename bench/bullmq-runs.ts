/**
 * The BullMQ workloads' variants, by workload id and variant, as the bench child runs them. Loaded
 * by the child only for a `b*` workload, so W1–W4 children never load bullmq or ioredis.
 */
import { delayedBullmqKit, delayedRaw } from './bullmq-delayed'
import { enqueueKit, enqueueRaw } from './bullmq-enqueue'
import { httpRun } from './bullmq-http'
import { processesKit, processesRaw } from './bullmq-processes'
import { throughputKit, throughputRaw } from './bullmq-throughput'

type Run = (params: never) => Promise<Record<string, number>>

/** `b1` … `b5`: `raw` is plain BullMQ, `kit` the kit on `bullmqEngine`; `b5` runs both in one `http` run. */
export const BULLMQ_RUNS: Record<string, Record<string, Run>> = {
  b1: { raw: throughputRaw, kit: throughputKit },
  b2: { raw: enqueueRaw, kit: enqueueKit },
  b3: { raw: delayedRaw, kit: delayedBullmqKit },
  b4: { raw: processesRaw, kit: processesKit },
  b5: { http: httpRun },
}
