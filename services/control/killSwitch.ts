/**
 * The kill switch: one operator-controlled value that says whether the system may trade.
 *
 * - RUNNING: normal trading.
 * - PAUSED: no new entries; open positions are still managed (stops, targets, time stops).
 * - EMERGENCY_STOP: cancel every open order, close every position, halt.
 *
 * In AWS the value lives in an SSM parameter, locally in a file; both sit behind `KillSwitchSource`.
 * `KillSwitch` wraps a source with the rules that make it safe to poll from the hot path:
 *
 * - Reads are cached: at most one read of the source per `minReadIntervalMs` (5 s), counted from the
 *   last read attempt, failed or not, so a failing or throttled SSM is not hammered. Concurrent
 *   callers share one in-flight read.
 * - Values are validated here, in one place, whatever the adapter: a value that is not one of the
 *   three states (a typo in the parameter, an unparsable file) is treated as PAUSED and reported.
 *   Never RUNNING: a broken off switch must not let the system trade on.
 * - A failed read keeps the last good value and is reported. Once `maxStaleMs` has passed without a
 *   successful read, the switch reports PAUSED (fail-safe) and says so.
 * - Every change of the effective state is sent to the listeners (from, to, time, cause).
 *
 * Where this says "PAUSED (fail-safe)", the state is actually the more restrictive of PAUSED and the
 * last good value, so a switch that was at EMERGENCY_STOP never relaxes to PAUSED because SSM became
 * unreachable or someone mistyped.
 *
 * EMERGENCY_STOP is not latched here: the switch reports what the parameter says. The runtime latches
 * its own halt when it first sees EMERGENCY_STOP (it has cancelled orders and closed positions by then)
 * and stays halted until restarted, even if the parameter goes back to RUNNING; the operator resumes
 * with a `resume` write and a restart. Keeping the latch out of the switch keeps this class a plain,
 * testable view of the parameter, and lets the emergency-stop Lambda share it.
 *
 * Pure: no clock is read here, time comes from the injected `now`.
 */
import { DomainError } from '../core/errors.js';

/** The three values of the kill switch. */
export type KillSwitchState = 'RUNNING' | 'PAUSED' | 'EMERGENCY_STOP';

/** Every valid state, in order of restriction (least restrictive first). */
export const KILL_SWITCH_STATES: readonly KillSwitchState[] = ['RUNNING', 'PAUSED', 'EMERGENCY_STOP'];

/** What a source read: the stored text before validation, and what is wrong with it if the adapter knows. */
export interface KillSwitchReading {
  /** The stored value as text (e.g. 'PAUSED', or a typo such as 'PAUSD'). */
  readonly value: string;
  /**
   * Set when the adapter already knows the value is unusable (an unparsable file, a missing SSM
   * parameter); the switch then treats it as PAUSED and reports this text.
   */
  readonly problem?: string;
  /**
   * Who set the value and why, as the writer stored it ("telegram 123 @ana: /pause"), when the
   * source keeps it (the file's reason, the SSM parameter's description). Shown in the change line.
   */
  readonly reason?: string;
}

/**
 * The port behind the switch: an SSM parameter in AWS, a file locally.
 * `read` throws KillSwitchReadError when the value cannot be read at all (network, throttling,
 * permissions); a value that was read but is not valid is returned, not thrown.
 */
export interface KillSwitchSource {
  /** Reads the stored value. */
  read(): Promise<KillSwitchReading>;
  /** Stores `state` with a human reason (who and why; never a secret). Throws KillSwitchWriteError. */
  write(state: KillSwitchState, reason: string): Promise<void>;
}

/** Base class of kill-switch errors. */
export class KillSwitchError extends DomainError {
  override readonly name: string = 'KillSwitchError';
}

