/** A promise with its `resolve` function outside it, for a test to open a gate a job waits at. */
export interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
}

/** Makes a {@link Deferred}: `promise` resolves once `resolve()` is called. */
export function deferred(): Deferred {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}
