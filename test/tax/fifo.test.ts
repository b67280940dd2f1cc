/**
 * The FIFO tax ledger on hand-worked lots (numbers in the comments, worked out on paper): fees in
 * the quote asset, the base asset and MX; a sell spanning two lots; a sell past the last lot; lots
 * carried across a year end; the files and the reconciliation of a year read from the state store.
 */
import { describe, expect, it } from 'vitest';
import { dec, type Dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { FillRecord } from '../../services/state/types.js';
import { buildFifoLedger, type PriceSource } from '../../services/tax/fifo.js';
import { COINTRACKING_COLUMNS, coinTrackingCsv, disposalsCsv } from '../../services/tax/export.js';
import { reconcileFills } from '../../services/tax/reconcile.js';
import { runTaxYear } from '../../services/tax/run.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const T = (d: number, h = 12) => Date.UTC(2025, 0, d, h);
const Y2025 = { from: Date.UTC(2025, 0, 1), to: Date.UTC(2026, 0, 1) };
const MX: PriceSource = { priceAt: (asset, quote, _t) => Promise.resolve(asset === 'MX' && quote === 'USDT' ? dec('2.5') : undefined) };

function fill(tradeId: string, side: 'buy' | 'sell', time: number, qty: string, price: string, fee: string, feeAsset: string, clientOrderId = `c-${tradeId}`): FillRecord {
  return { tradeId, clientOrderId, exchangeOrderId: `x-${tradeId}`, symbol: 'DOGEUSDT' as SymbolId, side, price: dec(price), quantity: dec(qty), fee: dec(fee), feeAsset, liquidity: 'taker', time };
}

const FILLS = [
  fill('1', 'buy', T(10), '1000', '0.10', '0.05', 'USDT'), // L1: 1000 DOGE for 100 + 0.05 fee = 100.05
  fill('2', 'buy', T(11), '500', '0.12', '0.5', 'DOGE'), // L2: 499.5 DOGE for 60 (the fee is in the basis)
  fill('3', 'sell', T(12), '600', '0.15', '0.045', 'USDT'), // 600 of L1
  fill('4', 'sell', T(13), '700', '0.11', '1', 'MX'), // the 400 left of L1, 300 of L2; fee 1 MX = 2.5 USDT
  fill('5', 'sell', T(14), '200', '0.20', '0.2', 'DOGE'), // 200.2 DOGE leave: the 199.5 left of L2, 0.7 unmatched
];

const s = (d: Dec) => d.toString();

describe('buildFifoLedger (hand-worked lots)', () => {
  it('every row: lot, times, quantity, proceeds, basis, fee and gain, to the last decimal', async () => {
    const r = await buildFifoLedger(FILLS, Y2025, MX);
    const rows = r.rows.map((x) => [x.id, x.lotId, x.acquiredAt, x.disposedAt, s(x.quantity), s(x.proceeds), s(x.costBasis), s(x.fee), s(x.gain)]);
    expect(rows).toEqual([
      // 600 x 0.15 = 90; basis 100.05 x 600/1000 = 60.03; gain 90 - 60.03 - 0.045.
      ['DOGEUSDT:3:0', 'DOGEUSDT:1', T(10), T(12), '600', '90', '60.03', '0.045', '29.925'],
      // 700 x 0.11 = 77 split 400/300: 44 and 33. L1's remaining cost 40.02. Fee 2.5 split 400/700 = 1.428571428571428571 and the rest.
      ['DOGEUSDT:4:0', 'DOGEUSDT:1', T(10), T(13), '400', '44', '40.02', '1.428571428571428571', '2.551428571428571429'],
      // Basis 60 x 300/499.5 = 36.036036036036036036 (18 places).
      ['DOGEUSDT:4:1', 'DOGEUSDT:2', T(11), T(13), '300', '33', '36.036036036036036036', '1.071428571428571429', '-4.107464607464607465'],
      // 200.2 x 0.20 = 40.04, of which 199.5 x 0.2 = 39.9 for L2; fee 0.2 DOGE x 0.2 = 0.04 split 199.5/200.2.
      ['DOGEUSDT:5:0', 'DOGEUSDT:2', T(11), T(14), '199.5', '39.9', '23.963963963963963964', '0.03986013986013986', '15.896175896175896176'],
      ['DOGEUSDT:5:1', 'UNMATCHED', null, T(14), '0.7', '0.14', '0', '0.00013986013986014', '0.13986013986013986'],
    ]);
    // Each lot's disposed basis adds up to its cost exactly: L1 60.03 + 40.02 = 100.05; L2 36.036... + 23.963... = 60.
    expect(s(r.rows[0]!.costBasis.add(r.rows[1]!.costBasis))).toBe('100.05');
    expect(s(r.rows[2]!.costBasis.add(r.rows[3]!.costBasis))).toBe('60');
    expect(r.openLots).toEqual([]);
    expect(r.issues).toEqual([{ kind: 'unmatched_sell', tradeId: '5', symbol: 'DOGEUSDT', detail: '0.7 DOGE sold with no lot left (acquired before the fills given?)' }]);
    expect(r.acquisitions.map((l) => [l.id, s(l.quantity), s(l.cost)])).toEqual([
      ['DOGEUSDT:1', '1000', '100.05'],
      ['DOGEUSDT:2', '499.5', '60'],
    ]);
  });

  it('lots bought before the year are disposed first and only the year disposals are listed; an MX fee without a price is an issue', async () => {
    const prior = fill('0', 'buy', Date.UTC(2024, 11, 31), '100', '0.09', '1', 'MX');
    const r = await buildFifoLedger([FILLS[2]!, prior, FILLS[0]!], Y2025, { priceAt: () => Promise.resolve(undefined) });
    // The 2024 lot (100 for 9, its MX fee unvalued) goes first, then 500 of L1 (basis 100.05 / 2).
    expect(r.rows.map((x) => [x.lotId, s(x.quantity), s(x.costBasis)])).toEqual([
      ['DOGEUSDT:0', '100', '9'],
      ['DOGEUSDT:1', '500', '50.025'],
    ]);
    expect(r.acquisitions.map((l) => l.id)).toEqual(['DOGEUSDT:1']);
    expect(r.openLots.map((l) => [l.id, s(l.quantity), s(l.cost)])).toEqual([['DOGEUSDT:1', '500', '50.025']]);
    expect(r.issues.map((i) => i.kind)).toEqual(['unvalued_fee']);
  });
});

describe('tax files and reconciliation', () => {
  it('CoinTracking-style rows: a buy buys the base for the quote, a sell the reverse, fee in its own asset, UTC dates', () => {
    const csv = coinTrackingCsv([FILLS[0]!, FILLS[3]!]).trim().split('\n');
    expect(csv[0]).toBe(COINTRACKING_COLUMNS.join(','));
    expect(csv[1]).toBe('Trade,1000,DOGE,100,USDT,0.05,USDT,MEXC,DOGEUSDT,1 c-1,2025-01-10 12:00:00');
    expect(csv[2]).toBe('Trade,77,USDT,700,DOGE,1,MX,MEXC,DOGEUSDT,4 c-4,2025-01-13 12:00:00');
  });

  it('reconciles with the exchange fills: missing either side and a changed fee are reported', () => {
    const exchange = [FILLS[0]!, { ...FILLS[1]!, fee: dec('0.6') }, fill('9', 'buy', T(20), '1', '0.1', '0', 'USDT')];
    const r = reconcileFills(FILLS.slice(0, 3), [], exchange);
    expect(r.matched).toBe(1);
    expect(r.missingInState).toEqual(['DOGEUSDT#9']);
    expect(r.missingOnExchange).toEqual(['DOGEUSDT#3']);
    expect(r.mismatched).toEqual(['DOGEUSDT#2: fee 0.5 DOGE/0.6 DOGE (state/exchange)']);
    expect(r.ok).toBe(false);
  });

  it('a year from the state store: the files under tax/<year>/, the disposals CSV exact, a closed trade checked against its fills', async () => {
    const { store } = createMemoryStore({ clock: () => 0 });
    // A round trip of the executor: entry and exit client ids carry the position id.
    const pos = 'DOGEUSDTLabc';
    const entry = fill('e1', 'buy', T(3), '100', '0.1', '0.005', 'USDT', `${pos}E`);
    const exit = fill('x1', 'sell', T(3, 14), '100', '0.11', '0.0055', 'USDT', `${pos}X1`);
    for (const f of [entry, exit]) await store.putFillOnce(f);
    await store.putClosedTradeOnce({ id: pos, symbol: 'DOGEUSDT', direction: 'long', entryTime: T(3), exitTime: T(3, 14), entryPrice: dec('0.1'), exitPrice: dec('0.11'), quantity: dec('100'), fees: dec('0.0105'), grossPnl: dec('1'), netPnl: dec('0.9895'), exitReason: 'target', exits: 1, returnPct: 9.895 });
    const dir = mkdtempSync(join(tmpdir(), 'tax-'));
    try {
      const r = await runTaxYear({ store, prices: MX, out: new LocalFolderStore(dir), historyYears: 0 }, 2025);
      expect(r.keys).toEqual(['tax/2025/disposals.csv', 'tax/2025/cointracking.csv', 'tax/2025/ledger.json']);
      // Proceeds 11, basis 10.005, fee 0.0055: gain 0.9895 = the trade's net PnL.
      expect(readFileSync(join(dir, 'tax/2025/disposals.csv'), 'utf8').trim().split('\n')[1]).toBe(
        `DOGEUSDT:x1:0,DOGEUSDT,DOGE,USDT,DOGEUSDT:e1,${new Date(T(3)).toISOString()},${new Date(T(3, 14)).toISOString()},100,11,10.005,0.0055,0.9895`,
      );
      expect(r.reconciliation.tradesChecked).toBe(1);
      expect(r.reconciliation.tradeMismatches).toEqual([]);
      expect(r.totals.all?.gain).toBe('0.9895');
      const ledger = JSON.parse(readFileSync(join(dir, 'tax/2025/ledger.json'), 'utf8')) as { reconciliation: { ok: boolean }; disposals: number };
      expect(ledger).toMatchObject({ disposals: 1, reconciliation: { ok: true } });
      expect(disposalsCsv([]).trim()).toBe('disposal_id,symbol,asset,quote,lot_id,acquired_at,disposed_at,quantity,proceeds,cost_basis,fee,gain');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
