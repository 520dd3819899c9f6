// What an engine author needs (`express-background-jobs/engine`): the engine interface and its
// types, and the policy every engine applies the same way (backoff, the stored error shape).
export { MEMORY_CAPABILITIES } from './background-job-engine'
export type {
  BackgroundJobEngine,
  EngineCapabilities,
  EngineContext,
  EngineFactory,
  JobHandler,
  JobHandlerSource,
  NewJob,
  NewJobBatch,
  NewSchedule,
} from './background-job-engine'
export { ManualClock, systemClock } from './clock'
export type { Clock, ClockTimer } from './clock'
export { JobEventHub } from './job-events'
export type { JobEventListener } from './job-events'
export type { JobLogger } from './logger'
export { CronSchedule } from './policy/cron-schedule'
export { describeThrown, toErrorInfo } from './policy/error-info'
export type { JobPolicy, JobPolicyOptions } from './policy/job-policy'
export { DEFAULT_RETRY, backoffDelay } from './policy/retry-policy'
export type { ResolvedRetryOptions } from './policy/retry-policy'
export type {
  CancelManyResult,
  JobContext,
  JobCounts,
  JobErrorInfo,
  JobEventName,
  JobEventOptions,
  JobEventScope,
  JobEvents,
  JobInfo,
  JobPage,
  JobState,
  ListJobsQuery,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from './types'
