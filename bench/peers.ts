/**
 * The peers issue 15 measures the kit against, loaded as a user of each would load it:
 * toad-scheduler 4 is CommonJS (a plain import), p-queue 9 is ESM only (a real dynamic `import()`).
 */
import type PQueueClass from 'p-queue'

export { SimpleIntervalJob, Task, ToadScheduler } from 'toad-scheduler'

/** p-queue's class, as its default export. */
export type PQueue = PQueueClass

/** What `import('p-queue')` resolves with. */
interface PQueueModule {
  readonly default: typeof PQueueClass
}

// tsc's CommonJS output turns `import()` into `require()`, which cannot load an ESM-only package on
// Node 20; a function built at run time keeps the `import()` as Node's own.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fixed source text, the one way to keep `import()` through tsc's CommonJS output
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>

/** p-queue's class, loaded with a real ESM `import()`. */
export async function loadPQueue(): Promise<typeof PQueueClass> {
  return ((await importModule('p-queue')) as PQueueModule).default
}
