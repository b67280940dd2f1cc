/**
 * The exchange-failure halt end to end (issue 15, the seeds' failsafes): the runtime (paper: the
 * MEXC simulator over loopback for market data and REST, fills by the paper venue) with its wall
 * clock in the test's hands. The simulator's REST
 * answers 5xx to everything; once that has lasted the configured 5 minutes, the entry gate refuses
 * every new entry and one critical alert says why, while an open position's stop still goes out;
 * when the exchange answers again the halt lifts, one info alert says so, and entries pass again.
 *
 * The runtime runs its health check and the 24h-ticker refresh on 15 s and 5 min timers; the test
 * calls the same check and refresh at the times it sets, rather than waiting for those timers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../fargate/runtime.js';
import { parseRuntimeConfig } from '../../fargate/runtimeConfig.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle, type SymbolId } from '../../services/core/types.js';
import { MemoryEventQueues } from '../../services/events/memoryQueue.js';
import type { AlertEvent } from '../../services/events/types.js';
import type { Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { NO_FAULTS } from '../../services/sim/faults.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import type { Strategy } from '../../services/strategy/port.js';

const BTC = symbolId('BTCUSDT');
const ETH = symbolId('ETHUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const MIN = 60_000;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Wants in on every closed candle of the symbols in `want` while flat there: each decision reaches the gate. */
class EnterWhenAsked implements Strategy {
  readonly name = 'enter-when-asked';
  readonly want = new Set<SymbolId>();
  onCandle(symbol: SymbolId, c: Candle, position: PositionView | undefined): readonly Intent[] {
    if (position || !this.want.has(symbol)) return [];
    return [
      {
        kind: 'enter',
        id: `EH${symbol}${c.openTime}`,
        symbol,
        direction: 'long',
        time: c.openTime + MIN,
        price: c.close,
        stop: c.close * 0.99,
        targets: [{ label: 'primary', price: c.close * 1.05, fraction: 1 }],
        level: { price: c.close, touches: 3, sources: ['test'] },
        oppositeLevel: null,
        reasons: ['test'],
        expiresAt: c.openTime + 4 * 3_600_000,
      },
    ];
  }
}

