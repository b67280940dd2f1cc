/**
 * The read commands' answers, from the status document and the state table: what an operator
 * reads on a phone. Each returns blocks for `paginate`; figures are the display-rounded fields of
 * the document, or decimals rounded here to the quote asset's precision.
 */
import type { ClosedTrade } from '../analytics/types.js';
import { Dec } from '../core/money.js';
import { DAY_MS } from '../core/timeframes.js';
import { moneyDecimals } from '../live/display.js';
import type { DailyStatsRecord } from '../state/types.js';
import { utcDayOf } from '../state/types.js';
import { esc, signed, table, type Block } from './format.js';
import type { ConsoleView, StatusView } from './ports.js';

/** Days searched backwards for `/trades` and `/performance`. */
export const TRADE_LOOKBACK_DAYS = 30;
/** Trades read for one answer. */
const TRADES_READ_BOUND = 2000;

const NO_STATUS: Block[] = [{ html: '<b>No status from the hot path.</b> It is not running, still starting, or has not written a snapshot yet.' }];

function age(view: StatusView, now: number): string {
  const s = Math.max(0, Math.round((now - view.at) / 1000));
  return s < 2 ? 'live' : `as of ${s} s ago`;
}

export function statusBlocks(view: StatusView | undefined, now: number): Block[] {
  if (!view) return NO_STATUS;
  const d = view.doc;
  const q = d.quoteAsset ?? 'USDT';
  const lines: Block[] = [
    { html: `<b>${esc(d.mode.toUpperCase())}</b> on ${esc(d.venue)} · ${esc(age(view, now))}` },
    { html: `Kill switch: <b>${esc(d.killSwitch)}</b> · trading ${esc(d.health?.trading ?? '?')}` },
    { html: `Equity: <b>${esc(d.equityDisplay ?? d.equity)} ${esc(q)}</b>` },
    { html: `Today: ${esc(d.todayPnlDisplay === null || d.todayPnlDisplay === undefined ? 'n/a' : signed(d.todayPnlDisplay))} ${esc(q)} · session ${esc(signed(d.sessionPnl?.netPnlDisplay ?? '0'))} ${esc(q)} (${d.sessionPnl?.trades ?? 0} trades)` },
    { html: `Open positions: ${d.positions.length}${d.positions.length ? ` (${esc(d.positions.map((p) => p.symbol).join(', '))})` : ''}` },
    { html: `Health: ${d.health?.ok ? 'ok' : `<b>not ok</b>: ${esc((d.health?.reasons ?? []).join('; '))}`}` },
  ];
  return lines;
}

export function positionsBlocks(view: StatusView | undefined, now: number): Block[] {
  if (!view) return NO_STATUS;
  const d = view.doc;
  if (d.positions.length === 0) return [{ html: `No open position (${esc(age(view, now))}).` }];
  const out: Block[] = [];
  for (const p of d.positions) {
    out.push({ html: `<b>${esc(p.symbol)}</b> ${esc(p.state)} since ${esc((p.openedAtIso ?? '').slice(0, 16).replace('T', ' '))}` });
    const rows: string[][] = [
      ['qty', `${p.quantityDisplay ?? '?'} ${p.base ?? ''}`.trim()],
      ['entry', p.entryDisplay ?? String(p.entryPrice)],
      ['price', p.priceDisplay ?? 'n/a'],
      ['value', `${p.valueDisplay ?? 'n/a'} ${d.quoteAsset ?? ''}`.trim()],
      ['uPnL', `${p.unrealisedPnlDisplay === null || p.unrealisedPnlDisplay === undefined ? 'n/a' : signed(p.unrealisedPnlDisplay)} ${d.quoteAsset ?? ''}`.trim()],
      ['stop', `${p.stopDisplay ?? String(p.stop)}${p.breakevenMoved ? ' (breakeven)' : ''}`],
    ];
    for (const t of p.targets ?? []) rows.push([t.label, `${t.priceDisplay} (${t.filled}/${t.quantity})`]);
    rows.push(['time stop', (p.expiresAtIso ?? '').slice(0, 16).replace('T', ' ')]);
    out.push({ pre: table(rows) });
  }
  return out;
}

/** The newest closed trades (at most `n`), searching back TRADE_LOOKBACK_DAYS days. */
export async function recentTrades(view: ConsoleView, now: number, n: number): Promise<ClosedTrade[]> {
  const out: ClosedTrade[] = [];
  for (let i = 0; i < TRADE_LOOKBACK_DAYS && out.length < n; i++) {
    const day = utcDayOf(now - i * DAY_MS);
    const trades = await view.store.listClosedTrades(day, TRADES_READ_BOUND);
    out.push(...[...trades].reverse());
  }
  return out.slice(0, n);
}

