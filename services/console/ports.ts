/**
 * What the console (Telegram commands, the dashboard) reads and what it may change, as ports: the
 * local runtime and the AWS Lambdas implement them over the same state store, kill switch and
 * queues, so one command layer serves both.
 */
import type { KillSwitchState } from '../control/killSwitch.js';
import type { BacktestJobRequest } from './backtestJob.js';
import type { OperatorCommandEvent, RetrainRequestEvent } from '../events/types.js';
import type { RuntimeStatus } from '../live/status.js';
import type { CommandLogRecord, StateStore } from '../state/types.js';

/** The hot path's status document and when it was taken (wall clock). */
export interface StatusView {
  readonly doc: RuntimeStatus;
  readonly at: number;
  /** Extras of the snapshot: the last start-up reconciliation, when known. */
  readonly lastReconcile?: { readonly at: number; readonly summary: string };
}

export interface ConsoleView {
  /** The latest status; undefined when the hot path has not reported (not running, or starting). */
  status(): Promise<StatusView | undefined>;
  /** The kill switch as stored now. */
  killSwitch(): Promise<KillSwitchState>;
  /** Trades and daily stats. */
  readonly store: Pick<StateStore, 'listClosedTrades' | 'listDailyStats'>;
}

/** Answers sent later (a long job done, a command the hot path carried out). */
export type Notify = (html: string) => Promise<void>;

export interface ConsoleControl {
  /** Writes the kill switch with who and why (the SSM parameter on AWS, the file locally). */
  setKillSwitch(state: KillSwitchState, reason: string): Promise<void>;
  /** Queues a command for the hot path (the `commands` queue). */
  sendCommand(command: OperatorCommandEvent): Promise<void>;
  /**
   * Queues a retrain request (the `retrain` queue); its answer comes as an alert when it has run.
   * Undefined where no retrain job consumes the queue (`npm start`).
   */
  readonly requestRetrain?: (request: RetrainRequestEvent) => Promise<void>;
  /**
   * Starts a backtest job (services/console/backtestJob.ts) and resolves with the immediate answer;
   * the result comes to `notify` (locally: a child process) or as an alert from the backtest
   * Lambda (AWS: the `backtests` queue). Undefined where no runner is wired.
   */
  readonly runBacktest?: (job: BacktestJobRequest, notify: Notify) => Promise<string>;
  /**
   * Starts the /optimize job (services/console/optimizeJob.ts: the default space over the candle
   * archive) and resolves with the immediate answer, which says what runs; the result comes to
   * `notify` (locally) or as an alert from the research runner's report step (AWS). Undefined
   * where no runner exists.
   */
  readonly startOptimize?: (jobId: string, notify: Notify) => Promise<string>;
  /** Logs a command (the state table). Never throws into the command. */
  logCommand(entry: CommandLogRecord): Promise<void>;
  /**
   * The report of the current UTC day, ISO week or month so far (services/reporting/onDemand.ts),
   * as Telegram HTML. Undefined: /report shows the state table's daily figures instead.
   */
  readonly periodReport?: (period: 'daily' | 'weekly' | 'monthly', now: number) => Promise<string>;
  /** A signed dashboard link for an operator, or undefined when no dashboard URL is known. */
  dashboardLink?(userId: number): string | undefined;
}

/**
 * Keys claimed once within a time (update ids, taps, one-time codes): the idempotency table on AWS
 * (a conditional put), a bounded map locally.
 */
export interface OnceStore {
  /** True the first time `key` is claimed within `ttlMs`; false after. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

/** OnceStore in memory, bounded: the oldest keys are forgotten first past `max`. */
export class MemoryOnceStore implements OnceStore {
  private readonly keys = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly max = 10_000,
  ) {}

  claim(key: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    const until = this.keys.get(key);
    if (until !== undefined && until > t) return Promise.resolve(false);
    this.keys.delete(key);
    this.keys.set(key, t + ttlMs);
    while (this.keys.size > this.max) this.keys.delete(this.keys.keys().next().value as string);
    return Promise.resolve(true);
  }
}
