/**
 * What the runtime records for the reports besides trades and fills (services/state/reportRecords.ts):
 * heartbeat spans (uptime), kill-switch changes, halts and their lifting, rejected and stuck
 * orders, restart recoveries; and, at each UTC day's end on the market clock, the daily report
 * written to the local artifact store (`<dataDir>/artifacts/reports/daily/<day>.html`, the bucket's
 * layout). Every write is best effort: a failure is logged and counted, trading never waits on it.
 *
 * Clocks: uptime and kill-switch changes are wall-clock facts (is the process alive); halts,
 * rejections and stuck orders are stamped with the market clock, like the trades they belong to.
 */
import type { Config } from '../services/config/schema.js';
import type { KillSwitchState } from '../services/control/killSwitch.js';
import { DAY_MS } from '../services/core/timeframes.js';
import type { SafeExchangeEvent } from '../services/execution/safeExchangeTypes.js';
import type { ObjectStore } from '../services/ml/archive.js';
import type { RecoveryReport } from '../services/recovery/recover.js';
import { FileLinks } from '../services/adapters/s3/presignedLinks.js';
import type { PngRenderer } from '../services/reporting/render.js';
import { periodContaining } from '../services/reporting/period.js';
import { runPeriodReport } from '../services/reporting/run.js';
import type { HaltState } from '../services/risk/types.js';
import { utcDayOf, type OpsEventRecord, type StateStore } from '../services/state/types.js';

/** Beats further apart than this start a new uptime span: three missed 15 s heartbeats. */
export const UPTIME_MAX_GAP_MS = 45_000;

export interface OpsLogDeps {
  readonly store: StateStore;
  readonly owner: string;
  readonly mode: string;
  readonly config: Config;
  readonly wall: () => number;
  readonly market: () => number;
  readonly log: (line: string) => void;
  readonly err: (line: string) => void;
  /** The local artifact store and its folder (for file links), when the runtime writes reports. */
  readonly reports?: { readonly store: ObjectStore; readonly root: string; readonly renderer?: PngRenderer };
}

export class RuntimeOpsLog {
  readonly stats = { events: 0, failures: 0, reports: 0 };
  private lastHalt: HaltState = { halted: false };
  private emergencyRecorded = false;
  /** The market day whose end was last reported (or the day the runtime started on). */
  private reportedDay: string | undefined;
  private reporting: Promise<void> | undefined;

  constructor(private readonly d: OpsLogDeps) {}

  private put(e: OpsEventRecord): Promise<void> {
    return this.d.store.putOpsEventOnce(e).then(
      (fresh) => {
        if (fresh) this.stats.events++;
      },
      (x: unknown) => {
        this.stats.failures++;
        this.d.err(`ops log: ${e.type} not stored (${x instanceof Error ? `${x.name}: ${x.message}` : String(x)})`);
      },
    );
  }

  /** Resolves when no day-end report is being written. */
  idle(): Promise<void> {
    return this.reporting ?? Promise.resolve();
  }

  /** One heartbeat into the owner's uptime spans. */
  async beat(): Promise<void> {
    try {
      await this.d.store.recordUptime({ owner: this.d.owner, mode: this.d.mode, at: this.d.wall(), maxGapMs: UPTIME_MAX_GAP_MS });
    } catch (x) {
      this.stats.failures++;
      this.d.err(`uptime not recorded: ${x instanceof Error ? x.message : String(x)}`);
    }
  }

  killSwitch(from: KillSwitchState | undefined, to: KillSwitchState, cause: string): Promise<void> {
    const at = this.d.wall();
    return this.put({ id: `kill:${this.d.owner}:${at}:${to}`, at, type: 'kill_switch', code: to, detail: `${from ?? '-'} -> ${to} (${cause})`.slice(0, 1024) });
  }

  /**
   * A Telegram update from outside the allowlist: one event per sender and wall-clock minute, so
   * the reports count the attempts while a flood of them writes a bounded number of items.
   */
  consoleIgnored(e: { userId: number; chatId: number; kind: string; at: number }): Promise<void> {
    const minute = Math.floor(e.at / 60_000);
    return this.put({ id: `ignored:${e.userId}:${minute}`, at: e.at, type: 'console_ignored', code: e.kind, detail: `telegram ${e.kind} from user ${e.userId} in chat ${e.chatId} ignored: not on the allowlist`.slice(0, 1024) });
  }