export function tradesBlocks(trades: readonly ClosedTrade[], quote: string): Block[] {
  if (trades.length === 0) return [{ html: `No closed trade in the last ${TRADE_LOOKBACK_DAYS} days.` }];
  const dp = moneyDecimals(quote);
  const rows = trades.map((t) => [new Date(t.exitTime).toISOString().slice(5, 16).replace('T', ' '), t.symbol.replace(quote, ''), t.exitReason, signed(t.netPnl.toFixed(dp)), `${t.returnPct.toFixed(2)}%`]);
  return [{ html: `<b>Last ${trades.length} trade(s)</b>, newest first (net ${esc(quote)}):` }, { pre: table([['exit (UTC)', 'sym', 'why', 'net', 'ret'], ...rows]) }];
}

interface Agg {
  trades: number;
  wins: number;
  pnl: Dec;
  fees: Dec;
  start: Dec | undefined;
  end: Dec | undefined;
}

function aggregate(days: readonly DailyStatsRecord[]): Agg {
  const a: Agg = { trades: 0, wins: 0, pnl: Dec.ZERO, fees: Dec.ZERO, start: undefined, end: undefined };
  for (const d of days) {
    a.trades += d.trades;
    a.wins += d.wins;
    a.pnl = a.pnl.add(d.realizedPnl);
    a.fees = a.fees.add(d.fees);
    a.start ??= d.startEquity;
    a.end = d.endEquity;
  }
  return a;
}

async function daysBack(view: ConsoleView, now: number, days: number): Promise<DailyStatsRecord[]> {
  const from = utcDayOf(now - (days - 1) * DAY_MS);
  return (await view.store.listDailyStats(from, utcDayOf(now), 400)).map((v) => v.value);
}

export async function profitBlocks(view: ConsoleView, now: number, days: number, quote: string): Promise<Block[]> {
  const a = aggregate(await daysBack(view, now, days));
  const dp = moneyDecimals(quote);
  if (a.trades === 0) return [{ html: `No closed trade in the last ${days} day(s).` }];
  const rate = ((a.wins / a.trades) * 100).toFixed(1);
  return [
    { html: `<b>Profit, last ${days} day(s)</b> (realised, net of fees)` },
    {
      pre: table([
        ['net PnL', `${signed(a.pnl.toFixed(dp))} ${quote}`],
        ['fees', `${a.fees.toFixed(dp)} ${quote}`],
        ['trades', `${a.trades} (${a.wins} won, ${rate}%)`],
        ['equity', `${a.start?.toFixed(dp) ?? '?'} -> ${a.end?.toFixed(dp) ?? '?'}`],
      ]),
    },
  ];
}

