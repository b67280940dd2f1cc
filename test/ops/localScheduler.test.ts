/** The local scheduler: same jobs, same schedules, no overlap, alerts acked or retried through the in-process queue. */
import { describe, expect, it } from 'vitest';
import { MemoryEventQueues } from '../../services/events/memoryQueue.js';
import type { AlertEvent } from '../../services/events/types.js';
import { MemoryDeliveryLedger, type AlertChannel } from '../../services/ops/alertDispatch.js';
import type { FormattedAlert } from '../../services/ops/alertFormat.js';
import { LocalScheduler, type SchedulerTimer } from '../../services/ops/localScheduler.js';
import { MemoryKillSwitch, RecordingPublisher } from './helpers.js';

/** A timer whose intervals fire only when the test says so. */
class ManualTimer implements SchedulerTimer {
  readonly intervals: { fn: () => void; ms: number }[] = [];
  setInterval(fn: () => void, ms: number): unknown {
    this.intervals.push({ fn, ms });
    return this.intervals.length - 1;
  }
  clearInterval(h: unknown): void {
    const i = this.intervals[h as number];
    if (i) i.fn = () => undefined;
  }
}

class RecordingChannel implements AlertChannel {
  readonly sent: string[] = [];
  failures = 0;
  constructor(readonly name: string) {}
  send(m: FormattedAlert): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('down'));
    }
    this.sent.push(m.text);
    return Promise.resolve();
  }
}

const alert = (id: string): AlertEvent => ({ type: 'alert', id, time: 0, severity: 'warning', title: `BTCUSDT ${id}`, detail: '' });