/** The source could not be read. `retryable` is true for throttling and transient network errors. */
export class KillSwitchReadError extends KillSwitchError {
  override readonly name: string = 'KillSwitchReadError';
  readonly retryable: boolean;
  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** The source could not be written; the state did not change (as far as this process knows). */
export class KillSwitchWriteError extends KillSwitchError {
  override readonly name: string = 'KillSwitchWriteError';
}

/** Why the effective state changed. */
export type KillSwitchChangeCause =
  /** The source said so. */
  | 'source'
  /** The source held an invalid value; treated as PAUSED. */
  | 'invalid_value'
  /** No successful read for maxStaleMs (or none yet and the first read failed); treated as PAUSED. */
  | 'stale'
  /** This process wrote the state through `set`. */
  | 'write';

/** A change of the effective state, sent to listeners. */
export interface KillSwitchChange {
  /** The previous effective state; undefined on the first read. */
  readonly from: KillSwitchState | undefined;
  readonly to: KillSwitchState;
  /** Epoch ms of the read (or write) that produced the change. */
  readonly at: number;
  readonly cause: KillSwitchChangeCause;
  /** Who made the change and why, when known (the stored reason, or the reason given to `set`). */
  readonly reason?: string;
}

/** The change in words, for a log line: who changed it, or why the switch chose the state itself. */
export function describeKillSwitchChange(c: KillSwitchChange): string {
  const arrow = `${c.from ?? '-'} -> ${c.to}`;
  switch (c.cause) {
    case 'source':
      return `${arrow} by ${c.reason ? `"${c.reason}"` : 'an unnamed writer'} (read from the switch)`;
    case 'write':
      return `${arrow} by this process${c.reason ? `: "${c.reason}"` : ''}`;
    case 'invalid_value':
      return `${arrow}: the switch holds an invalid value, treated as ${c.to}`;
    case 'stale':
      return `${arrow}: the switch could not be read for too long, treated as ${c.to}`;
  }
}

/** Something an operator should know about; the switch never throws for these. */
export type KillSwitchProblem =
  | {
      readonly kind: 'invalid_value';
      readonly at: number;
      /** The offending value, cut to 64 characters. */
      readonly value: string;
      readonly detail: string;
      /** What the switch uses instead (PAUSED, or EMERGENCY_STOP if that was the last good value). */
      readonly treatedAs: KillSwitchState;
    }
  | {
      readonly kind: 'read_failed';
      readonly at: number;
      readonly error: unknown;
      /** The last good value, still in use. */
      readonly keptState: KillSwitchState;
      /** Milliseconds since the last successful read. */
      readonly staleForMs: number;
    }
  | {
      readonly kind: 'stale';
      readonly at: number;
      readonly error: unknown;
      /** Milliseconds since the last successful read; undefined when there never was one. */
      readonly staleForMs: number | undefined;
      readonly treatedAs: KillSwitchState;
    };

export interface KillSwitchOptions {
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** At most one source read per this many ms (default 5000). */
  readonly minReadIntervalMs?: number;
  /** After this long without a successful read, the state is PAUSED (default 60000). */
  readonly maxStaleMs?: number;
  /** Called for invalid values, failed reads and staleness. */
  readonly onProblem?: (problem: KillSwitchProblem) => void;
}

export const DEFAULT_MIN_READ_INTERVAL_MS = 5000;
export const DEFAULT_MAX_STALE_MS = 60_000;

/** Longest value quoted in a problem report; the rest is cut (a file could hold anything). */
const MAX_QUOTED_VALUE = 64;

/** Whether `value` is one of the three states (exact, case-sensitive). */
export function isKillSwitchState(value: string): value is KillSwitchState {
  return (KILL_SWITCH_STATES as readonly string[]).includes(value);
}

/** The more restrictive of two states (EMERGENCY_STOP > PAUSED > RUNNING). */
export function mostRestrictive(a: KillSwitchState, b: KillSwitchState | undefined): KillSwitchState {
  if (b === undefined) return a;
  return KILL_SWITCH_STATES.indexOf(a) >= KILL_SWITCH_STATES.indexOf(b) ? a : b;
}

/**
 * Validates a reading: surrounding whitespace is ignored (a file edited by hand ends in a newline);
 * anything else that is not exactly a state is invalid. Returns the state, or the reason it is not one.
 */
export function parseKillSwitchValue(reading: KillSwitchReading): { ok: true; state: KillSwitchState } | { ok: false; detail: string } {
  if (reading.problem !== undefined) return { ok: false, detail: reading.problem };
  const v = reading.value.trim();
  if (isKillSwitchState(v)) return { ok: true, state: v };
  return { ok: false, detail: `unknown kill-switch value "${quote(v)}" (expected ${KILL_SWITCH_STATES.join(', ')})` };
}

function quote(v: string): string {
  return v.length > MAX_QUOTED_VALUE ? `${v.slice(0, MAX_QUOTED_VALUE)}...` : v;
}

/** A cached, validated, fail-safe view of a KillSwitchSource. See the file comment for the rules. */
export class KillSwitch {
  private readonly source: KillSwitchSource;
  private readonly now: () => number;
  private readonly minReadIntervalMs: number;
  private readonly maxStaleMs: number;
  private readonly onProblem: (p: KillSwitchProblem) => void;
  private readonly listeners = new Set<(c: KillSwitchChange) => void>();

  /** The effective state (what `current` returns); undefined before the first read. */
  private state: KillSwitchState | undefined;
  /** The last valid value read from the source (or written), and when. */
  private lastGood: KillSwitchState | undefined;
  private lastGoodAt: number | undefined;
  private lastAttemptAt: number | undefined;
  private inFlight: Promise<KillSwitchState> | undefined;

