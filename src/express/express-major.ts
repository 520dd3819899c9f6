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
