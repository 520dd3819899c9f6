// Type tests of enqueue, addJob and schedules, checked by `tsc -p test/types/tsconfig.json` (run by
// test/types.test.ts) and by `npm run lint`. Each `@ts-expect-error` line must fail to compile:
// once it compiles, tsc reports the directive as unused and the test fails. Nothing here runs.
import {
  BackgroundJobBase,
  type BackgroundJobManager,
  type BackgroundJobsBuilder,
  type BulkJob,
  type CancelManyResult,
  type JobArgsOf,
  type JobClass,
} from 'express-background-jobs'

class RegisterUserDto {
  constructor(public name: string) {}
  greeting(): string {
    return `Hello, ${this.name}`
  }
}

class AdminUserDto extends RegisterUserDto {
  isAdmin = true
}

class OrderDto {
  constructor(public orderId: number) {}
}

class RegisterUserBackgroundJob extends BackgroundJobBase<RegisterUserDto> {
  static override argsType = RegisterUserDto
  protected override async executing(): Promise<void> {}
}

/** An argsType that is a subclass of TArgs: its instances are TArgs. */
class RegisterAdminJob extends BackgroundJobBase<RegisterUserDto> {
  static override argsType = AdminUserDto
  protected override async executing(): Promise<void> {}
}

/** Args are plain data (no argsType). */
class GreetJob extends BackgroundJobBase<{ name: string }> {
  protected override async executing(): Promise<void> {}
}

class NoArgsJob extends BackgroundJobBase<null> {
  protected override async executing(): Promise<void> {}
}

/** static argsType unrelated to TArgs. */
class MismatchedJob extends BackgroundJobBase<RegisterUserDto> {
  static override argsType = OrderDto
  protected override async executing(): Promise<void> {}
}

export function validCalls(manager: BackgroundJobManager, o: BackgroundJobsBuilder): void {
  void manager.enqueue(RegisterUserBackgroundJob, new RegisterUserDto('masa'))
  void manager.enqueue(RegisterUserBackgroundJob, new RegisterUserDto('masa'), { delay: 3000 })
  void manager.enqueue(RegisterAdminJob, new AdminUserDto('root'), { runAt: new Date() })
  void manager.enqueue(new RegisterUserDto('masa'))
  void manager.enqueue(new RegisterUserDto('masa'), { delay: 3000 })
  void manager.enqueue(new AdminUserDto('root'), { runAt: new Date() })
  void manager.enqueue(GreetJob, { name: 'masa' })
  void manager.enqueue(GreetJob, { name: 'masa' }, { delay: 10 })
  void manager.enqueue(NoArgsJob, null)
  void manager.enqueue(NoArgsJob, null, { delay: 10 })
  void manager.enqueue('GreetJob', { name: 'masa' })
  void manager.enqueue('GreetJob', null, { delay: 10 })
  const anyJob: JobClass = GreetJob
  void manager.enqueue(anyJob, { anything: 1 })
  const greetArgs: JobArgsOf<typeof GreetJob> = { name: 'masa' }
  void manager.enqueue(GreetJob, greetArgs)
  void manager.enqueueMany(GreetJob, [{ args: { name: 'a' } }, { args: { name: 'b' }, delay: 10 }])
  void manager.enqueueMany(RegisterUserBackgroundJob, [{ args: new RegisterUserDto('masa'), runAt: new Date() }])
  void manager.enqueueMany(NoArgsJob, [{ args: null }])
  void manager.enqueueMany('GreetJob', [{ args: { anything: 1 } }])
  const batch: BulkJob<{ name: string }>[] = [{ args: { name: 'masa' } }]
  const ids: Promise<string[]> = manager.enqueueMany(GreetJob, batch)
  void ids
  const cancelled: Promise<CancelManyResult> = manager.cancelMany(['1', '2'])
  void cancelled
  void manager.addOrUpdateSchedule({ id: 'hourly', cron: '0 * * * *', job: GreetJob, args: { name: 'masa' } })
  void manager.addOrUpdateSchedule({
    id: 'daily',
    cron: '0 0 * * *',
    job: RegisterUserBackgroundJob,
    args: new RegisterUserDto('masa'),
  })
  o.addJob(RegisterUserBackgroundJob)
  o.addJob(RegisterUserBackgroundJob, RegisterAdminJob, GreetJob, NoArgsJob)
  const jobs: JobClass[] = [GreetJob, NoArgsJob]
  o.addJob(...jobs)
}

