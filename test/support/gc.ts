import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/**
 * Runs full garbage collections on two turns of the event loop, so that objects only `WeakRef`s
 * point to (kept through the turn that last read them) are collected.
 */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
  }
}
