import express from 'express'
import express4 from 'express4'

/** One Express major under test: its number and its module (`express` or the `express4` alias). */
export interface ExpressVersion {
  readonly major: 4 | 5
  /**
   * The module's default export. Express 4's is typed as Express 5's, so one test body serves both;
   * the kit's types against `@types/express` 4 are checked by the consumer test (test/package.test.ts).
   */
  readonly express: typeof express
}

/**
 * The Express majors the kit supports, Express 5 first. An HTTP-edge test runs its `describe`
 * once per major: `for (const version of EXPRESS_VERSIONS) describe(`x (Express ${version.major})`, ...)`.
 */
export const EXPRESS_VERSIONS: readonly ExpressVersion[] = [
  { major: 5, express },
  { major: 4, express: express4 as unknown as typeof express },
]

/** Runs `suite` in a `describe` named `title (Express N)`, once per supported major. */
export function describeEachExpress(title: string, suite: (version: ExpressVersion) => void): void {
  for (const version of EXPRESS_VERSIONS) {
    describe(`${title} (Express ${version.major})`, () => {
      suite(version)
    })
  }
}
