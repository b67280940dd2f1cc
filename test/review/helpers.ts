/** Builders shared by the review tests: closed trades with hand-picked numbers, a facts pack of them. */
import type { ClosedTrade } from '../../services/analytics/types.js';
import { parseConfig } from '../../services/config/schema.js';
import { dec } from '../../services/core/money.js';
import { periodContaining } from '../../services/reporting/period.js';
import { computeFigures } from '../../services/reporting/figures.js';
import type { ReportDataset } from '../../services/reporting/dataset.js';
import { DEFAULT_TUNABLES } from '../../services/review/config.js';
import { diffTrades } from '../../services/review/divergence.js';
import { buildFactsPack } from '../../services/review/factsPack.js';

export const DAY = Date.UTC(2025, 2, 4); // Tuesday 2025-03-04
export const MIN = 60_000;

/** A long trade: entry and exit price, quantity, fees; PnL computed exactly (gross = (exit - entry) x qty). */
export function trade(id: string, o: { symbol?: string; entry: number; exit: number; qty: string; entryPrice: string; exitPrice: string; fees: string; reason: string }): ClosedTrade {
  const q = dec(o.qty);
  const gross = dec(o.exitPrice).sub(dec(o.entryPrice)).mul(q);
  const fees = dec(o.fees);
  const net = gross.sub(fees);
  return {
    id,
    symbol: o.symbol ?? 'DOGEUSDT',
    direction: 'long',
    entryTime: o.entry,
    exitTime: o.exit,
    entryPrice: dec(o.entryPrice),
    exitPrice: dec(o.exitPrice),
    quantity: q,
    fees,
    grossPnl: gross,
    netPnl: net,
    exitReason: o.reason,
    exits: 1,
    returnPct: net.div(dec(o.entryPrice).mul(q)).toNumber() * 100,
  };
}

/** Three trades on DAY: a stop loss, a target win, a stop loss. */
export function dayTrades(): ClosedTrade[] {
  return [
    trade('DOGEUSDTLa', { entry: DAY + 60 * MIN, exit: DAY + 90 * MIN, qty: '1000', entryPrice: '0.1000', exitPrice: '0.0990', fees: '0.0995', reason: 'stop' }),
    trade('DOGEUSDTLb', { entry: DAY + 600 * MIN, exit: DAY + 700 * MIN, qty: '1000', entryPrice: '0.1000', exitPrice: '0.1020', fees: '0.101', reason: 'target' }),
    trade('DOGEUSDTLc', { entry: DAY + 900 * MIN, exit: DAY + 960 * MIN, qty: '2000', entryPrice: '0.1010', exitPrice: '0.1000', fees: '0.201', reason: 'stop' }),
  ];
}

export const LIVE = parseConfig({});

/** A facts pack of the three trades (no positions, no ops, divergence of the trades against themselves). */
export function dayFacts() {
  const window = periodContaining('daily', DAY);
  const trades = dayTrades();
  const dataset: ReportDataset = { window, trades, positions: new Map(), days: [], fills: [], ops: [], uptime: [], truncated: false };
  const figures = computeFigures(dataset, LIVE, window.end);
  return buildFactsPack({ dataset, figures, divergence: diffTrades(trades, trades, window), live: LIVE, tunables: DEFAULT_TUNABLES, candles: new Map() });
}
