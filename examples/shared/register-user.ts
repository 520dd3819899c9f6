import { asValue, createContainer, type AwilixContainer } from 'awilix'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  type JobContext,
  type JobLogger,
  type MemoryStoreOptions,
} from 'express-background-jobs'
import { bullmqEngine, type BullmqEngineOptions } from 'express-background-jobs/bullmq'

/** The job's arguments: a plain class, like MASA's `RegisterUserDto`. */
export class RegisterUserDto {
  name!: string

  constructor(name: string) {
    this.name = name
  }
}

/** MASA's `RegisterUserBackgroundJob`: logs the account it registers. */
export class RegisterUserBackgroundJob extends BackgroundJobBase<RegisterUserDto> {
  // Lets enqueue(new RegisterUserDto(...)) find this job from the args' class, as MASA does.
  static override argsType = RegisterUserDto

  protected override async executing(args: RegisterUserDto, context: JobContext): Promise<void> {
    this.logger.info(`Execute registered account: ${args.name}`, { jobId: context.jobId })
  }
}

/**
 * Options for tests and main.ts: a logger to capture output, and the engine: the in-memory store
 * (with `store` options, e.g. a manual clock) unless `bullmq` options are given.
 */
export interface ExampleOptions {
  readonly logger?: JobLogger
  readonly store?: MemoryStoreOptions
  /** Run on BullMQ (Redis) with these options instead of the in-memory store. */
  readonly bullmq?: BullmqEngineOptions
}

/**
 * The engine main.ts runs on: BullMQ when `REDIS_URL` is set (its queue shared by every process of
 * the example that uses the same Redis; `BULLMQ_PREFIX` gives its keys another prefix), else the
 * in-memory store.
 */
export function engineFromEnvironment(env: NodeJS.ProcessEnv = process.env): ExampleOptions {
  const url = env.REDIS_URL
  if (url === undefined || url === '') return {}
  return { bullmq: { connection: url, ...(env.BULLMQ_PREFIX !== undefined && { prefix: env.BULLMQ_PREFIX }) } }
}

/** MASA's step 1: a container with the background-job service, its engine and the job. */
export function createJobsContainer(options: ExampleOptions = {}): AwilixContainer {
  const container = createContainer()
  if (options.logger !== undefined) container.register('logger', asValue(options.logger))
  addBackgroundJobs(container, (o) =>
    (options.bullmq !== undefined
      ? o.useEngine(bullmqEngine(options.bullmq))
      : o.useInMemoryStore(options.store)
    ).addJob(RegisterUserBackgroundJob),
  )
  return container
}
