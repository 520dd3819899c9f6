import { Cron } from 'croner'
import { InvalidScheduleError } from '../errors'
import { toErrorInfo } from './error-info'

/**
 * A parsed and validated cron expression (the kit's dialect: croner's, five fields or six with
 * seconds first), with its time zone. The manager parses a schedule's expression once, here, and
 * hands the engine this object, so every engine reads the same expression the same way.
 */
export class CronSchedule {
  /** The expression as given. */
  readonly expression: string
  /** The IANA time zone it is evaluated in; the process's zone when undefined. */
  readonly timezone: string | undefined
  readonly #cron: Cron

  /**
   * @param scheduleId named in the error when the expression or time zone is not valid
   * @throws InvalidScheduleError naming the schedule, the expression and croner's reason
   */
  constructor(scheduleId: string, expression: string, timezone: string | undefined) {
    try {
      this.#cron = new Cron(expression, { ...(timezone !== undefined && { timezone }), paused: true })
      // An unknown time zone is only noticed when an occurrence is computed.
      this.#cron.nextRun()
    } catch (error) {
      const zone = timezone === undefined ? '' : `, ${JSON.stringify(timezone)}`
      throw new InvalidScheduleError(
        scheduleId,
        `has an invalid cron expression or time zone (${JSON.stringify(expression)}${zone}): ${toErrorInfo(error).message.replace(/\.+$/, '')}. Use five fields (minute hour day month weekday) or six with seconds first, and an IANA time zone.`,
        { cause: error },
      )
    }
    this.expression = expression
    this.timezone = timezone
  }

  /** The first occurrence after `time` (ms since the epoch), or undefined when there is none. */
  nextAfter(time: number): number | undefined {
    return this.#cron.nextRun(new Date(time))?.getTime()
  }
}
