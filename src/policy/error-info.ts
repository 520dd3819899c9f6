import type { JobErrorInfo } from '../types'

/**
 * `String(value)` that never throws: a null-prototype object, a throwing `toString` or a revoked
 * proxy can make `String()` itself throw, which would turn a reported failure into a new one.
 */
export function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    return `[unprintable ${typeof value}]`
  }
}

/**
 * Converts anything thrown into the stored error shape, with string fields: an `Error`'s name,
 * message and stack; any other value JSON-encoded as the message. Never throws: reading the thrown
 * value may itself throw (a getter, a revoked proxy), and a throw here would leave a job running
 * forever or escape as an unhandled rejection. Every engine stores failures in this shape.
 */
export function toErrorInfo(error: unknown): JobErrorInfo {
  try {
    if (error instanceof Error) {
      const { name, message, stack } = error
      return {
        name: safeString(name),
        message: safeString(message),
        ...(stack !== undefined && { stack: safeString(stack) }),
      }
    }
    let message: string
    try {
      message = typeof error === 'string' ? error : (JSON.stringify(error) ?? safeString(error))
    } catch {
      message = safeString(error)
    }
    return { name: 'Error', message: `Non-error value thrown: ${message}` }
  } catch {
    return { name: 'Error', message: `An unreadable ${typeof error} was thrown` }
  }
}

/**
 * One line describing anything thrown by user code, for logs and messages: `Name: message`.
 * The one converter for thrown values; never `String(error)` on them.
 */
export function describeThrown(error: unknown): string {
  const info = toErrorInfo(error)
  return `${info.name}: ${info.message}`
}
