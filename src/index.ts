export { BackgroundJobBase } from './background-job-base'
export type { BackgroundJobDependencies, JobArgsOf, JobClass } from './background-job-base'
export type { BackgroundJobEngine, JobHandler, JobHandlerSource, NewJob, NewSchedule } from './background-job-engine'
export { BackgroundJobManager } from './background-job-manager'
export type { ScheduleDefinition } from './background-job-manager'
export { BackgroundJobs } from './background-jobs'
export { ManualClock, systemClock } from './clock'
export type { Clock, ClockTimer } from './clock'
export { TimerNode, TimerWheel } from './engine/timer-wheel'
export type { TimerWheelOptions } from './engine/timer-wheel'
export {
  BackgroundJobError,
  BackgroundJobsNotBuiltError,
  DuplicateJobError,
  InvalidEnqueueOptionsError,
  InvalidJobArgsError,
  InvalidJobClassError,
  InvalidOptionError,
  InvalidScheduleError,
  JobNotFoundError,
  JobNotRegisteredError,
  JobStateError,
  JobTimeoutError,
  ManagerStoppedError,
  PendingJobsLimitError,
  RouteConventionError,
  UnknownJobError,
} from './errors'
export { mapServices } from './express/map-services'
export type { MapServicesOptions, MappedRoute } from './express/map-services'
export { backgroundJobsAdminRouter, isLoopbackAddress } from './express/admin-router'
export type { AdminRouterOptions } from './express/admin-router'
export { backgroundJobsMiddleware, stopWithServer } from './express/middleware'
export { ROUTE_CONVENTION_DEFAULTS, getServiceRoutes } from './express/route-conventions'
export type { RouteConventionOptions, RouteMethod, ServiceClass, ServiceRoute, ServiceRouteOptions } from './express/route-conventions'
export { ServiceBase } from './express/service-base'
export type { JobEventListener } from './job-events'
export { createDefaultLogger } from './logger'
export type { JobLogger } from './logger'
export { DEFAULT_MEMORY_STORE_OPTIONS, DEFAULT_RETRY } from './options'
export type { MemoryStoreOptions } from './options'
export { BackgroundJobsBuilder, REGISTRATIONS, addBackgroundJobs } from './register'
export { JOB_STATES, JobStates } from './types'
export type {
  EnqueueOptions,
  JobContext,
  JobCounts,
  JobErrorInfo,
  JobEventName,
  JobEvents,
  JobInfo,
  JobPage,
  JobState,
  ListJobsQuery,
  RetryOptions,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from './types'
