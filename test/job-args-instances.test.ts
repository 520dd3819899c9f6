import assert from 'node:assert/strict'
import { BackgroundJobBase, JobArgsTypeError, type JobContext } from 'express-background-jobs'
import { createHarness, type Harness } from './support/harness'

let constructed = 0

class RegisterUserDto {
  name: string
  constructor(name: string) {
    constructed++
    this.name = name
  }
  greeting(): string {
    return `Hello, ${this.name}`
  }
}

/** What each attempt of a job saw. */
interface Seen {
  args: unknown
  isInstance: boolean
  greeting: string | undefined
  constructedBefore: number
}

const seen: Seen[] = []

/** Fails its first attempt (after mutating its args), so a second attempt runs. */
class RegisterUserBackgroundJob extends BackgroundJobBase<RegisterUserDto> {
  static override argsType = RegisterUserDto
  static override retry = { maxRetries: 1, initialDelayMs: 10 }
  protected override async executing(args: RegisterUserDto, ctx: JobContext): Promise<void> {
    seen.push({
      args,
      isInstance: args instanceof RegisterUserDto,
      greeting: args.greeting(),
      constructedBefore: constructed,
    })
    args.name = 'changed by the attempt'
    if (ctx.attempt === 1) throw new Error('first attempt fails')
  }
}

class PlainArgsJob extends BackgroundJobBase<{ name: string }> {
  protected override async executing(args: { name: string }): Promise<void> {
    seen.push({ args, isInstance: false, greeting: undefined, constructedBefore: constructed })
  }
}

describe('args a job receives', () => {
  let h: Harness

  beforeEach(() => {
    seen.length = 0
    h = createHarness((o) => o.addJob(RegisterUserBackgroundJob, PlainArgsJob))
  })

  afterEach(async () => {
    await h.container.dispose()
  })

  async function runBothAttempts(id: string): Promise<void> {
    await h.tick()
    await h.tick(10)
    const job = await h.manager.onSettled(id)
    assert.equal(job.state, 'completed')
  }

  it('are an instance of the static argsType, whose methods work, in every enqueue form', async () => {
    await runBothAttempts(await h.manager.enqueue(new RegisterUserDto('masa')))
    await runBothAttempts(await h.manager.enqueue(RegisterUserBackgroundJob, new RegisterUserDto('typed')))
    await runBothAttempts(await h.manager.enqueue('RegisterUserBackgroundJob', { name: 'by-name' }))
    assert.equal(seen.length, 6)
    assert.ok(seen.every((s) => s.isInstance))
    assert.deepEqual(
      seen.map((s) => s.greeting),
      ['Hello, masa', 'Hello, masa', 'Hello, typed', 'Hello, typed', 'Hello, by-name', 'Hello, by-name'],
    )
  })

  it('are made without running the constructor', async () => {
    const id = await h.manager.enqueue(new RegisterUserDto('masa'))
    const before = constructed
    await runBothAttempts(id)
    assert.deepEqual(
      seen.map((s) => s.constructedBefore),
      [before, before],
    )
    assert.equal(constructed, before)
  })

  it('are a new instance for each attempt, holding the stored data, not what an earlier attempt changed', async () => {
    const id = await h.manager.enqueue(RegisterUserBackgroundJob, new RegisterUserDto('masa'))
    await runBothAttempts(id)
    const [first, second] = seen
    assert.notEqual(first!.args, second!.args)
    assert.equal(second!.greeting, 'Hello, masa')
    assert.deepEqual((await h.manager.getJob(id))?.args, { name: 'masa' })
  })

  it('keep a stored `__proto__` key as plain data and the args class as prototype', async () => {
    const id = await h.manager.enqueue(
      'RegisterUserBackgroundJob',
      JSON.parse('{"__proto__":{"polluted":1},"name":"masa"}') as unknown,
    )
    await runBothAttempts(id)
    const args = seen[0]!.args as RegisterUserDto
    assert.ok(seen[0]!.isInstance)
    assert.equal(Object.getPrototypeOf(args), RegisterUserDto.prototype)
    assert.deepEqual(Object.getOwnPropertyDescriptor(args, '__proto__')?.value, { polluted: 1 })
  })

  it('fail the job without retry when stored by name as something other than a JSON object', async () => {
    for (const value of [null, 'masa', ['masa']]) {
      seen.length = 0
      const job = await h.manager.onSettled(await h.manager.enqueue('RegisterUserBackgroundJob', value))
      assert.equal(job.state, 'failed')
      assert.equal(job.attempts, 1)
      assert.equal(job.lastError?.name, JobArgsTypeError.name)
      assert.match(
        job.lastError?.message ?? '',
        /static argsType = RegisterUserDto`, so its args must be a JSON object/,
      )
      assert.deepEqual(seen, [])
    }
  })

  it('are plain JSON data for a job without argsType', async () => {
    const id = await h.manager.enqueue(PlainArgsJob, { name: 'plain' })
    await h.manager.onSettled(id)
    assert.equal(Object.getPrototypeOf(seen[0]!.args), Object.prototype)
    assert.deepEqual(seen[0]!.args, { name: 'plain' })
  })
})
