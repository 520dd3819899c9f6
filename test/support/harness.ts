import { asValue, createContainer, type AwilixContainer } from 'awilix'
import {
  ManualClock,
  addBackgroundJobs,
  type BackgroundJobManager,
  type BackgroundJobsBuilder,
  type JobLogger,
  type MemoryStoreOptions,
} from 'express-background-jobs'

/** One captured log entry. */
export interface LogEntry {
  level: keyof JobLogger
  message: string
  meta?: Record<string, unknown>
}

/** A logger that keeps what it is given, for assertions. */
export class CapturingLogger implements JobLogger {
  readonly entries: LogEntry[] = []
  error(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, ...(meta && { meta }) })
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, ...(meta && { meta }) })
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'info', message, ...(meta && { meta }) })
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.entries.push({ level: 'debug', message, ...(meta && { meta }) })
  }
  messages(level: keyof JobLogger): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message)
  }
}

/** A container with the background-job service on a manual clock and a capturing logger. */
export interface Harness {
  container: AwilixContainer
  manager: BackgroundJobManager
  clock: ManualClock
  logger: CapturingLogger
  /** Lets `ms` pass on the manual clock, then lets promise callbacks run. */
  tick(this: void, ms?: number): Promise<void>
}

/** Lets queued microtasks and one macrotask turn run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function createHarness(
  configure: (o: BackgroundJobsBuilder) => void = () => {},
  options: MemoryStoreOptions = {},
): Harness {
  const clock = new ManualClock()
  const logger = new CapturingLogger()
  const container = createContainer()
  container.register('logger', asValue(logger))
  addBackgroundJobs(container, (o) => {
    o.useInMemoryStore({ clock, ...options })
    configure(o)
  })
  const manager = container.resolve<BackgroundJobManager>('backgroundJobManager')
  return {
    container,
    manager,
    clock,
    logger,
    async tick(ms = 0) {
      await flush()
      clock.advance(ms)
      await flush()
    },
  }
}
