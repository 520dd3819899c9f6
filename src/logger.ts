import winston from 'winston'

/**
 * The logging interface the engine writes to. A winston `Logger` satisfies it; so does any logger
 * with these four methods. Calls that throw are caught: a broken logger never breaks the engine.
 */
export interface JobLogger {
  error(message: string, meta?: Record<string, unknown>): unknown
  warn(message: string, meta?: Record<string, unknown>): unknown
  info(message: string, meta?: Record<string, unknown>): unknown
  debug(message: string, meta?: Record<string, unknown>): unknown
}

/**
 * The logger registered when the container has none: winston to the console at `info`
 * (or `LOG_LEVEL`), one line per entry with its metadata.
 */
export function createDefaultLogger(): winston.Logger {
  return winston.createLogger({
    level: process.env.LOG_LEVEL ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.simple()),
    transports: [new winston.transports.Console()],
  })
}

/** Calls one logger method, swallowing whatever the logger throws. */
export function safeLog(
  logger: JobLogger,
  level: keyof JobLogger,
  message: string,
  meta?: Record<string, unknown>,
): void {
  try {
    logger[level](message, meta)
  } catch {
    // A logger that throws must not turn a job's outcome into a crash; there is nowhere left to report it.
  }
}

/**
 * Whether `logger` would write a debug entry. Winston (and pino) answer `isLevelEnabled`; winston
 * formats every entry before its transports drop it by level, which cost more than running a
 * no-op job, so the memory engine asks once per turn. A logger without the method gets every entry.
 */
export function isDebugLogged(logger: JobLogger): boolean {
  const levels = logger as { isLevelEnabled?: (level: string) => unknown }
  try {
    return typeof levels.isLevelEnabled !== 'function' || levels.isLevelEnabled('debug') !== false
  } catch {
    return true
  }
}
