import type { Clock, ClockTimer } from '../clock'
import { InvalidOptionError } from '../errors'
import { MAX_TIME_MS, MAX_TIMER_MS } from '../limits'
import { checkInteger } from '../validation'

const SLOT_BITS = 6
const SLOTS = 1 << SLOT_BITS
/** 9 levels of 64 one-millisecond-based slots span 2^54 ms: every time a `Date` can hold. */
const LEVELS = 9
/** The pseudo-slot holding nodes already due when scheduled; it fires on the next timer turn. */
const DUE_SLOT = LEVELS * SLOTS
const SPAN: readonly number[] = Array.from({ length: LEVELS + 1 }, (_, level) => SLOTS ** level)
const SLOT_MASK = SLOTS - 1

/**
 * Something the {@link TimerWheel} can hold. Subclasses carry their own data (a job record, a
 * schedule) and say what happens when the time comes in {@link TimerNode.expire}, so the wheel
 * needs no second object per timer. The wheel's bookkeeping is three fields, kept small on
 * purpose: a million pending jobs are a million nodes.
 */
export abstract class TimerNode {
  /**
   * @internal The tick (whole ms since the wheel's {@link TimerWheel.origin}) the node is due at.
   * Relative to the origin it stays a small integer, which V8 stores in place (an absolute time in
   * ms would be a boxed double: 16 more bytes per node).
   */
  dueTick = 0
  /** @internal */
  wheelPrev: TimerNode | null = null
  /** @internal */
  wheelNext: TimerNode | null = null

  /** Whether this node is in a wheel, waiting to expire. */
  get isScheduled(): boolean {
    return this.wheelNext !== null
  }

  /** Called once when the node's time has come (never before). Errors thrown here are reported, not rethrown. */
  abstract expire(): void
}

/** The head of one slot's circular list; an empty slot's head points at itself. */
class SlotHead extends TimerNode {
  constructor() {
    super()
    this.wheelPrev = this
    this.wheelNext = this
  }
  override expire(): void {}
}

/** Options of a {@link TimerWheel}. */
export interface TimerWheelOptions {
  /** Time source and timer. */
  readonly clock: Clock
  /**
   * Let the process exit while the wheel's timer is the only thing left.
   * @default true
   */
  readonly unref?: boolean
  /**
   * The longest single sleep, in ms. The wheel wakes at least this often while it holds nodes and
   * re-reads the clock, so a suspended machine or a clock set forward delays nothing by more.
   * @default 1000
   */
  readonly maxSleepMs?: number
  /** Receives an error thrown by a node's `expire`. */
  readonly onError?: (error: unknown) => void
}

/**
 * A hierarchical timer wheel: 9 levels of 64 slots, level 0 one millisecond per slot, each level
 * 64 times coarser. Scheduling and cancelling are O(1) (a node is linked into or unlinked from a
 * slot's circular list); a node cascades down at most once per level. A per-level bitmap finds the
 * next non-empty slot, so at most one clock timer is armed, for that slot, and none while the wheel
 * is empty (one emptied by a cancel lets its timer lapse, see {@link TimerWheel.#idle}). Nodes never expire before their due time: the wheel re-reads the clock on every turn.
 *
 * Nodes hold their due time as a tick, whole ms since {@link TimerWheel.origin} (the clock's time
 * when the wheel was made), so it stays a small integer; the wheel files them by absolute time.
 */
