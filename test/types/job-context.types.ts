// Type tests of what a job's `executing` receives and what a snapshot holds, checked by
// `tsc -p test/types/tsconfig.json` (run by test/types.test.ts) and by `npm run lint`. Each
// `@ts-expect-error` line must fail to compile. Nothing here runs.
import {
  BackgroundJobBase,
  type JobAttemptInfo,
  type JobContext,
  type JobInfo,
  type JobLogLine,
  type JobProgress,
} from 'express-background-jobs'

/** Every engine gives `updateProgress` and `log`: a job calls them without `?.`. */
export class ImportJob extends BackgroundJobBase<{ rows: number }> {
  protected override async executing(args: { rows: number }, ctx: JobContext): Promise<void> {
    ctx.updateProgress(50)
    ctx.updateProgress({ done: 20, of: args.rows })
    ctx.log(`imported ${args.rows} rows`)
    // @ts-expect-error progress is a number or a JSON object, not a string
    ctx.updateProgress('50%')
    // @ts-expect-error a log line is a string
    ctx.log(42)
  }
}

/** Logs and history are always there (empty when there is nothing); progress only once reported. */
export function reports(job: JobInfo): [readonly JobLogLine[], readonly JobAttemptInfo[], JobProgress | undefined] {
  const lines: readonly JobLogLine[] = job.logs
  const attempts: readonly JobAttemptInfo[] = job.history
  const first: Date | undefined = job.history[0]?.startedAt
  void first
  // @ts-expect-error progress is absent when none was reported
  const progress: JobProgress = job.progress
  void progress
  // @ts-expect-error a snapshot's history cannot be replaced through it
  job.history = []
  return [lines, attempts, job.progress]
}

/** A snapshot without logs or history is not a JobInfo. */
export const withoutReports: Omit<JobInfo, 'logs' | 'history'> = {
  id: '1',
  name: 'ImportJob',
  args: null,
  state: 'pending',
  attempts: 0,
  maxAttempts: 1,
  createdAt: new Date(),
  runAt: new Date(),
}
// @ts-expect-error `logs` and `history` are required
export const incomplete: JobInfo = withoutReports
