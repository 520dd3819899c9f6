/**
 * This process's control operations (cancel, retry, delete) in flight, by job id: operations on
 * one job run one after the other, and reads of that job wait for them, so that once `retry(id)`
 * is called this process's `getJob(id)` and `onSettled(id)` see its effect, as they would on the
 * memory engine, where it takes effect at once.
 */
export class JobControlQueue {
  readonly #inFlight = new Map<string, Promise<unknown>>()

  /** Runs `call` after the operations on job `id` already queued. */
  run<T>(id: string, call: () => Promise<T>): Promise<T> {
    const previous = this.#inFlight.get(id)
    const running = (async () => {
      await previous
      return call()
    })()
    const settled = running.then(
      () => undefined,
      () => undefined,
    )
    this.#inFlight.set(id, settled)
    void settled.then(() => {
      if (this.#inFlight.get(id) === settled) this.#inFlight.delete(id)
    })
    return running
  }

  /** Resolves once the operations on job `id` queued so far have ended (never rejects). */
  async settled(id: string): Promise<void> {
    await this.#inFlight.get(id)
  }
}