  constructor(source: KillSwitchSource, options: KillSwitchOptions) {
    const minRead = options.minReadIntervalMs ?? DEFAULT_MIN_READ_INTERVAL_MS;
    const maxStale = options.maxStaleMs ?? DEFAULT_MAX_STALE_MS;
    if (!(Number.isFinite(minRead) && minRead >= 0)) throw new KillSwitchError(`minReadIntervalMs must be a finite number >= 0, got ${minRead}`);
    if (!(Number.isFinite(maxStale) && maxStale > 0)) throw new KillSwitchError(`maxStaleMs must be a finite number > 0, got ${maxStale}`);
    this.source = source;
    this.now = options.now;
    this.minReadIntervalMs = minRead;
    this.maxStaleMs = maxStale;
    this.onProblem = options.onProblem ?? (() => undefined);
  }

  /**
   * The effective state. Reads the source when the last read attempt is at least
   * `minReadIntervalMs` old (or there was none); otherwise returns the cached state. Never throws
   * for a failing source: it reports and falls back as described in the file comment.
   */
  current(): Promise<KillSwitchState> {
    if (this.inFlight) return this.inFlight;
    const t = this.now();
    if (this.state !== undefined && this.lastAttemptAt !== undefined && t - this.lastAttemptAt < this.minReadIntervalMs) {
      return Promise.resolve(this.state);
    }
    this.lastAttemptAt = t;
    const p = this.refresh(t).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  /** The effective state as of the last read, without reading; undefined before the first read. */
  peek(): KillSwitchState | undefined {
    return this.state;
  }

  /** Registers a listener for changes of the effective state; returns a function that removes it. */
  onChange(listener: (change: KillSwitchChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Writes `state` to the source (e.g. the risk sweep pausing trading) and, once the write
   * succeeded, uses it at once as the last good value. Throws KillSwitchWriteError from the source.
   */
  async set(state: KillSwitchState, reason: string): Promise<void> {
    await this.source.write(state, reason);
    const t = this.now();
    this.lastGood = state;
    this.lastGoodAt = t;
    this.lastAttemptAt = t;
    this.apply(state, t, 'write', reason);
  }

  private async refresh(t: number): Promise<KillSwitchState> {
    let reading: KillSwitchReading;
    try {
      reading = await this.source.read();
    } catch (error) {
      return this.onReadFailure(t, error);
    }
    const parsed = parseKillSwitchValue(reading);
    if (parsed.ok) {
      this.lastGood = parsed.state;
      this.lastGoodAt = t;
      this.apply(parsed.state, t, 'source', reading.reason);
      return parsed.state;
    }
    // The read itself worked, so this is not staleness; the last good value is not updated, since
    // the parameter no longer says it.
    const treatedAs = mostRestrictive('PAUSED', this.lastGood);
    this.report({ kind: 'invalid_value', at: t, value: quote(reading.value.trim()), detail: parsed.detail, treatedAs });
    this.apply(treatedAs, t, 'invalid_value');
    return treatedAs;
  }

  private onReadFailure(t: number, error: unknown): KillSwitchState {
    const staleForMs = this.lastGoodAt === undefined ? undefined : t - this.lastGoodAt;
    if (this.lastGood !== undefined && staleForMs !== undefined && staleForMs < this.maxStaleMs) {
      // Keep whatever the state currently is: the last good value, or an invalid-value PAUSED that
      // came after it (a failed read says nothing new about the parameter).
      const kept = this.state ?? this.lastGood;
      this.report({ kind: 'read_failed', at: t, error, keptState: kept, staleForMs });
      return kept;
    }
    const treatedAs = mostRestrictive('PAUSED', this.lastGood);
    this.report({ kind: 'stale', at: t, error, staleForMs, treatedAs });
    this.apply(treatedAs, t, 'stale');
    return treatedAs;
  }

  /** Sends a problem to the callback; a throwing callback must not turn a fallback into a failure. */
  private report(problem: KillSwitchProblem): void {
    try {
      this.onProblem(problem);
    } catch {
      /* the reporter's own failure is its concern; the switch still answers */
    }
  }

  private apply(to: KillSwitchState, at: number, cause: KillSwitchChangeCause, reason?: string): void {
    const from = this.state;
    this.state = to;
    if (from === to) return;
    const change: KillSwitchChange = { from, to, at, cause, ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    for (const l of [...this.listeners]) {
      // A throwing listener must not stop the others or break the read loop.
      try {
        l(change);
      } catch {
        /* listeners report their own failures */
      }
    }
  }
}
