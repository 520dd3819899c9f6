import { attemptsContract } from './attempts.contract'
import { bulkContract } from './bulk.contract'
import { concurrencyContract } from './concurrency.contract'
import { enqueueContract } from './enqueue.contract'
import { eventsContract } from './events.contract'
import type { Contract } from './fixture'
import { jobControlContract } from './job-control.contract'
import { jobPolicyContract } from './job-policy.contract'
import { listingContract } from './listing.contract'
import { progressContract } from './progress.contract'
import { retentionContract } from './retention.contract'
import { retriesContract } from './retries.contract'
import { schedulesContract } from './schedules.contract'
import { stopContract } from './stop.contract'
import { timeoutsContract } from './timeouts.contract'
import { unknownJobContract } from './unknown-job.contract'
import { waitersContract } from './waiters.contract'

/** Every contract of the suite, in the order they run: what each engine fixture is run through. */
export const CONTRACTS: readonly Contract[] = [
  enqueueContract,
  bulkContract,
  attemptsContract,
  retriesContract,
  progressContract,
  jobPolicyContract,
  timeoutsContract,
  unknownJobContract,
  concurrencyContract,
  jobControlContract,
  listingContract,
  retentionContract,
  schedulesContract,
  eventsContract,
  waitersContract,
  stopContract,
]
