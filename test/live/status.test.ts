/**
 * `/health` and `/status`: the health verdict from feed silence (worked out by hand below), the
 * status document from a real trading session on the paper venue, and the HTTP endpoints.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStatusServer, type StatusServer } from '../../fargate/statusServer.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import { buildStatus, healthOf, type StatusInputs } from '../../services/live/status.js';
import { TradingSession } from '../../services/live/tradingSession.js';
import { PaperVenue } from '../../services/paper/paperVenue.js';
import { ReplayMarketData } from '../../services/paper/publicData.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import type { FeedStats } from '../../services/venue/types.js';

const S = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles.slice(0, 120);

function feed(lastEventAt: Record<string, number>): FeedStats {
  return { frames: 10, malformed: 1, duplicates: 0, reconnects: 2, connections: 1, lastEventAt };
}

async function session(): Promise<{ session: TradingSession; portfolio: Portfolio }> {
  const publicData = new ReplayMarketData([{ symbol: S, candles }]);
  const now = (): number => publicData.time ?? candles[0]!.openTime;
  const venue = new PaperVenue({ publicData, deposits: { USDT: Dec.from('10000') }, now });
  await venue.loadMarkets();
  const safe = new SafeExchange(venue, { now, sleep: () => Promise.resolve(), random: () => 0 });
  const portfolio = new Portfolio('USDT', Dec.from('10000'));
  const s = new TradingSession({ config: parseConfig({}), exchange: safe, portfolio, now });
  const handle = await venue.stream([{ kind: 'kline', symbol: S, interval: '1m' }, { kind: 'trades', symbol: S }], (e) => s.push(e));
  while (publicData.step()) await s.idle();
  await handle.close();
  return { session: s, portfolio };
}

describe('health verdict', () => {
  const base = { mode: 'paper', venue: 'paper', killSwitch: 'RUNNING', startedAt: 1_000_000, symbols: [S], equity: Dec.from(1), startupGraceMs: 60_000 } as const;
  const inputs = (now: number, last: Record<string, number>): StatusInputs =>
    ({ ...base, now, feed: feed(last), requiredStreams: { 'trades:BTCUSDT': 30_000 }, session: undefined as never });

  it('is healthy during the start-up grace even before the first event', () => {
    expect(healthOf(inputs(1_000_000 + 59_999, {}))).toEqual({ ok: true, reasons: [], live: true, trading: 'running' });
  });
  it('is unhealthy when a required stream never delivered after the grace', () => {
    expect(healthOf(inputs(1_000_000 + 60_000, {})).reasons).toEqual(['trades:BTCUSDT: no event since the start']);
  });
  it('is not ok (but still live, so the container is not restarted) during an emergency stop or a risk halt; ok while PAUSED', () => {
    const fresh = inputs(2_000_000, { 'trades:BTCUSDT': 1_999_000 });
    const es = healthOf({ ...fresh, emergencyStop: true });
    expect(es).toMatchObject({ ok: false, live: true, trading: 'emergency_stop' });
    expect(es.reasons[0]).toMatch(/^emergency stop: .*halted until a restart$/);
    const risk = { halted: true, haltReason: 'HALTED_CONSECUTIVE_STOPS', haltUntil: Date.UTC(2026, 0, 2), haltDetail: '3 stops in a row' } as unknown as StatusInputs['risk'];
    const halt = healthOf({ ...fresh, risk });
    expect(halt).toMatchObject({ ok: false, live: true, trading: 'halted' });
    expect(halt.reasons).toEqual(['risk halt HALTED_CONSECUTIVE_STOPS until 2026-01-02T00:00:00.000Z: no new entries (3 stops in a row)']);
    expect(healthOf({ ...fresh, paused: true })).toEqual({ ok: true, reasons: [], live: true, trading: 'paused' });
    // A dead feed during an emergency stop: not live either.
    expect(healthOf({ ...inputs(2_000_000, {}), emergencyStop: true })).toMatchObject({ ok: false, live: false });
  });

  it('is unhealthy when a required stream is silent past its bound, healthy at the bound', () => {
    expect(healthOf(inputs(2_000_000, { 'trades:BTCUSDT': 1_970_000 })).ok).toBe(true);
    expect(healthOf(inputs(2_000_001, { 'trades:BTCUSDT': 1_970_000 })).reasons).toEqual(['trades:BTCUSDT: silent for 30001 ms (bound 30000 ms)']);
  });
});

describe('status document and endpoints', () => {
  let server: StatusServer;
  let healthy = true;
  let doc: ReturnType<typeof buildStatus>;
  beforeAll(async () => {
    const { session: s, portfolio } = await session();
    const now = candles[candles.length - 1]!.openTime + 60_000;
    const inputs: StatusInputs = {
      mode: 'paper',
      venue: 'paper',
      killSwitch: 'RUNNING',
      startedAt: candles[0]!.openTime,
      now,
      symbols: [S],
      session: s,
      equity: portfolio.equity(),
      feed: feed({ 'trades:BTCUSDT': now - 1500 }),
      requiredStreams: { 'trades:BTCUSDT': 30_000, 'book:BTCUSDT': 30_000 },
      startupGraceMs: 60_000,
    };
    doc = buildStatus(inputs);
    server = await startStatusServer({ port: 0, status: () => doc, health: () => (healthy ? { ok: true, reasons: [], live: true, trading: 'running' } : { ok: false, reasons: ['feed dead'], live: false, trading: 'running' }) });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reports feed lag per stream (null for a stream with no event), risk limits and the session counters', () => {
    expect(doc.feedLagMs).toEqual({ 'trades:BTCUSDT': 1500, 'book:BTCUSDT': null });
    expect(doc.session.candlesClosed).toBe(candles.length);
    expect(doc.risk.dailyLoss.limitPct).toBe(2);
    expect(doc.risk.consecutiveStops.max).toBe(3);
    expect(doc.killSwitch).toBe('RUNNING');
    // Nothing traded in two hours of data: equity and today's PnL are exact.
    expect(doc.equity).toBe('10000');
    expect(doc.todayPnl).toBe('0');
    expect(doc.health.ok).toBe(false); // book:BTCUSDT never delivered after the grace
  });

  it('serves /status and /health (200, then 503 with reasons), 404 elsewhere, GET only', async () => {
    const status = await fetch(`${server.url}/status`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { mode: string }).mode).toBe('paper');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    healthy = false;
    const sick = await fetch(`${server.url}/health`);
    expect(sick.status).toBe(503);
    expect(await sick.json()).toEqual({ ok: false, reasons: ['feed dead'], live: false, trading: 'running' });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/status`, { method: 'POST' })).status).toBe(405);
  });
});