  /** SafeExchange's rejected and stuck orders. */
  exchangeEvent(e: SafeExchangeEvent): Promise<void> | undefined {
    const at = this.d.market();
    if (e.type === 'rejected') return this.put({ id: `rejected:${e.clientOrderId}`, at, type: 'order_rejected', code: e.errorKind, detail: `${e.clientOrderId}: ${e.reason}`.slice(0, 1024) });
    if (e.type === 'stuck_order') return this.put({ id: `stuck:${e.clientOrderId}:${e.action}`, at, type: 'order_stuck', code: e.action, detail: `${e.clientOrderId}: ${e.detail}`.slice(0, 1024) });
    return undefined;
  }

  /** The start-up reconciliation: one `recovery` event, and a `reconcile_repair` when it changed anything. */
  async recovery(r: RecoveryReport, summary: string): Promise<void> {
    const at = this.d.wall();
    await this.put({ id: `recovery:${this.d.owner}:${at}`, at, type: 'recovery', detail: summary.slice(0, 1024) });
    const repairs =
      r.closedWhileDown.length + r.entriesWithoutFill.length + r.exitsForDownTime.length + r.orphanOrdersSettled + r.unknownOrdersCancelled.length + r.unknownOrdersAdopted.length + r.fillsLedgered + r.abandonedPaperPositions.length;
    if (repairs > 0) await this.put({ id: `repair:${this.d.owner}:${at}`, at, type: 'reconcile_repair', code: String(repairs), detail: summary.slice(0, 1024) });
  }

  /** Records a new halt of the risk engine (or the emergency stop's latch) and its lifting. */
  halt(state: HaltState, emergency = false): Promise<void> | undefined {
    if (emergency) {
      if (this.emergencyRecorded) return undefined;
      this.emergencyRecorded = true;
      return this.put({ id: `halt:EMERGENCY_STOP:${this.d.owner}`, at: this.d.market(), type: 'halt', code: 'EMERGENCY_STOP', detail: 'kill switch EMERGENCY_STOP: halted until a restart' });
    }
    const prev = this.lastHalt;
    if (state.halted && (!prev.halted || prev.since !== state.since || prev.reason !== state.reason)) {
      this.lastHalt = state;
      return this.put({ id: `halt:${state.reason}:${state.since}`, at: state.since, type: 'halt', code: state.reason, detail: `${state.detail}${state.until ? ` (until ${new Date(state.until).toISOString()})` : ''}`.slice(0, 1024) });
    }
    if (!state.halted && prev.halted) {
      this.lastHalt = state;
      const at = this.d.market();
      return this.put({ id: `lifted:${prev.reason}:${prev.since}`, at, type: 'halt_lifted', code: prev.reason, detail: `lifted after ${Math.round((at - prev.since) / 60_000)} min` });
    }
    return undefined;
  }

  /**
   * Called on a timer: when the market clock has entered a new UTC day since the last call, writes
   * the daily report of the day that ended (after `settle`, the runtime's in-flight writes). The
   * day the runtime started on is reported too, when its end is reached.
   */
  dayEnd(settle: () => Promise<unknown>): Promise<void> | undefined {
    const r = this.d.reports;
    if (!r || this.reporting) return undefined;
    // The last day that has ended on the market clock: yesterday.
    const ended = utcDayOf(this.d.market() - DAY_MS);
    if (this.reportedDay === undefined) {
      // Started today: the first report is of today, when it ends.
      this.reportedDay = ended;
      return undefined;
    }
    if (ended <= this.reportedDay) return undefined;
    this.reportedDay = ended;
    this.reporting = (async () => {
      try {
        await settle();
        const res = await runPeriodReport(
          { store: this.d.store, config: this.d.config, now: this.d.market, ...(r.renderer ? { renderer: r.renderer } : {}), channels: { archive: r.store, signer: new FileLinks(r.root) }, mode: this.d.mode },
          periodContaining('daily', Date.parse(`${ended}T00:00:00Z`)),
        );
        this.stats.reports++;
        const f = res.figures;
        this.d.log(`REPORT daily ${ended}: ${f.trades} trade(s), net ${f.netPnl} ${f.quoteAsset}, fees ${f.fees} -> ${r.root}/reports/daily/${ended}.html`);
      } catch (x) {
        this.stats.failures++;
        this.d.err(`daily report ${ended} failed: ${x instanceof Error ? `${x.name}: ${x.message}` : String(x)}`);
      } finally {
        this.reporting = undefined;
      }
    })();
    return this.reporting;
  }
}
