/**
 * The local stand-in for EventBridge and the Lambda triggers (local mode, `npm start`): runs the
 * same service functions the Lambdas run, on the same schedules.
 *
 * | cloud | here |
 * |---|---|
 * | schedule rate(1 minute) -> risk-sweep Lambda | `riskSweep.run` every `everyMs` (60 s) |
 * | SSM parameter change -> emergency-stop Lambda | the kill switch polled every `everyMs` (5 s); a change INTO EMERGENCY_STOP calls `onEmergency`; an unknown value (a mistyped `emergency_stop`, an empty file) is alerted, once per distinct value, as the Lambda does |
 * | alerts queue -> alert-dispatcher Lambda | the alerts EventQueue polled every `everyMs`; each alert dispatched, acked, or nacked to be retried |
 *
 * A job never overlaps itself (a tick while it runs is skipped), errors go to `onError` and never
 * stop the scheduler. The timer is injected (no clock here).
 */
import { parseKillSwitchValue, type KillSwitchSource, type KillSwitchState } from '../control/killSwitch.js';
import type { EventPublisher, EventQueue } from '../events/types.js';
import { dispatchAlert, type AlertChannel, type DeliveryLedger } from './alertDispatch.js';
import { unknownSwitchAlert } from './killSwitchEscalation.js';

export interface SchedulerTimer {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface LocalJobs {
  readonly riskSweep?: { readonly everyMs: number; readonly run: () => Promise<unknown> };
  readonly killSwitchWatch?: {
    readonly everyMs: number;
    readonly source: KillSwitchSource;
    readonly onEmergency: () => Promise<unknown>;
    /**
     * Where the unknown-value alert goes (the alerts queue) and the clock it is stamped with. A
     * mistyped EMERGENCY_STOP does nothing here, so it must page someone, as the Lambda's reader does.
     */
    readonly alerts: EventPublisher;
    readonly now: () => number;
  };
  readonly alerts?: {
    readonly everyMs: number;
    readonly queue: EventQueue;
    readonly channels: readonly AlertChannel[];
    readonly ledger: DeliveryLedger;
    readonly stage?: string;
    /** Visibility of a received alert while it is dispatched (default 30 s). */
    readonly visibilityMs?: number;
    /** Delay before a failed alert is visible again (default 10 s). */
    readonly retryDelayMs?: number;
  };
}

export type JobName = 'riskSweep' | 'killSwitchWatch' | 'alerts';

export class LocalScheduler {
  private readonly handles: unknown[] = [];
  private readonly running = new Map<JobName, Promise<void>>();
  private lastSwitch: KillSwitchState | undefined;
  /** The unknown kill-switch value last alerted on (polled every 5 s: one alert per distinct value, reset by a valid one). */
  private alertedValue: string | undefined;
  /** Runs per job (ticks that did work), for status and tests. */
  readonly runs: Record<JobName, number> = { riskSweep: 0, killSwitchWatch: 0, alerts: 0 };

  constructor(
    private readonly jobs: LocalJobs,
    private readonly timer: SchedulerTimer,
    private readonly onError: (job: JobName, error: unknown) => void = () => undefined,
  ) {}

  /** Starts every configured job's interval. */
  start(): void {
    for (const name of ['riskSweep', 'killSwitchWatch', 'alerts'] as const) {
      const job = this.jobs[name];
      if (job) this.handles.push(this.timer.setInterval(() => void this.tick(name), job.everyMs));
    }
  }

  /** Stops the intervals and waits for running jobs. */
  async stop(): Promise<void> {
    for (const h of this.handles.splice(0)) this.timer.clearInterval(h);
    await Promise.all([...this.running.values()]);
  }

  /** Runs one job now unless it is already running (what each interval tick calls). */
  tick(name: JobName): Promise<void> {
    const busy = this.running.get(name);
    if (busy) return busy;
    const p = this.runJob(name)
      .catch((e: unknown) => {
        try {
          this.onError(name, e);
        } catch {
          /* the reporter's failure is its own */
        }
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, p);
    return p;
  }

  private async runJob(name: JobName): Promise<void> {
    if (name === 'riskSweep' && this.jobs.riskSweep) {
      this.runs.riskSweep++;
      await this.jobs.riskSweep.run();
    } else if (name === 'killSwitchWatch' && this.jobs.killSwitchWatch) {
      const w = this.jobs.killSwitchWatch;
      const parsed = parseKillSwitchValue(await w.source.read());
      const state = parsed.ok ? parsed.state : undefined;
      if (parsed.ok) this.alertedValue = undefined;
      else if (parsed.detail !== this.alertedValue) {
        const alert = unknownSwitchAlert('local-scheduler', { kind: 'invalid', detail: parsed.detail }, w.now(), 'The emergency stop does NOT run on it (the hot path treats it as PAUSED: no new entries).');
        // Marked alerted only once published: a failed publish is reported and tried again next poll.
        if (alert) await w.alerts.publish(alert);
        this.alertedValue = parsed.detail;
      }
      const entered = state === 'EMERGENCY_STOP' && this.lastSwitch !== 'EMERGENCY_STOP';
      if (state !== undefined) this.lastSwitch = state;
      if (entered) {
        this.runs.killSwitchWatch++;
        await w.onEmergency();
      }
    } else if (name === 'alerts' && this.jobs.alerts) {
      const a = this.jobs.alerts;
      const batch = await a.queue.receive(10, a.visibilityMs ?? 30_000);
      if (batch.length > 0) this.runs.alerts++;
      for (const m of batch) {
        if (m.event.type !== 'alert') {
          // Not for this consumer: back to the queue, which dead-letters it after its max receives.
          await a.queue.nack(m.receiptHandle, a.retryDelayMs ?? 10_000);
          continue;
        }
        try {
          await dispatchAlert(m.event, a.channels, a.ledger, a.stage);
          await a.queue.ack(m.receiptHandle);
        } catch (e) {
          this.onError('alerts', e);
          await a.queue.nack(m.receiptHandle, a.retryDelayMs ?? 10_000);
        }
      }
    }
  }
}
