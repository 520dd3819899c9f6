import type { AwilixContainer } from 'awilix'
import express, { type Application } from 'express'
import {
  ServiceBase,
  backgroundJobsAdminRouter,
  backgroundJobsErrorHandler,
  mapServices,
} from 'express-background-jobs'
import { RegisterUserDto, createJobsContainer, type ExampleOptions } from '../shared/register-user'

/** A minimal-API service: `addAsync` maps to `POST /api/v1/users` by MASA's conventions. */
export class UserService extends ServiceBase {
  async addAsync(body: { name?: string } | undefined): Promise<{ jobId: string }> {
    // Runs the job 3 s from now, found from the args' class.
    const jobId = await UserService.backgroundJobManager.enqueue(new RegisterUserDto(body?.name ?? 'masa'), {
      delay: 3000,
    })
    return { jobId }
  }
}

/** Builds the minimal-API example app and its container. */
export function createApp(options: ExampleOptions = {}): { app: Application; container: AwilixContainer } {
  const container = createJobsContainer(options)

  const app = express()
  app.use(express.json())
  // 2. Map the services; this also sets the root container for the static manager
  //    (BackgroundJobs.build(container), MASA's MasaApp.Build).
  mapServices(app, [UserService], { container })
  // 3. Operators can look at the jobs (read-only; from this machine only, and not at all with
  //    NODE_ENV=production until an `authorize` option is given).
  app.use('/admin/jobs', backgroundJobsAdminRouter(container))
  // 4. Last: errors become JSON with their status (400 bad args, 503 and Retry-After past
  //    maxPendingJobs, a generic 500 for the rest), never an HTML page with a stack.
  app.use(backgroundJobsErrorHandler())
  return { app, container }
}