describe('exchange-failure halt: the runtime on a failing simulator', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let startMinute: number;
  let minute = 0;
  let dir: string;

  beforeAll(async () => {
    const now = Date.now();
    startMinute = now - (now % MIN);
    const series = [BTC, ETH].map((symbol) => ({ symbol, candles }));
    server = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles), simMarketFromCandles(ETH, candles)],
      accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }],
      replay: new CandleReplay(series, { shiftTo: startMinute - 1000 * MIN }),
      startAt: startMinute,
    });
    dynamo = await startLocalDynamo();
    dir = await mkdtemp(join(tmpdir(), 'runtime-health-'));
  });
  afterAll(async () => {
    await server?.close();
    await dynamo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('5xx for 5 minutes: entries refused at the gate with a critical alert, the stop exit still goes out; recovery lifts it with an info alert', async () => {
    // The wall clock: real time plus what the test adds (the lease is long, so the jumps do not lapse it).
    let offset = 0;
    const wall = (): number => Date.now() + offset;
    const lines: string[] = [];
    const events = new MemoryEventQueues({ now: wall });
    const strategy = new EnterWhenAsked();
    const config = parseRuntimeConfig({ symbols: ['BTCUSDT', 'ETHUSDT'], exchangeUrl: server.restUrl, dataDir: dir, stateStorage: 'memory', tableName: 'health-test', statusPort: 0, warmupMinutes: 60, archiveCandles: false, leaseTtlMs: 3_600_000 });
    const rt = await Runtime.start(config, { out: { log: (l) => lines.push(l), err: (l) => lines.push(l) }, owner: 'health-test', dynamo, events, wallClock: wall, strategyFactory: () => strategy });
    // The exchange-health alerts published so far (received once each: the queue hides what it handed out).
    const seen: AlertEvent[] = [];
    const alerts = async (): Promise<AlertEvent[]> => {
      seen.push(...(await events.queue('alerts').receive(10, 60_000)).map((m) => m.event).filter((e): e is AlertEvent => e.type === 'alert' && e.dedupKey === 'runtime:exchange-health'));
      return seen;
    };
    const refresh = (): Promise<void> => (rt as unknown as { refreshVolumes(): Promise<void> }).refreshVolumes();
    const advance = (n: number): void => {
      minute += n;
      server.advanceReplayTo(startMinute + minute * MIN);
    };
    try {
      // Healthy: a BTC position opens through the gate.
      strategy.want.add(BTC);
      advance(2);
      await until('the BTC position to open', () => rt.session.executor.position(BTC)?.state === 'open');
      strategy.want.clear();
      await rt.session.idle();

      // The exchange fails: every REST request 5xx, and the runtime's requests see it.
      server.faults.set({ ...NO_FAULTS, name: 'all-5xx', serverError: 1 });
      await refresh();
      expect(lines.some((l) => l.startsWith('warning: 24h tickers unavailable'))).toBe(true);
      // Short of 5 minutes nothing is refused and nobody is paged.
      offset += 4 * MIN;
      await refresh();
      rt.checkExchangeHealth();
      expect(rt.exchangeHealth.problem(wall())).toBeUndefined();
      // Held for the 5 minutes: the halt, one critical alert.
      offset += MIN;
      await refresh();
      rt.checkExchangeHealth();
      rt.checkExchangeHealth(); // a second check does not alert again
      // 300 s of the test's clock and the few real seconds the 5xx answers took.
      const held = /^the exchange's API has been failing for (\d+) s \(ExchangeServerError\): no new entries until it recovers$/.exec(rt.exchangeHealth.problem(wall()) ?? '');
      expect(Number(held?.[1])).toBeGreaterThanOrEqual(300);
      expect(Number(held?.[1])).toBeLessThan(330);
      expect(lines.some((l) => / HALT {2}entries: the exchange's API has been failing for \d+ s/.test(l))).toBe(true);
      await until('the critical alert', async () => (await alerts()).length > 0);
      const halted = [...(await alerts())];
      expect(halted.map((a) => [a.severity, a.title])).toEqual([['critical', 'Exchange failing: new entries halted']]);
      expect(halted[0]!.detail).toMatch(/failing for \d+ s.*Open positions keep their stops and exits\./);

      // The REST API answers again, but the runtime has not heard it yet: the halt holds until a
      // request succeeds. A new entry on ETH is refused at the gate, with the reason; nothing is sent.
      server.faults.set(NO_FAULTS);
      const ethOrders = (): number => lines.filter((l) => / ORDER {2}ETHUSDT /.test(l)).length;
      const refusedBefore = rt.session.kernel.rejections.entry_gate ?? 0;
      strategy.want.add(ETH);
      advance(2);
      await until('an ETH decision refused at the gate', () => (rt.session.kernel.rejections.entry_gate ?? 0) > refusedBefore);
      await rt.session.idle();
      expect(lines.some((l) => / SKIP {3}ETHUSDT entry_gate: the exchange's API has been failing for \d+ s/.test(l))).toBe(true);
      expect(rt.session.executor.position(ETH)).toBeUndefined();
      expect(ethOrders()).toBe(0);
      strategy.want.clear();

      // The BTC stop is not an entry: its exit goes out while the halt is in force.
      expect(rt.exchangeHealth.problem(wall())).toBeDefined();
      const p = rt.session.executor.position(BTC)!;
      const bid = p.stop * 0.97;
      server.pushMarketData({ type: 'book', symbol: BTC, book: { time: rt.now() + 1000, bid, bidSize: 50, ask: bid * 1.0001, askSize: 50 } });
      await until('the stop exit', () => rt.session.executor.position(BTC) === undefined);
      expect(lines.some((l) => / EXIT {3}BTCUSDT stop/.test(l))).toBe(true);
      // The exit was filled by the paper venue's own engine: that is no answer from the exchange.
      expect(rt.exchangeHealth.problem(wall())).toBeDefined();

      // The exchange answers (the ticker refresh): the halt lifts, one info alert.
      await refresh();
      expect(rt.exchangeHealth.problem(wall())).toBeUndefined();
      rt.checkExchangeHealth();
      rt.checkExchangeHealth();
      expect(lines.some((l) => / HALT {2}entries resumed: the exchange works again/.test(l))).toBe(true);
      await until('the info alert', async () => (await alerts()).length > 1);
      const lifted = (await alerts()).slice(1);
      expect(lifted.map((a) => [a.severity, a.title])).toEqual([['info', 'Exchange recovered: entries resumed']]);
      expect(lifted[0]!.detail).toMatch(/^Was: the exchange's API has been failing for \d+ s/);

      // And entries pass the gate again.
      const refusedAfter = rt.session.kernel.rejections.entry_gate ?? 0;
      strategy.want.add(ETH);
      advance(2);
      await until('the ETH position to open', () => rt.session.executor.position(ETH)?.state === 'open');
      expect(ethOrders()).toBeGreaterThan(0);
      expect(rt.session.kernel.rejections.entry_gate ?? 0).toBe(refusedAfter);
    } finally {
      await rt.stop('test cleanup');
    }
  }, 60_000);
});
