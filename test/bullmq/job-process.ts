import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import type { BullmqEngineOptions } from '../../src/bullmq'

/** The child script, run with `node --import tsx`. */
const MAIN = path.join(__dirname, 'job-process-main.ts')
const ROOT = path.resolve(__dirname, '../..')

/** How a job process is built: its Redis, key prefix, and the rest of its engine options. */
export interface JobProcessConfig {
  readonly redisUrl: string
  readonly prefix: string
  readonly engine?: Omit<BullmqEngineOptions, 'connection' | 'prefix'>
}

/** The jobs a job process knows: `RecordJob` ends at once, `HoldJob` runs until released. */
export type JobProcessJobName = 'RecordJob' | 'HoldJob'

/** What the parent tells a job process. */
export type JobProcessCommand =
  | {
      readonly type: 'enqueue'
      readonly request: number
      readonly jobName: JobProcessJobName
      readonly from: number
      readonly count: number
      readonly delayMs?: number
    }
  | { readonly type: 'release'; readonly key: string }
  | { readonly type: 'stop'; readonly drain: boolean; readonly timeoutMs?: number }

/** What a job process tells its parent. */
export type JobProcessMessage =
  | { readonly type: 'ready'; readonly pid: number }
  | {
      readonly type: 'started'
      readonly jobId: string
      readonly jobName: JobProcessJobName
      readonly key: string
      readonly attempt: number
    }
  | { readonly type: 'settled'; readonly jobId: string; readonly state: 'completed' | 'failed' }
  | { readonly type: 'enqueued'; readonly request: number; readonly jobIds: string[] }
  | { readonly type: 'stopped'; readonly result: { readonly pending: number; readonly running: number } }
  | { readonly type: 'error'; readonly message: string }

/** A job start seen in a job process. */
export interface JobStart {
  readonly jobId: string
  readonly jobName: JobProcessJobName
  readonly key: string
  readonly attempt: number
}

/**
 * Every pending {@link JobProcess.waitFor} check, of every process: a report from any child
 * re-checks them all, since a condition may span processes (jobs settled across B and C).
 */
const waiters = new Set<() => void>()

/** Waits longer than this for a child's report fail the test with what the child printed. */
const REPORT_TIMEOUT_MS = 20_000

/**
 * A real application process on the BullMQ engine (`node --import tsx job-process-main.ts`),
 * driven over IPC: what it started and settled is recorded here as it reports it.
 */
export class JobProcess {
  readonly child: ChildProcess
  readonly label: string
  /** Every job start in this process, in order (a job started twice appears twice). */
  readonly starts: JobStart[] = []
  /** The jobs that settled in this process, by id. */
  readonly settled = new Map<string, 'completed' | 'failed'>()
  /** What the child wrote to stdout and stderr, for failure messages. */
  output = ''
  /** Errors the child reported from a command. */
  readonly errors: string[] = []
  stopResult: { readonly pending: number; readonly running: number } | undefined
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  #exit: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined
  #isReady = false
  #requests = 0
  readonly #enqueued = new Map<number, string[]>()

  constructor(label: string, config: JobProcessConfig) {
    this.label = label
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN, JSON.stringify(config)], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    this.child.on('message', (message: JobProcessMessage) => {
      this.#receive(message)
      this.#wake()
    })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal }
        resolve(this.#exit)
        this.#wake()
      })
    })
  }

  /** The child's process id. */
  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Whether the child has exited. */
  get hasExited(): boolean {
    return this.#exit !== undefined
  }

  #receive(message: JobProcessMessage): void {
    switch (message.type) {
      case 'ready':
        this.#isReady = true
        return
      case 'started':
        this.starts.push({ jobId: message.jobId, jobName: message.jobName, key: message.key, attempt: message.attempt })
        return
      case 'settled':
        this.settled.set(message.jobId, message.state)
        return
      case 'enqueued':
        this.#enqueued.set(message.request, message.jobIds)
        return
      case 'stopped':
        this.stopResult = message.result
        return
      case 'error':
        this.errors.push(message.message)
        return
    }
  }

  #wake(): void {
    for (const waiter of [...waiters]) waiter()
  }

  /**
   * Resolves once `done()` holds, checked whenever any child reports; rejects, with what this child
   * printed, when it reports an error, exits first, or after {@link REPORT_TIMEOUT_MS}.
   */
  waitFor(done: () => boolean, what: string, { allowExit = false } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let failure: string | undefined
        if (done()) {
          finish()
          resolve()
          return
        }
        if (this.errors.length > 0) failure = `reported ${this.errors.join('; ')}`
        else if (this.#exit !== undefined && !allowExit) failure = `exited (${this.#exit.signal ?? this.#exit.code})`
        if (failure !== undefined) {
          finish()
          reject(
            new Error(`${this.label} (pid ${this.pid}) ${failure} while waiting for ${what}. Output:\n${this.output}`),
          )
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(
          new Error(
            `${this.label} (pid ${this.pid}): no ${what} within ${REPORT_TIMEOUT_MS} ms. Output:\n${this.output}`,
          ),
        )
      }, REPORT_TIMEOUT_MS)
      const finish = (): void => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  }

  /** Resolves once the child's manager is built and answered Redis. */
  ready(): Promise<void> {
    return this.waitFor(() => this.#isReady, 'ready')
  }

  /** Enqueues `count` jobs (args numbered from `from`) in the child; their ids. */
  async enqueue(jobName: JobProcessJobName, from: number, count: number, delayMs?: number): Promise<string[]> {
    const request = ++this.#requests
    this.#send({ type: 'enqueue', request, jobName, from, count, ...(delayMs !== undefined && { delayMs }) })
    await this.waitFor(() => this.#enqueued.has(request), `the ids of ${count} ${jobName} enqueued`)
    return this.#enqueued.get(request)!
  }

  /** Lets the `HoldJob` with `key` end (now if it runs here, at once if it starts here later). */
  release(key: string): void {
    this.#send({ type: 'release', key })
  }

  /** Stops the child's manager and disposes its container; what `stop()` returned. */
  async stop(drain: boolean, timeoutMs?: number): Promise<{ readonly pending: number; readonly running: number }> {
    this.#send({ type: 'stop', drain, ...(timeoutMs !== undefined && { timeoutMs }) })
    await this.waitFor(() => this.stopResult !== undefined, 'the result of stop()', { allowExit: true })
    return this.stopResult!
  }

  /** Kills the child with SIGKILL unless it has exited, and waits for its exit. */
  async kill(): Promise<void> {
    if (this.#exit === undefined) this.child.kill('SIGKILL')
    await this.exited
  }

  #send(command: JobProcessCommand): void {
    this.child.send(command)
  }
}

/** Starts job processes and kills whatever is left of them ({@link killAll}, for `afterEach`). */
export class JobProcesses {
  readonly #all: JobProcess[] = []

  /** Starts a job process and waits until it is ready. */
  async start(label: string, config: JobProcessConfig): Promise<JobProcess> {
    const job = new JobProcess(label, config)
    this.#all.push(job)
    await job.ready()
    return job
  }

  /** SIGKILLs every process still running and waits for all to exit. */
  async killAll(): Promise<void> {
    await Promise.all(this.#all.splice(0).map((job) => job.kill()))
  }
}
