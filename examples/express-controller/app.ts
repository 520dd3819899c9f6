import type { AwilixContainer } from 'awilix'
import express, { type Application, type Request, type Response } from 'express'
import {
  backgroundJobsAdminRouter,
  backgroundJobsErrorHandler,
  backgroundJobsMiddleware,
} from 'express-background-jobs'
import {
  RegisterUserBackgroundJob,
  RegisterUserDto,
  createJobsContainer,
  type ExampleOptions,
} from '../shared/register-user'

/** A controller-style handler: the manager comes with the request, attached by the middleware. */
export const userController = {
  async add(this: void, req: Request, res: Response): Promise<void> {
    const body: unknown = req.body
    const given: unknown = body !== null && typeof body === 'object' ? Reflect.get(body, 'name') : undefined
    const name = typeof given === 'string' ? given : 'masa'
    // Runs the job 3 s from now.
    const jobId = await req.backgroundJobs.enqueue(RegisterUserBackgroundJob, new RegisterUserDto(name), {
      delay: 3000,
    })
    res.status(202).json({ jobId })
  },
}

/** Builds the controller example app and its container. */
export function createApp(options: ExampleOptions = {}): { app: Application; container: AwilixContainer } {
  const container = createJobsContainer(options)

  const app = express()
  app.use(express.json())
  // Opens a request scope (req.container) and attaches req.backgroundJobs.
  app.use(backgroundJobsMiddleware(container))
  app.post('/user/add', userController.add)
  app.use('/admin/jobs', backgroundJobsAdminRouter(container))
  // Last: answers errors as JSON with their status (e.g. 503 and Retry-After past maxPendingJobs),
  // never Express's HTML page with a stack.
  app.use(backgroundJobsErrorHandler())
  return { app, container }
}
