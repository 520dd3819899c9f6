// Loaded with `node --require tsx/cjs --require ./test/support/express4-preload.ts`: every
// `require('express')` of the process (the kit's, the example's) gets Express 4, the `express4`
// alias of the dev dependencies, so an unchanged example runs on Express 4.
import Module from 'node:module'

type Resolve = (request: string, ...rest: unknown[]) => string
const hooks = Module as unknown as { _resolveFilename: Resolve }
const resolve = hooks._resolveFilename
hooks._resolveFilename = function resolveExpress4(this: unknown, request: string, ...rest: unknown[]): string {
  const redirected = request === 'express' || request.startsWith('express/') ? `express4${request.slice(7)}` : request
  return resolve.call(this, redirected, ...rest)
}
