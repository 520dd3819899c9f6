import { createHarness, flush } from '../support/harness'
import type { ContractHarness, EngineFixture } from './fixture'

/**
 * The longest drain `dispose` waits out: past every `stop({ timeoutMs })` and attempt timeout a
 * test may have left running, so a test that failed half-way through a drain cannot hang the suite.
 */
const DISPOSE_ADVANCE_MS = 2 ** 31

/**
 * The in-memory engine under the contract suite: `addBackgroundJobs(container, o =>
 * o.useInMemoryStore({ clock, ...options }).addJob(...jobs))` on a `ManualClock`, with a
 * capturing logger. `advance(ms)` lets queued callbacks run, moves the clock by `ms`, and lets
 * them run again. It honours every contract option.
 */
export const memoryFixture: EngineFixture = {
  name: 'memory',
  async create({ jobs, options = {} }): Promise<ContractHarness> {
    const { container, manager, clock, logger, tick } = createHarness((o) => o.addJob(...jobs), options)
    return {
      container,
      manager,
      logger,
      now: () => clock.now(),
      advance: (ms) => tick(ms),
      async dispose() {
        // A test may have left a drain waiting for a job that never ends; on a manual clock its
        // timeout would never pass. stop() is memoised, so this settles whichever stop came first.
        const stopping = manager.stop({ drain: false })
        await flush()
        clock.advance(DISPOSE_ADVANCE_MS)
        await stopping
        await container.dispose()
      },
    }
  },
}
