/**
 * An exit the venue refuses for insufficient balance (the soak's race of an emergency stop with the
 * runtime: the position's coins were sold before a SIGKILL and that sale was never booked). Before
 * the fix the executor reopened the position on every refusal and the strategy's time stop sent a
 * new market sell every minute for ever, each under a new journaled client id.
 *
 * Now the venue is asked what it holds: nothing sellable closes the position as 'reconciled' with
 * the PnL of the account's own fills (or, when they cannot be found, at the entry price, flagged
 * pnlUnknown); some held is sold, rounded down to the lot. Expectations are worked out from the
 * matching engine's own trade records for the account, not from the executor's books.
 *
 * Setup as test/execution/executor.test.ts: 10 BTC bought at 100.04 (cost 1,000.4, fee 0.5002),
 * targets 101 / 102 / 103.
 */
import { describe, expect, it } from 'vitest';
import { Dec, dec } from '../../services/core/money.js';
import type { EnterIntent, Intent } from '../helpers/types.js';
import { ACCOUNT, BTC, MIN, engineRig } from '../helpers/engineRig.js';

type Rig = ReturnType<typeof engineRig>;

function enter(id: string, time: number): EnterIntent {
  return {
    kind: 'enter',
    id,
    symbol: BTC,
    direction: 'long',
    time,
    price: 100,
    stop: 99,
    targets: [
      { label: 'primary', price: 101, fraction: 0.33 },
      { label: 'secondary', price: 102, fraction: 0.33 },
      { label: 'aggressive', price: 103, fraction: 0.34 },
    ],
    level: { price: 99.5, touches: 3, sources: ['extrema'] },
    oppositeLevel: null,
    reasons: ['test'],
    expiresAt: time + 240 * MIN,
  };
}

const timeExit = (time: number): Intent => ({ kind: 'exit', id: 'P-exit', symbol: BTC, positionId: 'P', time, reason: 'time', detail: 'time stop of 240 min reached' });

/** Opens P (10 BTC), then sells `sold` BTC of it outside the executor (its targets cancelled first), as another actor would. */
function soldOutside(r: Rig, sold: string): void {
  const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
  r.handle([enter('P', close)]);
  r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
  for (const id of ['PT1', 'PT2', 'PT3']) r.exchange.cancelNow(BTC, id);
  r.submit({ clientOrderId: 'OUTSIDE1', symbol: BTC, side: 'sell', type: 'market', quantity: dec(sold) });
  r.candle({ o: 100.4, h: 100.6, l: 100.3, c: 100.5 });
  expect(r.engine.myTrades(ACCOUNT, BTC).some((f) => f.clientOrderId === 'OUTSIDE1')).toBe(true);
}

/** The account's net PnL in USDT from the engine's own trade records (sells - buys - fees). */
function venuePnl(r: Rig): Dec {
  let pnl = Dec.ZERO;
  for (const f of r.engine.myTrades(ACCOUNT, BTC)) {
    const n = f.price.mul(f.quantity);
    pnl = (f.side === 'sell' ? pnl.add(n) : pnl.sub(n)).sub(f.feeAsset === 'USDT' ? f.fee : f.fee.mul(f.price));
  }
  return pnl;
}

const count = (r: Rig, type: string) => r.events.filter((e) => e.type === type).length;

describe('Executor: an exit refused for insufficient balance', () => {
  it('nothing held: closed once as reconciled with the PnL of the account fills, and never retried by the minute-by-minute time stop', () => {
    const r = engineRig();
    soldOutside(r, '10');
    // The time stop decides at every candle close, as the strategy does.
    for (let i = 0; i < 6; i++) {
      r.handle([timeExit(r.now())]);
      r.candle({ o: 100.5, h: 100.7, l: 100.3, c: 100.5 });
    }
    expect(count(r, 'exit_started')).toBe(1);
    expect(count(r, 'exit_reconciled')).toBe(1);
    expect(r.executor.openCount).toBe(0);
    const [t] = r.closed();
    expect(r.closed()).toHaveLength(1);
    expect(t!.exitReason).toBe('reconciled');
    expect(t!.pnlUnknown).toBeUndefined();
    expect(t!.netPnl.toString()).toBe(venuePnl(r).toString());
    // Only the entry and the external sale ever reached the engine: no exit was accepted, none resent.
    expect(r.sent()).toEqual(['PE', 'PT1', 'PT2', 'PT3', 'OUTSIDE1']);
    expect(r.portfolio.holding(BTC).toString()).toBe('0');
  });

  it('part held: what is held is sold (rounded down to the lot) and the trade closes with the PnL of all the account fills', () => {
    const r = engineRig();
    soldOutside(r, '6.5');
    r.handle([timeExit(r.now())]);
    r.candle({ o: 100.5, h: 100.7, l: 100.3, c: 100.5 });
    r.handle([timeExit(r.now())]);
    r.candle({ o: 100.5, h: 100.7, l: 100.3, c: 100.5 });
    expect(count(r, 'exit_reconciled')).toBe(1);
    expect(r.events.find((e) => e.type === 'exit_reconciled')).toMatchObject({ held: dec('3.5'), outside: dec('6.5'), selling: dec('3.5'), pnlKnown: true });
    // PX1 refused (10 needed, 3.5 free), PX2 sells the 3.5 held.
    const px2 = r.engine.myTrades(ACCOUNT, BTC).filter((f) => f.clientOrderId === 'PX2');
    expect(px2.reduce((a, f) => a.add(f.quantity), Dec.ZERO).toString()).toBe('3.5');
    expect(r.closed()).toHaveLength(1);
    const [t] = r.closed();
    expect(t!.exitReason).toBe('time');
    expect(t!.netPnl.toString()).toBe(venuePnl(r).toString());
    expect(r.engine.balances(ACCOUNT).find((b) => b.asset === 'BTC')?.free.toString() ?? '0').toBe('0');
  });

  it('nothing held and no fills found: closed as reconciled at the entry price, flagged pnlUnknown, once', () => {
    const r = engineRig();
    soldOutside(r, '10');
    const real = r.exchange.holdingNow.bind(r.exchange);
    r.exchange.holdingNow = (s, since) => ({ ...real(s, since), fills: undefined });
    r.handle([timeExit(r.now())]);
    r.candle({ o: 100.5, h: 100.7, l: 100.3, c: 100.5 });
    r.handle([timeExit(r.now())]);
    expect(count(r, 'exit_reconciled')).toBe(1);
    expect(r.events.find((e) => e.type === 'exit_reconciled')).toMatchObject({ pnlKnown: false });
    const [t] = r.closed();
    expect(t!.exitReason).toBe('reconciled');
    expect(t!.pnlUnknown).toBe(true);
    // Booked at the entry price 100.04: gross 0, net = minus the entry fee 0.5002.
    expect(t!.netPnl.toString()).toBe('-0.5002');
  });

  it('the venue cannot be asked: the position reopens with a backoff, so a decision inside it sends nothing', () => {
    const r = engineRig();
    soldOutside(r, '10');
    r.exchange.holdingNow = () => undefined as never;
    r.handle([timeExit(r.now())]);
    expect(count(r, 'exit_backoff')).toBe(1);
    expect(r.executor.position(BTC)?.state).toBe('open');
    r.handle([timeExit(r.now())]);
    expect(count(r, 'exit_started')).toBe(1);
    // Past the backoff (1 s after the first refusal), the next decision tries again: one attempt.
    r.candle({ o: 100.5, h: 100.7, l: 100.3, c: 100.5 });
    r.handle([timeExit(r.now())]);
    expect(count(r, 'exit_started')).toBe(2);
  });
});
