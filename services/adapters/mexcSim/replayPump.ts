/**
 * Drives a replay into the simulator: by hand (`advanceTo`, synchronous, for tests and manual
 * mode) or in real or accelerated time (`start`), in which case a backlog is worked off in turns of
 * at most `maxEventsPerTurn` events with the event loop free in between. A server that fell behind
 * (at 600x, or after a pause) must keep answering requests and pings while it catches up, instead
 * of spending seconds in one synchronous call.
 */
import type { MarketDataEvent } from '../../sim/types.js';

/** The replay the server can drive (CandleReplay from services/sim/replay.ts fits). */
export interface ReplaySource {
  /** Time of the next event, undefined when none is left. */
  peekTime(): number | undefined;
  /** Every event with a time up to `time` (inclusive), in order. */
  until(time: number): readonly MarketDataEvent[];
  readonly done: boolean;
}

export interface ReplayPumpOptions {
  /** Events handed out before the pump yields to the event loop (default 2,000). */
  readonly maxEventsPerTurn?: number;
  /** How the pump yields; default setImmediate (I/O runs before the next turn). */
  readonly yieldTurn?: (next: () => void) => void;
}

/** Period of the replay timer at speed. */
const TICK_MS = 100;
const DEFAULT_EVENTS_PER_TURN = 2_000;

/** Moves a replay forward and keeps its clock (the market-data clock of the server). */
export class ReplayPump {
  private clockMs: number;
  private target = -Infinity;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly maxPerTurn: number;
  private readonly yieldTurn: (next: () => void) => void;

  constructor(
    private readonly replay: ReplaySource,
    private readonly ingest: (e: MarketDataEvent) => void,
    initialClock: number,
    opts: ReplayPumpOptions = {},
  ) {
    this.clockMs = initialClock;
    this.maxPerTurn = opts.maxEventsPerTurn ?? DEFAULT_EVENTS_PER_TURN;
    if (!Number.isInteger(this.maxPerTurn) || this.maxPerTurn < 1) throw new RangeError(`maxEventsPerTurn must be a positive integer, got ${this.maxPerTurn}`);
    this.yieldTurn = opts.yieldTurn ?? ((next) => setImmediate(next));
  }

  /** The replay time reached (events up to it have been handed out). */
  get clock(): number {
    return this.clockMs;
  }

  get done(): boolean {
    return this.replay.done;
  }

  /** Hands out every event up to `time` (inclusive) at once; returns how many. */
  advanceTo(time: number): number {
    const events = this.replay.until(time);
    for (const e of events) this.ingest(e);
    if (time > this.clockMs) this.clockMs = time;
    return events.length;
  }

  /**
   * Hands out every event up to `time`, `maxEventsPerTurn` at a time with the event loop free in
   * between; resolves when the clock has reached `time` (or the pump was stopped).
   */
  catchUpTo(time: number): Promise<void> {
    if (time > this.target) this.target = time;
    const reached = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.kick();
    return reached;
  }

  /**
   * Runs the replay from the current clock at `speed` times real time on the `now` clock, until
   * it is done or `stop` is called.
   */
  start(speed: number, now: () => number): void {
    const wallStart = now();
    const clockStart = this.clockMs;
    this.timer = setInterval(() => {
      if (this.replay.done) {
        this.stopTimer();
        return;
      }
      void this.catchUpTo(clockStart + (now() - wallStart) * speed);
    }, TICK_MS);
    this.timer.unref();
  }

  /** Stops the timer and any catch-up in progress; pending catch-ups resolve. */
  stop(): void {
    this.stopped = true;
    this.stopTimer();
    this.release();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (this.running || this.stopped) {
      if (this.stopped) this.release();
      return;
    }
    this.running = true;
    this.turn();
  }

  /** One turn: at most maxEventsPerTurn events (whole timestamps), then yield or finish. */
  private turn(): void {
    if (this.stopped) {
      this.running = false;
      this.release();
      return;
    }
    let n = 0;
    for (let t = this.replay.peekTime(); t !== undefined && t <= this.target && n < this.maxPerTurn; t = this.replay.peekTime()) {
      // All events of one timestamp together: a book and its trade belong to the same instant.
      for (const e of this.replay.until(t)) {
        this.ingest(e);
        n++;
      }
      if (t > this.clockMs) this.clockMs = t;
    }
    const next = this.replay.peekTime();
    if (next !== undefined && next <= this.target) {
      this.yieldTurn(() => this.turn());
      return;
    }
    if (this.target > this.clockMs) this.clockMs = this.target;
    this.running = false;
    this.release();
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