export function holes(manager: BackgroundJobManager, o: BackgroundJobsBuilder): void {
  // Args missing a required field.
  // @ts-expect-error `name` is missing
  void manager.enqueue(GreetJob, {})
  // @ts-expect-error options in the args position
  void manager.enqueue(GreetJob, { delay: 5000 })
  // @ts-expect-error args missing
  void manager.enqueue(GreetJob)
  // @ts-expect-error args are required even when they are null: pass null
  void manager.enqueue(NoArgsJob)
  // @ts-expect-error args of the wrong type
  void manager.enqueue(GreetJob, { name: 1 })
  // @ts-expect-error a plain object where the job's args class is expected
  void manager.enqueue(RegisterUserBackgroundJob, { name: 'masa' })
  // @ts-expect-error an unknown enqueue option
  void manager.enqueue(GreetJob, { name: 'masa' }, { dealy: 10 })
  // @ts-expect-error args of the wrong type in one job of a batch
  void manager.enqueueMany(GreetJob, [{ args: { name: 'a' } }, { args: { name: 1 } }])
  // @ts-expect-error a batch item without args
  void manager.enqueueMany(GreetJob, [{ delay: 10 }])
  // @ts-expect-error an unknown option in a batch item
  void manager.enqueueMany(GreetJob, [{ args: { name: 'a' }, dealy: 10 }])
  // @ts-expect-error a plain object where the job's args class is expected, in a batch
  void manager.enqueueMany(RegisterUserBackgroundJob, [{ args: { name: 'masa' } }])
  // @ts-expect-error bare args instead of { args } items
  void manager.enqueueMany(GreetJob, [{ name: 'a' }])
  // @ts-expect-error cancelMany takes ids, not one id
  void manager.cancelMany('1')
  // @ts-expect-error a fresh object literal is not an args-class instance
  void manager.enqueue({ plain: 1 })
  // @ts-expect-error a fresh object literal, with options
  void manager.enqueue({ name: 'masa' }, { delay: 10 })
  // @ts-expect-error a job class is not an args instance
  void manager.enqueue(GreetJob, { delay: 10 })
  // @ts-expect-error a primitive is not an args instance
  void manager.enqueue(42)
  // @ts-expect-error a job name needs args
  void manager.enqueue('GreetJob')
  // @ts-expect-error static argsType unrelated to TArgs
  void manager.enqueue(MismatchedJob, new RegisterUserDto('masa'))
  // @ts-expect-error static argsType unrelated to TArgs
  o.addJob(MismatchedJob)
  // @ts-expect-error static argsType unrelated to TArgs, among valid jobs
  o.addJob(GreetJob, MismatchedJob)
  // @ts-expect-error static argsType unrelated to TArgs
  void manager.addOrUpdateSchedule({ id: 's', cron: '* * * * *', job: MismatchedJob, args: new RegisterUserDto('m') })
  // @ts-expect-error schedule args of the wrong type
  void manager.addOrUpdateSchedule({ id: 's', cron: '* * * * *', job: GreetJob, args: {} })
}

/**
 * What still compiles and is refused only at run time: types cannot tell a plain object held in a
 * variable from an args-class instance (both are structural), so this rejects with
 * JobNotRegisteredError.
 */
export function knownHoles(manager: BackgroundJobManager): void {
  const plain = { plain: 1 }
  void manager.enqueue(plain)
}