export class TimerWheel {
  /** The time (ms since the epoch, whole) that tick 0 stands for. */
  readonly origin: number
  readonly #clock: Clock
  readonly #unref: boolean
  readonly #maxSleepMs: number
  readonly #onError: (error: unknown) => void
  readonly #heads: SlotHead[] = Array.from({ length: DUE_SLOT + 1 }, () => new SlotHead())
  /**
   * Two 32-bit words per level: bit i set when slot i of that level may hold nodes. A bit is set on
   * insert and cleared when the slot is found empty, so cancelling needs no slot number per node.
   */
  readonly #occupied = new Uint32Array(LEVELS * 2)
  /** The time (whole ms since the epoch) up to which every slot has been handled. */
  #current: number
  #size = 0
  #timer: ClockTimer | undefined
  #armedAt = Infinity
  /** The wheel is empty and its timer left to lapse (see {@link TimerWheel.#idle}). */
  #isIdle = false
  #isClosed = false
  /**
   * Speed trick (workload W3, enqueue): the slot the last node was filed in, with the time it was
   * due at and the wheel's time then (-1: none), which are all the slot depends on. Jobs enqueued
   * together with one delay fall due in the same millisecond, so each after the first goes to that
   * slot without the search over the levels; the obvious version searches every time.
   */
  #lastDue = -1
  #lastCurrent = -1
  #lastSlot = DUE_SLOT

  constructor(options: TimerWheelOptions) {
    const { clock, unref = true, maxSleepMs = 1000, onError = () => {} } = options
    if (clock === null || typeof clock !== 'object' || typeof clock.now !== 'function') {
      throw new InvalidOptionError({ option: 'clock', value: clock, expected: 'a Clock' })
    }
    checkInteger('maxSleepMs', maxSleepMs, 1, MAX_TIMER_MS)
    this.#clock = clock
    this.#unref = unref
    this.#maxSleepMs = maxSleepMs
    this.#onError = onError
    this.origin = Math.floor(clock.now())
    this.#current = this.origin
  }

  /** Nodes waiting to expire. */
  get size(): number {
    return this.#size
  }

  /**
   * Whether a clock timer is armed for the wheel's nodes (false whenever the wheel is empty or
   * closed; an empty wheel's lapsing timer holds no process open and expires nothing).
   */
  get isArmed(): boolean {
    return this.#timer !== undefined && !this.#isIdle
  }

  /** The tick of `time` (ms since the epoch), rounded up: a node is never due before its time. */
  tickOf(time: number): number {
    return asSmallInteger(Math.ceil(time) - this.origin)
  }

  /** The time (ms since the epoch) of `tick`. */
  timeOf(tick: number): number {
    return this.origin + tick
  }

