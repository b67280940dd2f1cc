/**
 * The task's environment decides the AWS wiring (fargate/cloud.ts), and the EMF metric lines carry
 * exactly the names the alarms watch (lib/metrics.ts).
 */
import { describe, expect, it } from 'vitest';
import { cloudWiring } from '../../fargate/cloud.js';
import { EmfMetrics } from '../../fargate/metrics.js';
import { METRICS, METRIC_NAMESPACE } from '../../lib/metrics.js'; // the constructs' view of the names
import { ConfigError } from '../../services/core/errors.js';

describe('cloud wiring from the environment', () => {
  it('uses local stand-ins when nothing is set', () => {
    const w = cloudWiring({});
    expect(w.config).toEqual({});
    expect(w.killSwitchSource).toBeUndefined();
    expect(w.events).toBeUndefined();
  });

  it('STATE_TABLE selects DynamoDB without creating the table (the stack owns it); STATE_ENDPOINT points at a stand-in and creates it', () => {
    expect(cloudWiring({ STATE_TABLE: 'prod-state' }).config).toEqual({ stateStorage: 'dynamodb', tableName: 'prod-state', createTable: false });
    expect(cloudWiring({ STATE_ENDPOINT: 'http://127.0.0.1:4567' }).config).toEqual({ stateStorage: 'dynamodb', stateEndpoint: 'http://127.0.0.1:4567' });
  });

  it('KILL_SWITCH_PARAM selects the SSM kill switch; the three queue URLs select SQS, and a partial set is refused naming the missing ones', () => {
    const w = cloudWiring({ KILL_SWITCH_PARAM: '/mexc-scalper/dev/kill-switch', EVENTS_QUEUE_URL: 'https://sqs/e', ALERTS_QUEUE_URL: 'https://sqs/a', RETRAIN_QUEUE_URL: 'https://sqs/r' });
    expect(w.killSwitchSource).toBeDefined();
    expect(w.events).toBeDefined();
    expect(() => cloudWiring({ EVENTS_QUEUE_URL: 'https://sqs/e' })).toThrow(ConfigError);
    expect(() => cloudWiring({ EVENTS_QUEUE_URL: 'https://sqs/e' })).toThrow(/ALERTS_QUEUE_URL and RETRAIN_QUEUE_URL/);
  });
});

describe('EMF metrics', () => {
  it('one line a minute with the alarms’ namespace, dimension and names; counts reset after each flush', () => {
    const lines: string[] = [];
    const m = new EmfMetrics('dev', (l) => lines.push(l));
    m.heartbeat();
    m.heartbeat();
    m.order(false);
    m.order(true);
    m.dailyLossPct(1.25);
    m.resources({ cpuPct: 12, memoryPct: 40, diskPct: 7 });
    m.flush(1_700_000_000_000);
    m.flush(1_700_000_060_000);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } });
    expect(a!._aws.CloudWatchMetrics[0]!.Namespace).toBe(METRIC_NAMESPACE);
    expect(a!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['Stage']]);
    expect(a!._aws.CloudWatchMetrics[0]!.Metrics.map((x) => x.Name).sort()).toEqual(Object.values(METRICS).sort());
    expect(a).toMatchObject({ Stage: 'dev', Heartbeat: 2, Orders: 2, OrderErrors: 1, DailyLossPct: 1.25, CpuPct: 12, MemoryPct: 40, DiskPct: 7 });
    // A minute without beats reports 0, which the heartbeat alarm reads as missing.
    expect(b).toMatchObject({ Heartbeat: 0, Orders: 0, OrderErrors: 0, DailyLossPct: 1.25 });
  });
});

describe('EMF detail metrics', () => {
  it('one line per label combination under the shared names, the 1m feed lag and the gauges; none with detail off', () => {
    const lines: string[] = [];
    const m = new EmfMetrics('dev', (l) => lines.push(l));
    m.order(false, { exchange: 'mexc', status: 'new', type: 'market' });
    m.order(false, { exchange: 'mexc', status: 'new', type: 'market' });
    m.order(true, { exchange: 'mexc', status: 'rejected', type: 'limit' });
    m.signal('tradingview', 'accepted');
    m.riskRefusal('MAX_POSITIONS');
    m.gauges({ feedLagSeconds: { 'kline:BTCUSDT:1m': 3.5, 'book:BTCUSDT': 0.2 }, heartbeatAgeSeconds: 4, equity: 10012.5, dailyPnl: 12.5 });
    m.flush(1_700_000_000_000);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } });
    expect(parsed[0]).toMatchObject({ Orders: 3, OrderErrors: 1 });
    const rest = parsed.slice(1).map(({ _aws, ...v }) => ({ dims: _aws.CloudWatchMetrics[0]!.Dimensions[0], ...v }));
    expect(rest).toEqual([
      { dims: ['Stage', 'Exchange', 'Status', 'Type'], Stage: 'dev', Exchange: 'mexc', Status: 'new', Type: 'market', Orders: 2 },
      { dims: ['Stage', 'Exchange', 'Status', 'Type'], Stage: 'dev', Exchange: 'mexc', Status: 'rejected', Type: 'limit', Orders: 1 },
      { dims: ['Stage', 'Source', 'Outcome'], Stage: 'dev', Source: 'tradingview', Outcome: 'accepted', Signals: 1 },
      { dims: ['Stage', 'Reason'], Stage: 'dev', Reason: 'MAX_POSITIONS', RiskRefusals: 1 },
      { dims: ['Stage', 'Stream'], Stage: 'dev', Stream: 'kline:BTCUSDT:1m', FeedLagSeconds: 3.5 },
      { dims: ['Stage'], Stage: 'dev', HeartbeatAgeSeconds: 4, Equity: 10012.5, DailyPnl: 12.5 },
    ]);
    const off: string[] = [];
    const quiet = new EmfMetrics('dev', (l) => off.push(l), undefined, false);
    quiet.signal('tradingview', 'accepted');
    quiet.flush(1);
    expect(off).toHaveLength(1);
  });
});
