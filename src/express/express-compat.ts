import type { Application, Router } from 'express'

/** The Express major versions the kit supports. */
export type ExpressMajor = 4 | 5

/**
 * Tells which Express major made `app` (an application or a router), since an Express 4 app can
 * be handed to the kit while `express` itself resolves to 5, or the other way round. Express 4
 * apps have `lazyrouter()` and Express 4 routers an own `_params` array; Express 5 has neither.
 * A value with no such mark (a wrapper) falls back to the major of the `express` package that
 * this module resolves.
 */
export function getExpressMajor(app: Application | Router): ExpressMajor {
  const candidate = app as unknown as { lazyrouter?: unknown; _params?: unknown; stack?: unknown; handle?: unknown }
  if (typeof candidate.lazyrouter === 'function' || Array.isArray(candidate._params)) return 4
  if (typeof candidate.handle === 'function' && (Array.isArray(candidate.stack) || 'router' in candidate)) return 5
  return installedExpressMajor()
}

function installedExpressMajor(): ExpressMajor {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON file read once, only as a fallback
    const { version } = require('express/package.json') as { version?: unknown }
    return typeof version === 'string' && version.startsWith('4.') ? 4 : 5
  } catch {
    return 5
  }
}

/** The router methods that register handlers, wrapped by {@link forwardRejections}. */
const REGISTERING_METHODS = ['use', 'all', 'get', 'post', 'put', 'delete', 'patch', 'head', 'options'] as const

type Handler = (...args: unknown[]) => unknown

/**
 * Makes every handler registered on `router` after this call pass a rejected promise to `next(err)`,
 * as Express 5 does by itself and Express 4 does not (there, an `async` handler that throws is an
 * unhandled rejection: the request hangs, and Node ends the process). Error handlers keep their four
 * parameters, which is how Express tells them apart; routers and apps given to `use` are left as
 * they are. On Express 5 the wrapped handlers behave as before. Returns `router`.
 */
export function forwardRejections<R extends Router>(router: R): R {
  for (const name of REGISTERING_METHODS) {
    const register = Reflect.get(router, name) as Handler
    Object.defineProperty(router, name, {
      configurable: true,
      writable: true,
      value: function registerForwardingRejections(this: unknown, ...args: unknown[]): unknown {
        return Reflect.apply(register, this, args.map(wrapHandler))
      },
    })
  }
  return router
}

function wrapHandler(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(wrapHandler)
  if (typeof value !== 'function' || 'handle' in value) return value
  const handler = value as Handler
  const settle = (result: unknown, next: unknown): void => {
    if (typeof next !== 'function' || !isThenable(result)) return
    // Express 5 passes a rejection with no reason as an Error too, so that next() does not skip it.
    result.then(undefined, (error: unknown) => {
      ;(next as (error: unknown) => void)(error ?? new Error('Rejected promise'))
    })
  }
  if (handler.length === 4) {
    return function forwardingErrorHandler(this: unknown, error: unknown, req: unknown, res: unknown, next: unknown) {
      settle(Reflect.apply(handler, this, [error, req, res, next]), next)
    }
  }
  return function forwardingHandler(this: unknown, req: unknown, res: unknown, next: unknown) {
    settle(Reflect.apply(handler, this, [req, res, next]), next)
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}