  /**
   * Schedules `node` to expire at `dueAt` (ms since the epoch; a time already past expires on the
   * next turn). A node that is already scheduled is moved.
   */
  schedule(node: TimerNode, dueAt: number): void {
    if (!Number.isFinite(dueAt) || Math.abs(dueAt) > MAX_TIME_MS) {
      throw new InvalidOptionError({
        option: 'dueAt',
        value: dueAt,
        expected: 'a time in ms within the range of a Date',
      })
    }
    if (node.wheelNext !== null) {
      unlink(node)
      this.#size--
    }
    const due = Math.ceil(dueAt)
    if (due <= this.#current) {
      // Past for the wheel; if the clock was set back it is still future for the caller, so rebase.
      const now = Math.floor(this.#clock.now())
      if (now < this.#current && due > now) this.#rebase(now)
    }
    node.dueTick = asSmallInteger(due - this.origin)
    this.#insert(node)
    this.#size++
    if (due < this.#armedAt) this.#arm()
    else if (this.#isIdle) this.#wake()
  }

  /** Unschedules `node`. Returns false when it was not scheduled (already expired or cancelled). */
  cancel(node: TimerNode): boolean {
    if (node.wheelNext === null) return false
    unlink(node)
    if (--this.#size === 0) this.#idle()
    return true
  }

  /** Expires every node due by the clock's time now. The armed timer calls this; tests may too. */
  advance(): void {
    const expired: TimerNode[] = []
    this.#collectDue(Math.floor(this.#clock.now()), expired)
    for (const node of expired) {
      try {
        node.expire()
      } catch (error) {
        try {
          this.#onError(error)
        } catch {
          // The error reporter itself failed; the remaining nodes must still expire.
        }
      }
    }
    this.#arm()
  }

  /** Disarms the timer for good. Nodes stay scheduled but never expire; `advance()` still works. */
  close(): void {
    this.#isClosed = true
    this.#disarm()
  }

  #collectDue(now: number, expired: TimerNode[]): void {
    this.#drainSlot(DUE_SLOT, expired)
    if (now < this.#current) return
    for (;;) {
      const next = this.#nextSlotStart()
      if (next > now) break
      this.#current = next
      // Top-down, so nodes cascading from a coarse slot land in finer slots handled in this pass.
      for (let level = LEVELS - 1; level >= 0; level--) {
        const slot = level * SLOTS + (Math.floor(next / SPAN[level]!) & SLOT_MASK)
        let node = this.#detach(slot)
        while (node !== null) {
          const following: TimerNode | null = node.wheelNext
          node.wheelNext = null
          node.wheelPrev = null
          if (node.dueTick + this.origin <= next) {
            this.#size--
            expired.push(node)
          } else {
            this.#insert(node)
          }
          node = following
        }
      }
    }
    this.#current = now
  }

  /** The start of the earliest non-empty slot, or Infinity. The lowest non-empty level holds it. */
  #nextSlotStart(): number {
    const current = this.#current
    for (let level = 0; level < LEVELS; level++) {
      const word = level * 2
      for (;;) {
        const lo = this.#occupied[word]!
        const hi = this.#occupied[word + 1]!
        if ((lo | hi) === 0) break
        const index = nextSetBit(lo, hi, (Math.floor(current / SPAN[level]!) & SLOT_MASK) + 1)
        if (index < 0) break
        const head = this.#heads[level * SLOTS + index]!
        if (head.wheelNext === head) {
          // Emptied by cancels since its bit was set: clear the bit and look again.
          this.#occupied[word + (index >>> 5)]! &= ~(1 << (index & 31))
          continue
        }
        const span = SPAN[level + 1]!
        return Math.floor(current / span) * span + index * SPAN[level]!
      }
    }
    return Infinity
  }

  #insert(node: TimerNode): void {
    const due = node.dueTick + this.origin
    const current = this.#current
    let slot = DUE_SLOT
    if (due > current) {
      if (due === this.#lastDue && current === this.#lastCurrent) {
        slot = this.#lastSlot
      } else {
        let level = 0
        while (level < LEVELS - 1 && Math.floor(due / SPAN[level + 1]!) !== Math.floor(current / SPAN[level + 1]!))
          level++
        slot = level * SLOTS + (Math.floor(due / SPAN[level]!) & SLOT_MASK)
        this.#lastDue = due
        this.#lastCurrent = current
        this.#lastSlot = slot
      }
      // Set again even for the last slot: a cancel may have emptied it and its bit been cleared.
      const index = slot & SLOT_MASK
      this.#occupied[(slot >>> SLOT_BITS) * 2 + (index >>> 5)]! |= 1 << (index & 31)
    }
    const head = this.#heads[slot]!
    const last = head.wheelPrev!
    node.wheelPrev = last
    node.wheelNext = head
    last.wheelNext = node
    head.wheelPrev = node
  }

  /** Empties a slot; returns its first node, the nodes chained by `wheelNext` and ending in null. */
  #detach(slot: number): TimerNode | null {
    const head = this.#heads[slot]!
    const first = head.wheelNext!
    if (slot !== DUE_SLOT) {
      const index = slot & SLOT_MASK
      this.#occupied[(slot >>> SLOT_BITS) * 2 + (index >>> 5)]! &= ~(1 << (index & 31))
    }
    if (first === head) return null
    head.wheelPrev!.wheelNext = null
    head.wheelPrev = head
    head.wheelNext = head
    return first
  }

  #drainSlot(slot: number, expired: TimerNode[]): void {
    let node = this.#detach(slot)
    while (node !== null) {
      const following: TimerNode | null = node.wheelNext
      node.wheelNext = null
      node.wheelPrev = null
      this.#size--
      expired.push(node)
      node = following
    }
  }

  /** Re-files every node against an earlier current time, after the clock was set back. */
  #rebase(now: number): void {
    const nodes: TimerNode[] = []
    for (let slot = 0; slot < DUE_SLOT; slot++) {
      let node = this.#detach(slot)
      while (node !== null) {
        const following: TimerNode | null = node.wheelNext
        node.wheelNext = null
        node.wheelPrev = null
        nodes.push(node)
        node = following
      }
    }
    this.#current = now
    for (const node of nodes) this.#insert(node)
  }

