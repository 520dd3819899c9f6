import { Cron } from 'croner'
import { InvalidScheduleError } from '../errors'
import { toErrorInfo } from './error-info'

/** croner's nicknames, each standing for a five-field expression (`@daily` is `0 0 * * *`). */
const NICKNAMES: readonly string[] = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']

/**
 * A parsed and validated cron expression, with its time zone. The manager parses a schedule's
 * expression once, here, and hands the engine this object, so every engine reads the same
 * expression the same way.
 *
 * The kit's dialect is croner's, limited to what the README documents: five fields (minute hour
 * day-of-month month weekday) or six with seconds first, or one of croner's nicknames (`@daily`).
 * croner would also read a seventh field, the year; it is refused here, since the README never
 * promised it. An expression that matches no time after now (`0 0 30 2 *`) is refused too.
 */
export class CronSchedule {
  /** The expression as given. */
  readonly expression: string
  /** The IANA time zone it is evaluated in; the process's zone when undefined. */
  readonly timezone: string | undefined
  readonly #cron: Cron

  /**
   * @param scheduleId named in the error when the expression or time zone is not valid
   * @throws InvalidScheduleError naming the schedule, the expression and what is wrong with it:
   *   its number of fields, croner's reason, or that it never fires
   */
  constructor(scheduleId: string, expression: string, timezone: string | undefined) {
    const invalid = (reason: string, cause?: unknown): InvalidScheduleError => {
      const zone = timezone === undefined ? '' : `, ${JSON.stringify(timezone)}`
      return new InvalidScheduleError(
        scheduleId,
        `has an invalid cron expression or time zone (${JSON.stringify(expression)}${zone}): ${reason}. Use five fields (minute hour day month weekday) or six with seconds first, and an IANA time zone.`,
        cause === undefined ? undefined : { cause },
      )
    }
    // Counted here, the way croner splits fields, because croner itself accepts 5, 6 or 7.
    const fields = expression.match(/\S+/g)?.length ?? 0
    const isNickname = fields === 1 && NICKNAMES.includes(expression.trim().toLowerCase())
    if (!isNickname && fields !== 5 && fields !== 6) {
      throw invalid(
        fields === 7
          ? 'it has 7 fields; a seventh (year) field is not supported'
          : `it has ${fields} field${fields === 1 ? '' : 's'}`,
      )
    }
    let next: Date | null
    try {
      this.#cron = new Cron(expression, {
        ...(timezone !== undefined && { timezone }),
        paused: true,
        mode: '5-or-6-parts',
      })
      // An unknown time zone is only noticed when an occurrence is computed.
      next = this.#cron.nextRun()
    } catch (error) {
      throw invalid(toErrorInfo(error).message.replace(/\.+$/, ''), error)
    }
    if (next === null) {
      // With five or six fields (no year), only days that no month named has can match nothing.
      throw new InvalidScheduleError(
        scheduleId,
        `has a cron expression that never fires: no date matches both the day-of-month and the month fields of ${JSON.stringify(expression)} (as with 30 February or 31 April). Name days those months have, or use L for the last day of the month.`,
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
