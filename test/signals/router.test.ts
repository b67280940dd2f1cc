/**
 * The signal router through the one kernel on the matching engine (test/helpers/kernelRig.ts):
 * BTCUSDT, tick 0.01, lot 0.001, 10,000 USDT, conservative profile unless said otherwise.
 *
 * Hand-worked numbers used throughout: 14 candles of open 100, high 101, low 99, close 100 give a
 * true range of 2 each, so ATR(14) = 2. The synthetic book sits one tick either side of the close:
 * ask 100.01. A buy signal then enters at 100.01 with the stop 1.5 x 2 = 3 below (97.01) and the
 * take-profit 2 x 3 above (106.01); its notional (default 25) caps the risk engine's size
 * (1 % of 10,000 / 3 = 33.3 units): 25 / 100.01 = 0.24997... floored to the lot, 0.249 BTC,
 * 0.249 x 100.01 = 24.90249 USDT.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ConfigInput } from '../../services/config/schema.js';
import type { KillSwitchState } from '../../services/control/killSwitch.js';
import { dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { AuditLog, type AuditEvent } from '../../services/signals/audit.js';
import { SignalIntake } from '../../services/signals/intake.js';
import { SignalRouter, type MlScore } from '../../services/signals/router.js';
import type { SimMarketSpec } from '../../services/sim/types.js';
import { BTC_SPEC } from '../helpers/engineRig.js';
import { kernelRig } from '../helpers/kernelRig.js';

const FLAT = { o: 100, h: 101, l: 99, c: 100 };
const ETH = symbolId('ETHUSDT');
const ETH_SPEC: SimMarketSpec = { ...BTC_SPEC, symbol: ETH, base: 'ETH' };

function setup(
  opts: { signals?: ConfigInput['signals']; risk?: ConfigInput['risk']; candles?: number; kill?: () => KillSwitchState | undefined; ml?: (s: string) => MlScore | null; markets?: readonly SimMarketSpec[]; traded?: (s: string) => boolean } = {},
) {
  const rig = kernelRig({ config: { signals: { enabled: true, dryRun: false, ...opts.signals }, ...(opts.risk ? { risk: opts.risk } : {}) }, ...(opts.markets ? { markets: opts.markets } : {}) });
  for (let i = 0; i < (opts.candles ?? 14); i++) rig.candle(FLAT);
  const events: AuditEvent[] = [];
  const audit = new AuditLog([{ name: 'memory', write: (e) => void events.push(e) }]);
  const router = new SignalRouter({
    config: rig.config,
    kernel: rig.kernel,
    audit,
    listed: (s) => s === 'BTCUSDT' || s === 'ETHUSDT',
    traded: opts.traded ?? ((s) => s === 'BTCUSDT'),
    ...(opts.kill ? { killSwitch: opts.kill } : {}),
    ...(opts.ml ? { mlScore: opts.ml } : {}),
  });
  let n = 0;
  // The backtest's order: the decision, then the submitter carries out its commands.
  const signal = (over: Record<string, unknown> = {}) => {
    const r = router.route({ symbol: 'BTC/USDT', side: 'buy', id: `s${++n}`, source: 'tradingview', ...over }, 'webhook', rig.now());
    rig.sink.flush();
    return r;
  };
  return { ...rig, router, audit, events, signal };
}

describe('an accepted buy signal goes through the kernel and is protected like any entry', () => {
  it('enters at the ask with the derived stop and take-profit; the fill, the target and the stop follow', () => {
    const t = setup();
    expect(t.kernel.context.atr(t.sym)).toBe(2);
    const r = t.signal();
    expect(r).toMatchObject({
      ok: true,
      status: 'accepted',
      levels: { entry: 100.01, stop: 97.01, takeProfit: 106.01, stopSource: 'atr', takeProfitSource: 'reward_risk', atr: 2 },
      order: { quantity: '0.249', notional: '24.90249', adjustments: ['CAPPED_REQUESTED_NOTIONAL'] },
    });
    expect(t.events.map((e) => e.type)).toEqual(['RISK_SLTP', 'ORDER_NEW']);
    expect(t.events.every((e) => e.traceId === r.traceId)).toBe(true);
    // The market order executes after the latency; the position is then the executor's.
    t.wait(300);
    const p = t.kernel.executor.position(t.sym);
    expect(p).toMatchObject({ state: 'open', stop: 97.01, quantity: 0.249 });
    expect(t.events.map((e) => e.type)).toEqual(['RISK_SLTP', 'ORDER_NEW', 'ORDER_FILLED']);
    // The take-profit rests on the venue as a limit sell for the whole quantity.
    const target = t.engine.openOrders('rig', t.sym);
    expect(target.map((o) => [o.side, o.type, o.price?.toString(), o.quantity.toString()])).toEqual([['sell', 'limit', '106.01', '0.249']]);
    // A candle through the stop: the executor sells at market and the trade closes as a stop.
    t.candle({ o: 100, h: 100, l: 96, c: 96.5 });
    t.wait(300);
    expect(t.kernel.executor.position(t.sym)).toBeUndefined();
    expect(t.closed().map((c) => c.exitReason)).toEqual(['stop']);
    const last = t.events.at(-1)!;
    expect(last).toMatchObject({ type: 'ORDER_FILLED', role: 'exit', reason: 'stop', traceId: r.traceId });
    expect(Number(last.pnl)).toBeLessThan(0);
  });

  it('a sell signal closes the open long at market (exit reason signal)', () => {
    const t = setup();
    t.signal();
    t.wait(300);
    const sell = t.signal({ side: 'sell' });
    expect(sell).toMatchObject({ ok: true, status: 'accepted' });
    t.wait(300);
    expect(t.closed().map((c) => c.exitReason)).toEqual(['external']);
  });

  it("uses the signal's own sane stop and take-profit, and its notional capped at the profile maximum (100)", () => {
    const t = setup();
    // Stop 98 is 2.01 % below 100.01; take-profit 104 is 3.99 % above: both used. 1000 asked, 100 allowed:
    // 100 / 100.01 = 0.99990... -> 0.999 BTC = 99.90999 USDT.
    const r = t.signal({ stopLoss: 98, takeProfit: 104, notional: 1000 });
    expect(r).toMatchObject({ status: 'accepted', levels: { stop: 98, takeProfit: 104, stopSource: 'signal', takeProfitSource: 'signal' }, order: { quantity: '0.999', notional: '99.90999' } });
  });

  it('the kernel keeps the time stop of a signal position itself (the strategy proposes nothing here)', () => {
    const t = setup({ signals: {} });
    t.signal();
    t.wait(300);
    const minutes = t.config.exit.timeStopMinutes;
    for (let i = 0; i < minutes + 1 && t.kernel.executor.position(t.sym); i++) t.candle(FLAT);
    t.wait(300);
    expect(t.closed().map((c) => c.exitReason)).toEqual(['time']);
  });
});

describe('a dry run decides and audits everything and sends nothing', () => {
  it('returns what would be sent; no order reaches the venue', () => {
    const t = setup({ signals: { dryRun: true } });
    const r = t.signal();
    expect(r).toMatchObject({ ok: true, status: 'dry_run', order: { quantity: '0.249', notional: '24.90249' } });
    expect(t.events.map((e) => [e.type, e.dryRun])).toEqual([
      ['RISK_SLTP', undefined],
      ['ORDER_NEW', true],
    ]);
    t.wait(1000);
    expect(t.orders()).toEqual([]);
    expect(t.kernel.executor.position(t.sym)).toBeUndefined();
  });

  it('is the default once signals are enabled', () => {
    const t = kernelRig({ config: { signals: { enabled: true } } });
    expect(t.config.signals.dryRun).toBe(true);
  });
});

describe('every refusal path: a reason code, an ORDER_BLOCKED event, no order', () => {
  const blocked = (t: ReturnType<typeof setup>, reason: string): void => {
    const last = t.events.at(-1)!;
    expect(last.type).toBe('ORDER_BLOCKED');
    expect(last.reason).toBe(reason);
    t.wait(1000);
    expect(t.orders().filter((o) => o.side === 'buy')).toHaveLength(t.kernel.executor.position(t.sym) ? 1 : 0);
  };

  it('signals disabled (the default)', () => {
    const t = setup({ signals: { enabled: false } });
    expect(t.signal()).toMatchObject({ ok: false, status: 'refused', reason: 'SIGNALS_DISABLED' });
    blocked(t, 'SIGNALS_DISABLED');
  });

  it('malformed: counted, audited with its trace, never thrown', () => {
    const t = setup();
    const r = t.router.route('{"symbol": "BTCUSDT", "side": 42}', 'webhook', t.now());
    expect(r).toMatchObject({ ok: false, reason: 'MALFORMED' });
    expect(r.error).toContain('side');
    blocked(t, 'MALFORMED');
    expect(t.router.counts['refused:MALFORMED']).toBe(1);
  });

  it('a duplicate id is refused the second time, whatever the first outcome', () => {
    const t = setup();
    expect(t.signal({ id: 'same' }).status).toBe('accepted');
    expect(t.signal({ id: 'same' })).toMatchObject({ reason: 'DUPLICATE' });
    expect(t.orders()).toHaveLength(1);
    const refusedFirst = setup({ signals: { minConfidence: 0.9 } });
    expect(refusedFirst.signal({ id: 'again', confidence: 0.5 }).reason).toBe('LOW_CONFIDENCE');
    expect(refusedFirst.signal({ id: 'again', confidence: 0.95 }).reason).toBe('DUPLICATE');
  });

  it('unknown and untraded symbols', () => {
    const t = setup();
    expect(t.signal({ symbol: 'DOGEUSDT' }).reason).toBe('UNKNOWN_SYMBOL');
    expect(t.signal({ symbol: 'ETH/USDT' }).reason).toBe('SYMBOL_NOT_TRADED');
    blocked(t, 'SYMBOL_NOT_TRADED');
  });

  it('stale and future-dated signals', () => {
    const t = setup();
    expect(t.signal({ time: t.now() - 121_000 }).reason).toBe('STALE');
    expect(t.signal({ time: t.now() + 61_000 }).reason).toBe('STALE');
    expect(t.signal({ time: t.now() - 119_000 }).status).toBe('accepted');
  });

  it('a short is refused (long-only spot); a sell with nothing to close is refused', () => {
    const t = setup();
    expect(t.signal({ side: 'short' })).toMatchObject({ reason: 'SHORT_NOT_SUPPORTED' });
    expect(t.signal({ side: 'sell' })).toMatchObject({ reason: 'NO_POSITION' });
    blocked(t, 'NO_POSITION');
  });

  it('confidence below the minimum (0.75), and the assumed confidence of a signal without one (1)', () => {
    const t = setup();
    expect(t.signal({ confidence: 0.74 })).toMatchObject({ reason: 'LOW_CONFIDENCE', confidence: 0.74 });
    expect(t.signal({ confidence: 0.75 }).status).toBe('accepted');
    const strict = setup({ signals: { assumedConfidence: 0.5 } });
    expect(strict.signal().reason).toBe('LOW_CONFIDENCE');
  });

  it('ML scoring: no prediction, a stale one, and the lower of the two confidences', () => {
    let score: MlScore | null = null;
    const t = setup({ signals: { mlScoring: true }, ml: () => score });
    expect(t.signal({ confidence: 0.9 }).reason).toBe('ML_UNAVAILABLE');
    score = { confidence: 0.95, time: t.now() - 181_000, version: 'v1' };
    expect(t.signal({ confidence: 0.9 }).reason).toBe('ML_UNAVAILABLE');
    score = { confidence: 0.6, time: t.now(), version: 'v1' };
    expect(t.signal({ confidence: 0.9 })).toMatchObject({ reason: 'LOW_CONFIDENCE', confidence: 0.6 });
    score = { confidence: 0.95, time: t.now(), version: 'v1' };
    expect(t.signal({ confidence: 0.8 })).toMatchObject({ status: 'accepted', confidence: 0.8 });
  });

  it('the per-symbol cooldown after an accepted entry signal', () => {
    // The risk engine's own cooldown after a closed trade (15 min) is off here, to see the signal's.
    const t = setup({ signals: { cooldownMinutes: 5 }, risk: { symbolCooldownMinutes: 0 } });
    expect(t.signal().status).toBe('accepted');
    t.wait(300);
    t.signal({ side: 'sell' });
    t.wait(300);
    expect(t.signal().reason).toBe('SIGNAL_COOLDOWN');
    for (let i = 0; i < 5; i++) t.candle(FLAT);
    expect(t.signal().status).toBe('accepted');
  });

  it('no price yet, and no ATR yet without a stop in the signal', () => {
    const none = setup({ candles: 0 });
    expect(none.signal().reason).toBe('NO_PRICE');
    const few = setup({ candles: 5 });
    expect(few.signal().reason).toBe('NO_ATR');
    // The signal's own stop needs no ATR.
    expect(few.signal({ stopLoss: 98 }).status).toBe('accepted');
  });

  it('a notional below signals.minNotional', () => {
    const t = setup();
    expect(t.signal({ notional: 4 }).reason).toBe('NOTIONAL_TOO_SMALL');
  });

  it('the kill switch: entries refused unless RUNNING; a sell still closes', () => {
    let state: KillSwitchState = 'RUNNING';
    const t = setup({ kill: () => state });
    expect(t.signal().status).toBe('accepted');
    t.wait(300);
    state = 'PAUSED';
    expect(t.signal({ symbol: 'BTCUSDT' })).toMatchObject({ reason: 'KILL_SWITCH' });
    expect(t.signal({ side: 'sell' }).status).toBe('accepted');
  });

  it("the kernel's entry gate and the risk engine's limits apply to signals as to the strategy's entries", () => {
    const gated = kernelRig({ config: { signals: { enabled: true, dryRun: false } }, entryGate: () => 'lease lost' });
    for (let i = 0; i < 14; i++) gated.candle(FLAT);
    const router = new SignalRouter({ config: gated.config, kernel: gated.kernel, audit: new AuditLog([]), listed: () => true, traded: () => true });
    expect(router.route({ symbol: 'BTCUSDT', side: 'buy', id: 'g' }, 'queue', gated.now())).toMatchObject({ reason: 'ENTRY_GATE', error: 'ENTRY_GATE: lease lost' });
    expect(gated.kernel.counters.entriesGated).toBe(1);

    const t = setup({ signals: { cooldownMinutes: 0 } });
    t.signal();
    expect(t.signal()).toMatchObject({ reason: 'ALREADY_IN_POSITION' });
    // A 25 % jump within the hour halts every entry (abnormal volatility, limit 20 %).
    const h = setup();
    h.candle({ o: 100, h: 125, l: 100, c: 125 });
    expect(h.signal()).toMatchObject({ reason: 'HALTED_ABNORMAL_VOLATILITY' });
    blocked(h, 'HALTED_ABNORMAL_VOLATILITY');
    // Below the market minimum after rounding: the executor's own code.
    const tiny = setup({ signals: { minNotional: 0.5 } });
    expect(tiny.signal({ notional: 0.6 })).toMatchObject({ reason: 'BELOW_MIN_NOTIONAL' });
  });
});

describe('refusals and errors after the kernel took the signal, under the trace of the signal', () => {
  it('a sell while the position is already closing is refused EXIT_UNDER_WAY; only one exit is sent', () => {
    const t = setup();
    t.signal();
    t.wait(300);
    // The first sell starts the exit (a market sell, in flight for the latency); the second finds the position closing.
    const first = t.signal({ side: 'sell' });
    expect(first).toMatchObject({ ok: true, status: 'accepted' });
    expect(t.kernel.executor.position(t.sym)?.state).toBe('closing');
    const second = t.signal({ side: 'sell' });
    expect(second).toMatchObject({ ok: false, status: 'refused', reason: 'EXIT_UNDER_WAY', signalId: 's3', side: 'sell' });
    expect(second.error).toContain('already being closed');
    expect(t.events.at(-1)).toMatchObject({ type: 'ORDER_BLOCKED', reason: 'EXIT_UNDER_WAY', traceId: second.traceId });
    expect(second.traceId).not.toBe(first.traceId);
    t.wait(300);
    expect(t.orders().filter((o) => o.side === 'sell' && o.type === 'market')).toHaveLength(1);
    expect(t.closed().map((c) => c.exitReason)).toEqual(['external']);
    expect(t.router.counts['refused:EXIT_UNDER_WAY']).toBe(1);
  });

  it('a kernel dependency that throws is INTERNAL_ERROR, audited as ORDER_ERROR under the same trace; nothing is sent and the next signal is decided', () => {
    const t = setup();
    const market = vi.spyOn(t.exchange, 'market').mockImplementation(() => {
      throw new TypeError('markets not loaded');
    });
    const r = t.signal();
    expect(r).toMatchObject({ ok: false, status: 'refused', reason: 'INTERNAL_ERROR', error: 'INTERNAL_ERROR: TypeError: markets not loaded', signalId: 's1' });
    // The levels were derived (RISK_SLTP) before the kernel threw: both events carry the signal's trace.
    expect(t.events.map((e) => [e.type, e.reason, e.traceId])).toEqual([
      ['RISK_SLTP', undefined, r.traceId],
      ['ORDER_ERROR', 'INTERNAL_ERROR', r.traceId],
    ]);
    expect(t.events.at(-1)?.detail).toBe('TypeError: markets not loaded');
    t.wait(1000);
    expect(t.orders()).toEqual([]);
    expect(t.router.counts['refused:INTERNAL_ERROR']).toBe(1);
    market.mockRestore();
    expect(t.signal()).toMatchObject({ status: 'accepted' });
  });

  it('an entry the exchange rejects is ORDER_ERROR EXCHANGE_REJECTED under the trace (the venue holds funds the portfolio does not know of)', () => {
    const t = setup();
    // A buy placed by hand on the venue locks 9,995 of the 10,000 USDT: the entry's ~25 USDT is not free there.
    t.engine.place('rig', { clientOrderId: 'by-hand', symbol: t.sym, side: 'buy', type: 'limit', quantity: dec(199.9), price: dec(50) }, t.now());
    const r = t.signal();
    // The kernel sent it (the portfolio has the funds); the venue's answer comes with the submitter's run.
    expect(r).toMatchObject({ ok: true, status: 'accepted' });
    const error = t.events.at(-1)!;
    expect(t.events.map((e) => e.type)).toEqual(['RISK_SLTP', 'ORDER_NEW', 'ORDER_ERROR']);
    expect(error).toMatchObject({ type: 'ORDER_ERROR', reason: 'EXCHANGE_REJECTED', traceId: r.traceId, signalId: 's1', intentId: r.order?.intentId });
    expect(error.detail).toContain('insufficient balance');
    t.wait(1000);
    expect(t.kernel.executor.position(t.sym)).toBeUndefined();
  });

  it('an entry cancelled before it fills (a sell signal right behind the buy) is ORDER_ERROR ENTRY_EXPIRED under the buy\'s trace', () => {
    const t = setup();
    // Both decided within the entry's latency: the market buy has not reached the book when the sell cancels it.
    const buy = t.router.route({ symbol: 'BTCUSDT', side: 'buy', id: 'b1', source: 'tradingview' }, 'webhook', t.now());
    const sell = t.signal({ side: 'sell' });
    expect(buy).toMatchObject({ status: 'accepted' });
    expect(sell).toMatchObject({ status: 'accepted' });
    t.wait(1000);
    expect(t.events.map((e) => [e.type, e.traceId])).toEqual([
      ['RISK_SLTP', buy.traceId],
      ['ORDER_NEW', buy.traceId],
      ['ORDER_NEW', sell.traceId],
      ['ORDER_ERROR', buy.traceId],
    ]);
    expect(t.events.at(-1)).toMatchObject({ reason: 'ENTRY_EXPIRED', detail: 'entry cancelled before it filled', intentId: buy.order?.intentId });
    expect(t.kernel.executor.position(t.sym)).toBeUndefined();
    expect(t.engine.openOrders('rig', t.sym)).toEqual([]);
  });
});

describe("the risk engine's limits refuse a signal with their reason code (the refusal and ORDER_BLOCKED)", () => {
  const refusedBy = (t: ReturnType<typeof setup>, reason: string, over: Record<string, unknown> = {}): void => {
    const r = t.signal(over);
    expect(r).toMatchObject({ ok: false, status: 'refused', reason });
    expect(r.error).toMatch(new RegExp(`^${reason}: `));
    const last = t.events.at(-1)!;
    expect(last).toMatchObject({ type: 'ORDER_BLOCKED', reason, traceId: r.traceId, signalId: r.signalId });
    expect(t.router.counts[`refused:${reason}`]).toBe(1);
  };
  /** One losing trade: 100 USDT bought at the ask, sold at market through the stop (97.01) on a drop to 96. */
  const loseOnce = (t: ReturnType<typeof setup>): void => {
    expect(t.signal({ notional: 100 }).status).toBe('accepted');
    t.wait(300);
    t.candle({ o: 100, h: 100, l: 96, c: 96.5 });
    t.wait(300);
    expect(t.closed().map((c) => c.exitReason)).toEqual(['stop']);
    expect(t.closed()[0]!.netPnl.toNumber()).toBeLessThan(-3);
  };

  it('maximum open positions (maxPositions 1, BTCUSDT open, a buy on ETHUSDT): MAX_POSITIONS', () => {
    const t = setup({ risk: { overrides: { maxPositions: 1 } }, markets: [BTC_SPEC, ETH_SPEC], traded: () => true });
    t.candle(FLAT, ETH);
    expect(t.signal().status).toBe('accepted');
    t.wait(300);
    // ETHUSDT has a price (one candle) and the signal's own stop (no ATR needed): only the count refuses it.
    refusedBy(t, 'MAX_POSITIONS', { symbol: 'ETHUSDT', stopLoss: 98 });
    expect(t.events.at(-1)?.detail).toBe('1 positions open, maximum 1');
    expect(t.orders().filter((o) => o.side === 'buy')).toHaveLength(1);
  });

  it('total exposure (maxTotalExposurePct 1.02 = 102 USDT, 99.91 of it open on BTCUSDT, a buy on ETHUSDT): EXPOSURE_CAP', () => {
    const t = setup({ risk: { maxTotalExposurePct: 1.02 }, markets: [BTC_SPEC, ETH_SPEC], traded: () => true });
    t.candle(FLAT, ETH);
    // 100 USDT asked: 0.999 BTC x 100.01 = 99.90999 open, which leaves 2.09 USDT of room, below the 5 USDT minimum.
    expect(t.signal({ notional: 100 })).toMatchObject({ status: 'accepted', order: { notional: '99.90999' } });
    t.wait(300);
    refusedBy(t, 'EXPOSURE_CAP', { symbol: 'ETHUSDT', stopLoss: 98 });
    expect(t.orders().filter((o) => o.side === 'buy')).toHaveLength(1);
  });

  it('total exposure with nothing open (maxTotalExposurePct 0.04: 4 USDT of room under 10,000): EXPOSURE_CAP', () => {
    const t = setup({ risk: { maxTotalExposurePct: 0.04 } });
    refusedBy(t, 'EXPOSURE_CAP');
    expect(t.orders()).toEqual([]);
  });

  it('the daily loss limit (0.02 % of 10,000 = 2 USDT, after a ~4 USDT loss): DAILY_LOSS_LIMIT', () => {
    const t = setup({ signals: { cooldownMinutes: 0 }, risk: { symbolCooldownMinutes: 0, overrides: { dailyLossLimitPct: 0.02 } } });
    loseOnce(t);
    refusedBy(t, 'DAILY_LOSS_LIMIT');
    expect(t.events.at(-1)?.detail).toContain('daily loss limit 0.02%');
  });

  it('the weekly loss limit (0.02 %, the daily one out of the way): WEEKLY_LOSS_LIMIT', () => {
    const t = setup({ signals: { cooldownMinutes: 0 }, risk: { symbolCooldownMinutes: 0, overrides: { dailyLossLimitPct: 50, weeklyLossLimitPct: 0.02 } } });
    loseOnce(t);
    refusedBy(t, 'WEEKLY_LOSS_LIMIT');
    expect(t.events.at(-1)?.detail).toContain('weekly loss limit 0.02%');
  });

  it('a dry run meets the same limits (the preview asks the risk engine too)', () => {
    const t = setup({ signals: { dryRun: true }, risk: { maxTotalExposurePct: 0.04 } });
    refusedBy(t, 'EXPOSURE_CAP');
  });
});