  #arm(): void {
    if (this.#isClosed) return
    if (this.#size === 0) {
      this.#disarm()
      return
    }
    const now = this.#clock.now()
    const due = this.#heads[DUE_SLOT]!
    const next = due.wheelNext !== due ? now : this.#nextSlotStart()
    // A clock set back leaves `next` far ahead; the capped sleep re-checks it regularly.
    const wakeAt = Math.min(Math.max(next, now), now + this.#maxSleepMs)
    if (this.#timer !== undefined) {
      if (wakeAt >= this.#armedAt && this.#armedAt >= now) {
        if (this.#isIdle) this.#wake()
        return
      }
      this.#clock.clearTimer(this.#timer)
    }
    this.#isIdle = false
    this.#armedAt = wakeAt
    this.#timer = this.#clock.setTimer(
      () => {
        this.#timer = undefined
        this.#armedAt = Infinity
        this.advance()
      },
      Math.max(0, Math.ceil(wakeAt - now)),
    )
    if (this.#unref) this.#timer.unref?.()
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer)
    this.#timer = undefined
    this.#armedAt = Infinity
    this.#isIdle = false
  }

  /**
   * The wheel has emptied by a cancel. Speed trick (workload W4, one job per request): its timer
   * is left to lapse, unref'd so it holds no process open, and fires when it was set to (for the
   * node then due first) finding nothing, and is not set again; a node scheduled meanwhile that is
   * due no earlier refs it again instead of clearing one Node timer and setting another. The attempt timeouts'
   * wheel empties whenever no attempt runs, which with one job per event-loop turn made a
   * `clearTimeout` and a `setTimeout` per job. The obvious version is `#disarm()`, which a clock
   * whose timers cannot be ref'd again still gets.
   */
  #idle(): void {
    const timer = this.#timer
    if (timer === undefined) return
    if (typeof timer.ref !== 'function' || typeof timer.unref !== 'function') {
      this.#disarm()
      return
    }
    this.#isIdle = true
    if (!this.#unref) timer.unref()
  }

  /** A node was scheduled into an idle wheel whose lapsing timer wakes early enough for it. */
  #wake(): void {
    this.#isIdle = false
    if (!this.#unref) this.#timer?.ref?.()
  }
}

/**
 * `value` (an integer), made a small integer V8 stores in place in an object's field where it fits
 * in 32 bits. Workload W3: a tick computed from two times in ms (doubles) is a heap number even
 * when its value is small, and one heap number stored in a field turns that field into a boxed
 * double for every record: 16 more bytes per tick field on each of a million pending jobs.
 */
export function asSmallInteger(value: number): number {
  const small = value | 0
  return small === value ? small : value
}

/** Takes a scheduled node out of its slot's list. */
function unlink(node: TimerNode): void {
  const prev = node.wheelPrev!
  const next = node.wheelNext!
  prev.wheelNext = next
  next.wheelPrev = prev
  node.wheelPrev = null
  node.wheelNext = null
}

/** The lowest set bit at index >= `from` in the 64-bit word (lo, hi), or -1. */
function nextSetBit(lo: number, hi: number, from: number): number {
  if (from < 32) {
    const masked = lo & (~0 << from)
    if (masked !== 0) return 31 - Math.clz32(masked & -masked)
    from = 32
  }
  if (from < 64) {
    const masked = hi & (~0 << (from - 32))
    if (masked !== 0) return 63 - Math.clz32(masked & -masked)
  }
  return -1
}
