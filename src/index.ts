// The user's surface of express-background-jobs. What an engine author needs is in './engine'
// (`express-background-jobs/engine`).
export { BackgroundJobBase } from './background-job-base'
export type { ArgsInstance, BackgroundJobDependencies, JobArgsOf, JobClass, ValidJobClass } from './background-job-base'
export type { EngineCapabilities, EngineFactory } from './background-job-engine'
export { BackgroundJobManager } from './background-job-manager'
export type { ScheduleDefinition } from './background-job-manager'
export { BackgroundJobs } from './background-jobs'
export type { BuildOptions } from './background-jobs'
export { ManualClock, systemClock } from './clock'
export type { Clock, ClockTimer } from './clock'
export {
  BackendUnavailableError,
  BackgroundJobError,
  BackgroundJobsNotBuiltError,
  BackgroundJobsRootConflictError,
  DuplicateJobError,
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidJobArgsError,
  InvalidJobClassError,
  InvalidOptionError,
  InvalidScheduleError,
  JobArgsTypeError,
  JobNotFoundError,
  JobNotRegisteredError,
  JobStateError,
  JobTimeoutError,
  ManagerStoppedError,
  PendingJobsLimitError,
  RequestScopeDisposedError,
  RouteConventionError,
  ScheduleNotFoundError,
  UnknownJobError,
  UnrecoverableJobError,
} from './errors'
export type { JobAction, RootConflict, StoppedSituation } from './errors'
export { PROXY_HEADERS, isDirectLoopbackRequest, isLoopbackAddress } from './express/admin-access'
export { ADMIN_CSRF_HEADER, backgroundJobsAdminRouter } from './express/admin-router'
export type { AdminRouterOptions } from './express/admin-router'
export { backgroundJobsErrorHandler } from './express/error-handler'
export type { ErrorHandlerOptions } from './express/error-handler'
export { mapServices } from './express/map-services'
export type { MapServicesOptions, MappedRoute } from './express/map-services'
export { backgroundJobsMiddleware, holdRequestScope, stopWithServer } from './express/middleware'
export { ROUTE_CONVENTION_DEFAULTS, getServiceRoutes } from './express/route-conventions'
export type {
  HttpVerb,
  RouteConventionOptions,
  RouteMethod,
  RouteOverride,
  RouteOverrides,
  ServiceClass,
  ServiceRoute,
  ServiceRouteOptions,
} from './express/route-conventions'
export { ServiceBase } from './express/service-base'
export type { JobEventListener } from './job-events'
export { createDefaultLogger } from './logger'
export type { JobLogger } from './logger'
export { MEMORY_STORE_DEFAULTS } from './memory/memory-options'
export type { MemoryStoreOptions } from './memory/memory-options'
export { memoryEngine } from './memory/memory-engine'
export { DEFAULT_JOB_POLICY } from './policy/job-policy'
export type { JobPolicyOptions } from './policy/job-policy'
export { DEFAULT_RETRY } from './policy/retry-policy'
export { BackgroundJobsBuilder, addBackgroundJobs } from './register'
export { JOB_EVENT_NAMES, JOB_EVENT_SCOPES, JOB_STATES, JobStates } from './types'
export type {
  BulkJob,
  CancelManyResult,
  EnqueueOptions,
  JobAttemptInfo,
  JobAttemptOutcome,
  JobContext,
  JobCounts,
  JobErrorInfo,
  JobEventName,
  JobEventOptions,
  JobEventScope,
  JobEvents,
  JobInfo,
  JobLogLine,
  JobPage,
  JobProgress,
  JobState,
  ListJobsQuery,
  RetryOptions,
  ScheduleInfo,
  StopOptions,
  StopResult,
} from './types'
