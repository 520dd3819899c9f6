/**
 * The names under which `addBackgroundJobs` registers things in the container. The two an
 * application uses keep their plain names (`backgroundJobManager`, and `logger`, which an
 * application may register first to use its own); internal parts carry a `backgroundJobs:` prefix,
 * which no registration of an application's own (a camelCase name, for injection) collides with.
 */
export const REGISTRATIONS = {
  /** The {@link BackgroundJobManager}: resolve it by this name, or use `req.backgroundJobs`. */
  manager: 'backgroundJobManager',
  /** The logger the engine and jobs receive. */
  logger: 'logger',
  // The rest are the kit's own parts, for its tests and for inspection.
  engine: 'backgroundJobs:engine',
  registry: 'backgroundJobs:registry',
  policy: 'backgroundJobs:policy',
  /** The memory engine's job store. */
  memoryStore: 'backgroundJobs:memory:store',
  /** The memory engine's timer wheel. */
  memoryTimerWheel: 'backgroundJobs:memory:timerWheel',
} as const

/** @internal The registration of the job class named `jobName`. */
export function jobRegistration(jobName: string): string {
  return `backgroundJobs:job:${jobName}`
}