describe('a signal racing a kill-switch change', () => {
  it('the kill switch read just before the decision wins: the operator paused while the signal was in flight', async () => {
    let state: KillSwitchState = 'RUNNING';
    const t = setup({ kill: () => state });
    let release!: () => void;
    const refreshed = new Promise<void>((r) => (release = r));
    // The intake refreshes the kill switch before deciding; the operator's PAUSE lands meanwhile.
    const intake = new SignalIntake({ router: t.router, now: t.now, beforeRoute: () => refreshed });
    const pending = intake.submit({ symbol: 'BTCUSDT', side: 'buy', id: 'race-1' }, 'webhook');
    state = 'PAUSED';
    release();
    expect(await pending).toMatchObject({ ok: false, reason: 'KILL_SWITCH' });
    t.wait(1000);
    expect(t.orders()).toEqual([]);
  });

  it('a signal decided before the pause is an order the executor keeps managing after it', async () => {
    let state: KillSwitchState = 'RUNNING';
    const t = setup({ kill: () => state });
    const intake = new SignalIntake({ router: t.router, now: t.now });
    const first = intake.submit({ symbol: 'BTCUSDT', side: 'buy', id: 'race-2' }, 'webhook');
    const second = intake.submit({ symbol: 'BTCUSDT', side: 'buy', id: 'race-3' }, 'webhook');
    // Decided in arrival order: the pause comes after the first decision, before the second.
    expect(await first).toMatchObject({ status: 'accepted' });
    state = 'PAUSED';
    expect(await second).toMatchObject({ reason: 'KILL_SWITCH' });
    t.wait(300);
    // PAUSED: the position is still protected; its stop still fires.
    t.candle({ o: 100, h: 100, l: 96, c: 96.5 });
    t.wait(300);
    expect(t.closed().map((c) => c.exitReason)).toEqual(['stop']);
  });

  it('the intake is bounded: beyond maxWaiting a signal is refused at once and audited', async () => {
    const t = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const intake = new SignalIntake({ router: t.router, now: t.now, beforeRoute: () => gate, maxWaiting: 1 });
    const a = intake.submit({ symbol: 'BTCUSDT', side: 'buy', id: 'q1' }, 'queue');
    const b = await intake.submit({ symbol: 'BTCUSDT', side: 'buy', id: 'q2' }, 'queue');
    expect(b).toMatchObject({ reason: 'OVERLOADED' });
    release();
    expect((await a).status).toBe('accepted');
    // q2 was not remembered: sent again, it is decided.
    expect((await intake.submit({ symbol: 'BTCUSDT', side: 'sell', id: 'q2' }, 'queue')).status).toBe('accepted');
  });
});

describe('symbol ids', () => {
  it('the intent id is derived from the signal, so a redelivery maps to the same client order id', () => {
    const a = setup();
    const b = setup();
    expect(a.signal({ id: 'x' }).order?.intentId).toBe(b.signal({ id: 'x' }).order?.intentId);
    expect(a.orders()[0]!.clientOrderId).toBe(b.orders()[0]!.clientOrderId);
    expect(symbolId('BTCUSDT')).toBe(a.sym);
  });
});
