/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no external resources)
 * with the run's headline figures, the cost assumptions, the equity chart, the data-quality repairs
 * and the trades. Every piece of text from the inputs is HTML-escaped.
 */

import type { BacktestConfig } from '../config/schema.js';
import type { BacktestSummary, ClosedTrade } from '../analytics/types.js';
import type { Dec } from '../core/money.js';
import { escapeXml as esc, fmtNum, fmtTime, groupThousands } from './format.js';
import { extrasHtml, type ReportExtras } from './sections.js';

/** A data-quality figure: a count, a note, or a group of them (e.g. per symbol). */
export type DataQualityValue = number | string | boolean | null | { readonly [key: string]: DataQualityValue };
/** Repairs and drops the data loader made, as key/count pairs (nested groups allowed). */
export type DataQuality = { readonly [key: string]: DataQualityValue };

/** Cost assumptions of the simulation; `config.backtest` fits as is. */
export type CostAssumptions = Pick<BacktestConfig, 'makerFeePct' | 'takerFeePct' | 'slippageBps'> &
  Partial<Pick<BacktestConfig, 'impactBpsPerPctVolume' | 'latencyMs' | 'quoteAsset'>>;

/** What the page says about the run beyond the summary. */
export interface ReportMeta {
  /** Strategy mode, e.g. 'standard' or 'hf'. */
  readonly mode: string;
  /** Risk profile name, e.g. 'conservative'. */
  readonly profile: string;
  readonly costs: CostAssumptions;
  readonly dataQuality: DataQuality;
  /** Most trades listed on the page (default 1000); all are in the CSV. */
  readonly maxTradeRows?: number;
  /** File name of the full trade list, for the note under a capped table. Default 'trades.csv'. */
  readonly tradesCsvName?: string;
  /**
   * Sections placed before the trade list (trusted markup, embedded as is): the research
   * tools' baselines and Monte Carlo (services/research/report/researchHtml.ts).
   */
  readonly sections?: string;
  /** Epoch ms the report was made; shown in the footer when given. */
  readonly generatedAt?: number;
  /** Growth, time, costs, period returns, funnel, refusals and price charts (sections.ts); shown when given. */
  readonly extras?: ReportExtras;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f8fafc;color:#1e293b;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:17px;margin:32px 0 10px}
.sub{color:#64748b;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(136px,1fr));gap:12px;margin-bottom:16px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 14px}
.card .k{color:#64748b;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:21px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
.note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 14px;margin:12px 0}
.panel{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px}
.chart svg{display:block;width:100%;height:auto}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px;align-items:start}
table{border-collapse:collapse;width:100%;background:#fff;font-variant-numeric:tabular-nums}
h3{font-size:14px;margin:16px 0 6px;color:#334155}
th,td{padding:5px 10px;border-bottom:1px solid #e2e8f0;text-align:left;white-space:nowrap}
th{background:#f1f5f9;font-weight:600;color:#334155;position:sticky;top:0}
td.n,th.n{text-align:right}
table.kv td:first-child{color:#475569}
.scroll{font-size:13px;overflow:auto;max-height:720px;border:1px solid #e2e8f0;border-radius:8px}
.pos{color:#15803d}.neg{color:#b91c1c}.muted{color:#64748b}
footer{color:#94a3b8;font-size:12px;margin-top:32px}
`;

/** "+3.25%" style percent with sign; '–' for null. */
function pct(x: number | null, decimals = 2, signed = true): string {
  if (x === null || !Number.isFinite(x)) return '–';
  const s = fmtNum(x, decimals);
  return `${signed && x > 0 && s !== fmtNum(0, decimals) ? '+' : ''}${s}%`;
}

/** Class for a signed value: green when positive, red when negative. */
function tone(x: number | null): string {
  if (x === null || x === 0) return '';
  return x > 0 ? 'pos' : 'neg';
}

/** A Dec with at most `decimals` places, trailing zeros removed, thousands grouped. */
function decText(d: Dec, decimals: number): string {
  let s = d.toFixed(decimals);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (s === '-0') s = '0';
  return groupThousands(s);
}

/** "droppedRows" / "dropped_rows" -> "Dropped rows"; keys that are already text, paths or all capitals (symbols) stay. */
function humanKey(key: string): string {
  if (/[\s/.]/.test(key) || !/[a-z]/.test(key)) return key;
  const spaced = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .trim();
  return spaced.length > 0 ? spaced[0]!.toUpperCase() + spaced.slice(1) : key;
}

function dqValue(v: number | string | boolean | null): string {
  if (v === null) return '–';
  if (typeof v === 'number') return Number.isInteger(v) ? groupThousands(String(v)) : fmtNum(v, 4);
  return String(v);
}

/** Flattens nested data-quality groups into labelled rows ("BTCUSDT › Gaps filled"). */
function dqRows(dq: DataQuality, prefix: readonly string[] = [], out: [string, string][] = []): [string, string][] {
  for (const [k, v] of Object.entries(dq)) {
    const label = [...prefix, humanKey(k)];
    if (v !== null && typeof v === 'object') {
      if (prefix.length < 4) dqRows(v, label, out);
      else out.push([label.join(' › '), JSON.stringify(v)]);
    } else out.push([label.join(' › '), dqValue(v)]);
  }
  return out;
}

function duration(ms: number): string {
  if (!(ms >= 0)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

function symbolsTitle(symbols: readonly string[]): string {
  if (symbols.length === 0) return 'no symbols';
  if (symbols.length <= 5) return symbols.join(', ');
  return `${symbols.slice(0, 5).join(', ')} and ${symbols.length - 5} more`;
}

function costSentence(c: CostAssumptions): string {
  const parts = [`maker fee ${fmtNum(c.makerFeePct, 3)}%`, `taker fee ${fmtNum(c.takerFeePct, 3)}%`];
  let slip = `slippage ${fmtNum(c.slippageBps, 1)} bps on market orders`;
  if (c.impactBpsPerPctVolume !== undefined && c.impactBpsPerPctVolume > 0) {
    slip += ` plus ${fmtNum(c.impactBpsPerPctVolume, 1)} bps per 1% of the candle's volume taken`;
  }
  parts.push(slip);
  if (c.latencyMs !== undefined) parts.push(`order latency ${groupThousands(String(c.latencyMs))} ms`);
  return parts.join(', ');
}

/**
 * Renders the report page. `svg` is the output of `equityChartSvg` (trusted markup, embedded as
 * is); everything else is escaped. Lists at most `meta.maxTradeRows` trades, in exit-time order.
 */
export function reportHtml(summary: BacktestSummary, svg: string, trades: readonly ClosedTrade[], meta: ReportMeta): string {
  const cur = meta.costs.quoteAsset ?? 'USDT';
  const maxRows = meta.maxTradeRows ?? 1000;
  const csvName = meta.tradesCsvName ?? 'trades.csv';
  const startMs = Date.parse(summary.start);
  const endMs = Date.parse(summary.end);
  const period = `${fmtTime(startMs)} → ${fmtTime(endMs)}`;
  const days = (endMs - startMs) / 86_400_000;
  const title = `Backtest ${symbolsTitle(summary.symbols)} · ${meta.mode} · ${meta.profile} · ${period}`;
  const money = (x: number | null, d = 2): string => (x === null ? '–' : `${fmtNum(x, d)} ${cur}`);

  const h: string[] = [];
  h.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>Backtest: ${esc(symbolsTitle(summary.symbols))}</h1>`,
    `<p class="sub">Mode <b>${esc(meta.mode)}</b> · risk profile <b>${esc(meta.profile)}</b> · ${esc(period)}${
      Number.isFinite(days) ? ` (${fmtNum(days, 1)} days)` : ''
    }</p>`,
  );

  // Headline cards.
  const cards: [string, string, string][] = [
    ['Net return', pct(summary.netReturnPct), tone(summary.netReturnPct)],
    [`Net PnL (${cur})`, fmtNum(summary.netPnl, 2), tone(summary.netPnl)],
    ['Buy and hold', pct(summary.buyAndHoldReturnPct), tone(summary.buyAndHoldReturnPct)],
    ['Max drawdown', pct(summary.maxDrawdownPct === 0 ? 0 : -summary.maxDrawdownPct), summary.maxDrawdownPct > 0 ? 'neg' : ''],
    ['Sharpe', fmtNum(summary.sharpe, 2), ''],
    ['Win rate', pct(summary.winRate, 1, false), ''],
    ['Profit factor', fmtNum(summary.profitFactor, 2), ''],
    ['Trades', groupThousands(String(summary.trades)), ''],
  ];
  h.push('<section class="cards">');
  for (const [k, v, cls] of cards) h.push(`<div class="card"><div class="k">${esc(k)}</div><div class="v ${cls}">${esc(v)}</div></div>`);
  h.push('</section>');
  h.push(
    `<p class="note"><b>Results are net of fees and slippage.</b> Assumed costs: ${esc(costSentence(meta.costs))}.</p>`,
  );

  // Chart.
  h.push('<h2>Equity and drawdown</h2>', `<div class="panel chart">${svg}</div>`);

  // Summary table and the smaller tables beside it.
  const rows: [string, string, string?][] = [
    ['Period', period],
    ['Symbols', summary.symbols.join(', ')],
    ['Initial balance', money(summary.initialBalance)],
    ['Final balance', money(summary.finalBalance)],
    ['Net PnL (after fees and slippage)', money(summary.netPnl), tone(summary.netPnl)],
    ['Net return', pct(summary.netReturnPct), tone(summary.netReturnPct)],
    ['Buy and hold (equal weight)', pct(summary.buyAndHoldReturnPct), tone(summary.buyAndHoldReturnPct)],
    ['Gross PnL of trades (before fees)', money(summary.grossPnl), tone(summary.grossPnl)],
    ['Fees paid', money(summary.fees)],
    ['Max drawdown', pct(summary.maxDrawdownPct, 2, false)],
    ['Sharpe (daily, ×√365)', fmtNum(summary.sharpe, 2)],
    ['Sortino (daily, ×√365)', fmtNum(summary.sortino, 2)],
    ['Trades', groupThousands(String(summary.trades))],
    ['Wins / losses', `${groupThousands(String(summary.wins))} / ${groupThousands(String(summary.losses))}`],
    ['Win rate', pct(summary.winRate, 2, false)],
    ['Profit factor', fmtNum(summary.profitFactor, 2)],
    ['Expectancy per trade', money(summary.expectancy, 4), tone(summary.expectancy)],
    ['Average win', pct(summary.avgWinPct, 3), tone(summary.avgWinPct)],
    ['Average loss', pct(summary.avgLossPct, 3), tone(summary.avgLossPct)],
    ['Max consecutive losses', String(summary.maxConsecutiveLosses)],
    ['Exposure (time in a position)', pct(summary.exposurePct, 2, false)],
    ['Trades per day', fmtNum(summary.tradesPerDay, 2)],
    ['Candles processed', groupThousands(String(summary.candles))],
    ['Run time', duration(summary.elapsedMs)],
    ['Throughput', summary.candlesPerSecond === null ? '–' : `${groupThousands(String(summary.candlesPerSecond))} candles/s`],
  ];
  h.push('<h2>Summary</h2>', '<div class="cols">', '<table class="kv"><tbody>');
  for (const [k, v, cls] of rows) h.push(`<tr><td>${esc(k)}</td><td class="n ${cls ?? ''}">${esc(v)}</td></tr>`);
  h.push('</tbody></table>', '<div>');

  h.push(
    '<table><thead><tr><th>Symbol</th><th class="n">Trades</th><th class="n">Net PnL</th><th class="n">Win rate</th><th class="n">Buy and hold</th></tr></thead><tbody>',
  );
  for (const [sym, s] of Object.entries(summary.perSymbol)) {
    h.push(
      `<tr><td>${esc(sym)}</td><td class="n">${groupThousands(String(s.trades))}</td><td class="n ${tone(s.netPnl)}">${esc(fmtNum(s.netPnl, 2))}</td><td class="n">${esc(pct(s.winRate, 1, false))}</td><td class="n ${tone(s.buyAndHoldReturnPct)}">${esc(pct(s.buyAndHoldReturnPct))}</td></tr>`,
    );
  }
  h.push('</tbody></table>');

  h.push('<h2>Exit reasons</h2>', '<table><thead><tr><th>Final exit</th><th class="n">Trades</th><th class="n">Share</th></tr></thead><tbody>');
  const reasons = Object.entries(summary.exitReasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length === 0) h.push('<tr><td colspan="3" class="muted">No trades</td></tr>');
  for (const [r, n] of reasons) {
    h.push(`<tr><td>${esc(r)}</td><td class="n">${groupThousands(String(n))}</td><td class="n">${esc(pct((n / summary.trades) * 100, 1, false))}</td></tr>`);
  }
  h.push('</tbody></table>');

  h.push('<h2>Data quality</h2>');
  const dq = dqRows(meta.dataQuality);
  if (dq.length === 0) h.push('<p class="muted">The loader reported no repairs.</p>');
  else {
    h.push('<table><thead><tr><th>Repair or check</th><th class="n">Count</th></tr></thead><tbody>');
    for (const [k, v] of dq) h.push(`<tr><td>${esc(k)}</td><td class="n">${esc(v)}</td></tr>`);
    h.push('</tbody></table>');
  }
  h.push('</div>', '</div>');

  if (meta.extras) h.push(extrasHtml(meta.extras, cur));

  // Trades.
  const ordered = [...trades].sort((a, b) => a.exitTime - b.exitTime);
  const shown = ordered.slice(0, Math.max(0, maxRows));
  if (meta.sections) h.push(meta.sections);
  h.push('<h2>Trades</h2>');
  if (ordered.length > shown.length) {
    h.push(
      `<p class="note">Showing the first ${groupThousands(String(shown.length))} of ${groupThousands(String(ordered.length))} trades; all of them, with exact decimals, are in <code>${esc(csvName)}</code>.</p>`,
    );
  } else {
    h.push(`<p class="muted">Prices and quantities are shown to 8 decimals, money to 4; exact values are in <code>${esc(csvName)}</code>.</p>`);
  }
  h.push(
    '<div class="scroll"><table><thead><tr>',
    '<th class="n">#</th><th>Id</th><th>Symbol</th><th>Side</th><th>Entry (UTC)</th><th>Exit (UTC)</th>',
    `<th class="n">Entry price</th><th class="n">Exit price</th><th class="n">Quantity</th><th class="n">Fees</th><th class="n">Net PnL</th><th class="n">Return</th><th>Exit reason</th><th class="n">Exits</th>`,
    '</tr></thead><tbody>',
  );
  if (shown.length === 0) h.push('<tr><td colspan="14" class="muted">No trades</td></tr>');
  shown.forEach((t, i) => {
    const net = t.netPnl.isPositive() ? 'pos' : t.netPnl.isNegative() ? 'neg' : '';
    h.push(
      `<tr><td class="n muted">${i + 1}</td><td>${esc(t.id)}</td><td>${esc(t.symbol)}</td><td>${esc(t.direction)}</td>` +
        `<td>${esc(fmtTime(t.entryTime))}</td><td>${esc(fmtTime(t.exitTime))}</td>` +
        `<td class="n">${decText(t.entryPrice, 8)}</td><td class="n">${decText(t.exitPrice, 8)}</td><td class="n">${decText(t.quantity, 8)}</td>` +
        `<td class="n">${decText(t.fees, 4)}</td><td class="n ${net}">${decText(t.netPnl, 4)}</td><td class="n ${net}">${esc(pct(t.returnPct, 3))}</td>` +
        `<td>${esc(t.exitReason)}</td><td class="n">${t.exits}</td></tr>`,
    );
  });
  h.push('</tbody></table></div>');

  h.push(
    `<footer>All times UTC. Sharpe and Sortino use daily returns of the equity series (UTC day ends), risk-free rate 0, annualised with √365.${
      meta.generatedAt !== undefined ? ` Generated ${esc(fmtTime(meta.generatedAt))}.` : ''
    }</footer>`,
    '</main>',
    '</body>',
    '</html>',
  );
  return h.join('\n');
}