/** Daily, ISO-weekly or monthly rows from the daily stats. */
export async function periodBlocks(view: ConsoleView, now: number, period: 'day' | 'week' | 'month', n: number, quote: string): Promise<Block[]> {
  const span = period === 'day' ? n : period === 'week' ? n * 7 : n * 31;
  const days = await daysBack(view, now, Math.min(span, 366));
  const key = (day: string): string => {
    if (period === 'day') return day;
    if (period === 'month') return day.slice(0, 7);
    const t = Date.parse(`${day}T00:00:00Z`);
    const monday = t - ((new Date(t).getUTCDay() + 6) % 7) * DAY_MS;
    return `wk ${utcDayOf(monday)}`;
  };
  const groups = new Map<string, DailyStatsRecord[]>();
  for (const d of days) {
    const k = key(d.day);
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  const dp = moneyDecimals(quote);
  const rows = [...groups.entries()].slice(-n).reverse().map(([k, list]) => {
    const a = aggregate(list);
    return [k, String(a.trades), a.trades ? `${((a.wins / a.trades) * 100).toFixed(0)}%` : '-', signed(a.pnl.toFixed(dp)), a.end?.toFixed(dp) ?? '-'];
  });
  if (rows.length === 0) return [{ html: `No daily stats in the last ${span} day(s).` }];
  return [{ html: `<b>${period === 'day' ? 'Daily' : period === 'week' ? 'Weekly' : 'Monthly'}</b>, newest first (${esc(quote)})` }, { pre: table([[period, 'n', 'win', 'net', 'equity'], ...rows]) }];
}

export async function performanceBlocks(view: ConsoleView, now: number, quote: string): Promise<Block[]> {
  const trades = await recentTrades(view, now, TRADES_READ_BOUND);
  if (trades.length === 0) return [{ html: `No closed trade in the last ${TRADE_LOOKBACK_DAYS} days.` }];
  const by = new Map<string, { n: number; wins: number; pnl: Dec }>();
  for (const t of trades) {
    const s = by.get(t.symbol) ?? { n: 0, wins: 0, pnl: Dec.ZERO };
    s.n++;
    if (t.netPnl.isPositive()) s.wins++;
    s.pnl = s.pnl.add(t.netPnl);
    by.set(t.symbol, s);
  }
  const dp = moneyDecimals(quote);
  const rows = [...by.entries()].sort((a, b) => b[1].pnl.cmp(a[1].pnl)).map(([sym, s]) => [sym, String(s.n), `${((s.wins / s.n) * 100).toFixed(0)}%`, signed(s.pnl.toFixed(dp))]);
  return [{ html: `<b>Per symbol</b>, last ${TRADE_LOOKBACK_DAYS} days (net ${esc(quote)})` }, { pre: table([['symbol', 'n', 'win', 'net'], ...rows]) }];
}

export function riskBlocks(view: StatusView | undefined): Block[] {
  if (!view) return NO_STATUS;
  const r = view.doc.risk;
  const pct = (x: number): string => `${x.toFixed(2)}%`;
  const rows: string[][] = [
    ['daily loss', `${pct(r.dailyLoss.usedPct)} of ${pct(r.dailyLoss.limitPct)}${r.dailyLoss.blocked ? ' BLOCKED' : ''}`],
    ['weekly loss', `${pct(r.weeklyLoss.usedPct)} of ${pct(r.weeklyLoss.limitPct)}${r.weeklyLoss.blocked ? ' BLOCKED' : ''}`],
    ['monthly loss', `${pct(r.monthlyLoss.usedPct)} of ${pct(r.monthlyLoss.limitPct)}${r.monthlyLoss.blocked ? ' BLOCKED' : ''}`],
    ['day drawdown', `${pct(r.dailyDrawdown.usedPct)} of ${pct(r.dailyDrawdown.haltPct)} (halt)`],
    ['stops in a row', `${r.consecutiveStops.count} of ${r.consecutiveStops.max}`],
    ['win rate today', `${r.winRate.ratePct === null ? 'n/a' : pct(r.winRate.ratePct)} (${r.winRate.trades} trades; floor ${r.winRate.floorPct}% after ${r.winRate.minTrades})`],
    ['positions', `${r.openPositions.count} of ${r.openPositions.max}`],
    ['exposure', `${pct(r.exposure.usedPct)} of ${pct(r.exposure.capPct)} (${Number(r.exposure.notional).toFixed(2)} / ${Number(r.exposure.cap).toFixed(2)})`],
  ];
  const out: Block[] = [{ html: '<b>Risk limits</b> (used of limit)' }, { pre: table(rows) }];
  out.push({ html: r.halted ? `<b>HALTED</b>: ${esc(r.haltReason ?? '')}${r.haltUntil ? ` until ${esc(new Date(r.haltUntil).toISOString().slice(0, 16))} UTC` : ''}${r.haltDetail ? ` (${esc(r.haltDetail)})` : ''}` : 'No halt.' });
  if (r.cooldowns.length) out.push({ html: `Cooling down: ${esc(r.cooldowns.map((c) => `${c.symbol} until ${new Date(c.until).toISOString().slice(11, 16)}`).join(', '))}` });
  return out;
}

export function healthBlocks(view: StatusView | undefined, now: number): Block[] {
  if (!view) return NO_STATUS;
  const d = view.doc;
  const beat = Math.round((now - view.at) / 1000);
  const out: Block[] = [
    { html: `<b>Health: ${d.health?.ok ? 'ok' : 'NOT OK'}</b> · trading ${esc(d.health?.trading ?? '?')}` },
    { html: `Last report from the hot path: ${beat} s ago${beat > 120 ? ' <b>(stale: is the task running?)</b>' : ''}` },
  ];
  const lag = Object.entries(d.feedLagMs).map(([k, v]) => [k, v === null ? 'none yet' : `${(v / 1000).toFixed(1)} s`]);
  if (lag.length) out.push({ html: 'Feed lag per stream:' }, { pre: table(lag) });
  out.push({ html: `Frames ${d.feed.frames}, malformed ${d.feed.malformed}, reconnects ${d.feed.reconnects}` });
  out.push({ html: view.lastReconcile ? `Last reconcile: ${esc(new Date(view.lastReconcile.at).toISOString().slice(0, 19))}Z, ${esc(view.lastReconcile.summary)}` : 'Last reconcile: not recorded.' });
  const problems = d.health?.reasons ?? [];
  out.push({ html: problems.length ? `Open problems:\n${problems.map((r) => `• ${esc(r)}`).join('\n')}` : 'Open problems: none.' });
  return out;
}