describe('local scheduler', () => {
  it('registers the Lambda schedules: sweep every minute, switch watch every 5 s, alerts every 2 s', () => {
    const timer = new ManualTimer();
    const ks = new MemoryKillSwitch();
    const q = new MemoryEventQueues({ now: () => 0 });
    const s = new LocalScheduler(
      {
        riskSweep: { everyMs: 60_000, run: () => Promise.resolve() },
        killSwitchWatch: { everyMs: 5000, source: ks, onEmergency: () => Promise.resolve(), alerts: new RecordingPublisher(), now: () => 0 },
        alerts: { everyMs: 2000, queue: q.queue('alerts'), channels: [], ledger: new MemoryDeliveryLedger(1000, () => 0) },
      },
      timer,
    );
    s.start();
    expect(timer.intervals.map((i) => i.ms)).toEqual([60_000, 5000, 2000]);
  });

  it('does not overlap a job with itself', async () => {
    let release: () => void = () => undefined;
    let calls = 0;
    const s = new LocalScheduler({ riskSweep: { everyMs: 60_000, run: () => (calls++, new Promise<void>((r) => (release = r))) } }, new ManualTimer());
    const a = s.tick('riskSweep');
    const b = s.tick('riskSweep');
    release();
    await Promise.all([a, b]);
    expect(calls).toBe(1);
    const c = s.tick('riskSweep');
    release();
    await c;
    expect(calls).toBe(2);
  });

  it('runs the emergency stop once when the switch changes into EMERGENCY_STOP, again after it left and came back', async () => {
    const ks = new MemoryKillSwitch('RUNNING');
    let stops = 0;
    const s = new LocalScheduler({ killSwitchWatch: { everyMs: 5000, source: ks, onEmergency: () => Promise.resolve(void stops++), alerts: new RecordingPublisher(), now: () => 0 } }, new ManualTimer());
    await s.tick('killSwitchWatch');
    ks.value = 'EMERGENCY_STOP';
    await s.tick('killSwitchWatch');
    await s.tick('killSwitchWatch');
    expect(stops).toBe(1);
    ks.value = 'RUNNING';
    await s.tick('killSwitchWatch');
    ks.value = 'EMERGENCY_STOP';
    await s.tick('killSwitchWatch');
    expect(stops).toBe(2);
  });

  it('alerts on an unknown value once per distinct value, runs no emergency stop on it, and alerts again after a valid value', async () => {
    const ks = new MemoryKillSwitch('RUNNING');
    const alerts = new RecordingPublisher();
    let stops = 0;
    let now = 1000;
    const s = new LocalScheduler({ killSwitchWatch: { everyMs: 5000, source: ks, onEmergency: () => Promise.resolve(void stops++), alerts, now: () => now } }, new ManualTimer());
    await s.tick('killSwitchWatch');
    expect(alerts.alerts).toEqual([]);
    // The mistyped emergency stops of issue 15: each is one page, not one per poll.
    for (const typo of ['emergency_stop', 'EMERGENCY STOP', '']) {
      ks.value = typo;
      now += 5000;
      await s.tick('killSwitchWatch');
      await s.tick('killSwitchWatch');
    }
    expect(stops).toBe(0);
    expect(alerts.alerts.map((a) => [a.severity, a.title, a.time])).toEqual([
      ['critical', 'Kill switch holds an unknown value', 6000],
      ['critical', 'Kill switch holds an unknown value', 11_000],
      ['critical', 'Kill switch holds an unknown value', 16_000],
    ]);
    expect(alerts.alerts[0]?.detail).toContain('"emergency_stop"');
    expect(alerts.alerts[0]?.detail).toContain('does NOT run');
    expect(alerts.alerts[1]?.detail).toContain('"EMERGENCY STOP"');
    // Back to a valid value and then the same typo again: a new problem, a new alert.
    ks.value = 'PAUSED';
    await s.tick('killSwitchWatch');
    ks.value = 'emergency_stop';
    now += 5000;
    await s.tick('killSwitchWatch');
    expect(alerts.alerts).toHaveLength(4);
  });

  it('a failed alert publish is reported and tried again at the next poll', async () => {
    const ks = new MemoryKillSwitch('emergency_stop');
    const sent: string[] = [];
    let fail = true;
    const errors: string[] = [];
    const alerts = { publish: (e: { id: string }) => (fail ? Promise.reject(new Error('queue down')) : Promise.resolve(void sent.push(e.id))) };
    const s = new LocalScheduler({ killSwitchWatch: { everyMs: 5000, source: ks, onEmergency: () => Promise.resolve(), alerts, now: () => 7 } }, new ManualTimer(), (job, e) => errors.push(`${job}: ${(e as Error).message}`));
    await s.tick('killSwitchWatch');
    expect(errors).toEqual(['killSwitchWatch: queue down']);
    fail = false;
    await s.tick('killSwitchWatch');
    await s.tick('killSwitchWatch');
    expect(sent).toHaveLength(1);
  });

  it('dispatches a twice-queued alert once: the failed copy is reported and retried later as a duplicate', async () => {
    let now = 0;
    const queues = new MemoryEventQueues({ now: () => now });
    const sms = new RecordingChannel('sms');
    sms.failures = 1;
    const errors: string[] = [];
    const s = new LocalScheduler(
      { alerts: { everyMs: 2000, queue: queues.queue('alerts'), channels: [sms], ledger: new MemoryDeliveryLedger(60_000, () => now), retryDelayMs: 1000 } },
      new ManualTimer(),
      (job, e) => errors.push(`${job}: ${(e as Error).message}`),
    );
    await queues.publish(alert('a1'));
    await queues.publish(alert('a1'));
    // First copy: the channel fails (reported, nacked); second copy: delivered.
    await s.tick('alerts');
    expect(errors).toEqual(['alerts: alert a1 not delivered to sms: Error: down']);
    expect(sms.sent).toHaveLength(1);
    expect(sms.sent[0]).toContain('BTCUSDT a1');
    // Before the retry delay nothing is visible; after it the failed copy comes back and is a duplicate.
    now = 500;
    await s.tick('alerts');
    now = 5000;
    await s.tick('alerts');
    expect(s.runs.alerts).toBe(2);
    expect(sms.sent).toHaveLength(1);
    now = 10_000;
    await s.tick('alerts');
    expect(s.runs.alerts).toBe(2);
  });
});
