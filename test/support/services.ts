import type { Context } from 'mocha'

/**
 * Skips the tests of `context` when a service they need is missing, saying why, unless CI says
 * the service is required (`REQUIRE_<NAME>=1`, set by `.ci/run`): then a missing service fails.
 *
 * @param name the service, e.g. `BROWSER`, as in its `REQUIRE_` variable
 * @param missing why the service cannot be used, or undefined when it can
 */
export function requireService(context: Context, name: string, missing: string | undefined): void {
  if (missing === undefined) return
  const variable = `REQUIRE_${name}`
  if (process.env[variable] === '1') throw new Error(`${variable}=1, but ${missing}`)
  console.log(`      (skipped: ${missing}; set ${variable}=1 to make this a failure)`)
  context.skip()
}
