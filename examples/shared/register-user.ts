import { asValue, createContainer, type AwilixContainer } from 'awilix'
import {
  BackgroundJobBase,
  addBackgroundJobs,
  type JobContext,
  type JobLogger,
  type MemoryStoreOptions,
} from 'express-background-jobs'

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

/** Options for tests: a logger to capture output and store options (e.g. a manual clock). */
export interface ExampleOptions {
  readonly logger?: JobLogger
  readonly store?: MemoryStoreOptions
}

/** MASA's step 1: a container with the background-job service, the in-memory store and the job. */
export function createJobsContainer(options: ExampleOptions = {}): AwilixContainer {
  const container = createContainer()
  if (options.logger !== undefined) container.register('logger', asValue(options.logger))
  addBackgroundJobs(container, (o) => o.useInMemoryStore(options.store).addJob(RegisterUserBackgroundJob))
  return container
}
