/**
 * The period report as one self-contained HTML page (inline CSS and the SVG chart, no scripts, no
 * external resources): the archived copy in the bucket and the document sent to Telegram.
 */
import type { ClosedTrade } from '../analytics/types.js';
import { escapeXml as e, fmtNum, fmtTime } from '../report/format.js';
import type { GroupFigures, ReportFigures } from './figures.js';

const money = (s: string | null, q: string): string => (s === null ? '–' : `${e(s)} ${e(q)}`);
const pct = (x: number | null): string => (x === null ? '–' : `${fmtNum(x, 2)}%`);
const num = (x: number | null, d = 2): string => (x === null ? '–' : fmtNum(x, d));

function rows(pairs: readonly [string, string][]): string {
  return pairs.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('');
}

function groupTable(title: string, keyName: string, groups: Readonly<Record<string, GroupFigures>>, q: string): string {
  const body = Object.entries(groups)
    .map(([k, g]) => `<tr><td>${e(k)}</td><td>${g.trades}</td><td>${pct(g.winRatePct)}</td><td>${money(g.netPnl, q)}</td><td>${money(g.fees, q)}</td></tr>`)
    .join('');
  return `<h2>${e(title)}</h2><table><tr><th>${e(keyName)}</th><th>trades</th><th>win rate</th><th>net PnL</th><th>fees</th></tr>${body || '<tr><td colspan="5">none</td></tr>'}</table>`;
}

/** The report page. `trades` are the period's closed trades (listed with exact decimals). */
export function reportPageHtml(f: ReportFigures, svg: string, trades: readonly ClosedTrade[], meta: { readonly generatedAt: number; readonly mode?: string }): string {
  const q = f.quoteAsset;
  const rl = f.riskLimits;
  const summary = rows([
    ['net PnL (after fees)', money(f.netPnl, q)],
    ['fees', money(f.fees, q)],
    ['gross PnL (before fees)', money(f.grossPnl, q)],
    ['return', `${pct(f.returnPct)}${f.startEquity ? ` of ${money(f.startEquity, q)}` : ' (no recorded start equity)'}`],
    ['trades (wins / losses)', `${f.trades} (${f.wins} / ${f.losses})`],
    ['win rate', pct(f.winRatePct)],
    ['profit factor', num(f.profitFactor, 3)],
    ['expectancy per trade', money(f.expectancy, q)],
    ['max drawdown (realized equity)', `${pct(f.maxDrawdownPct)} (${money(f.maxDrawdown, q)})`],
    ['average hold', f.avgHoldMinutes === null ? '–' : `${fmtNum(f.avgHoldMinutes, 1)} min`],
    ['best trade', f.best ? `${e(f.best.symbol)} ${money(f.best.netPnl, q)} (${e(f.best.exitReason)}, ${fmtTime(f.best.exitTime)})` : '–'],
    ['worst trade', f.worst ? `${e(f.worst.symbol)} ${money(f.worst.netPnl, q)} (${e(f.worst.exitReason)}, ${fmtTime(f.worst.exitTime)})` : '–'],
    ['slippage against the signal price (entries)', f.slippage.entries ? `average ${num(f.slippage.avgBps)} bps, worst ${num(f.slippage.maxBps)} bps (${f.slippage.entries} entries)` : 'no entry with a recorded signal price'],
    ['uptime (heartbeats)', f.uptime.pct === null ? '–' : `${pct(f.uptime.pct)}, ${f.uptime.gapCount} gap(s) over ${Math.round(f.uptime.maxGapMs / 1000)} s`],
  ]);
  const limits = rows([
    ['worst day loss / daily limit', `${pct(rl.worstDayLossPct)} of ${pct(rl.dailyLossLimitPct)}${rl.worstDay ? ` (${e(rl.worstDay)})` : ''}: ${pct(rl.dailyLimitUsedPct)} used`],
    ['worst ISO week loss / weekly limit', `${pct(rl.worstWeekLossPct)} of ${pct(rl.weeklyLossLimitPct)}: ${pct(rl.weeklyLimitUsedPct)} used`],
    ['peak open positions / limit', `${rl.peakOpenPositions} of ${rl.maxPositions}`],
  ]);
  const halts = f.halts.length ? f.halts.map((h) => `<li>${fmtTime(h.at)} <b>${e(h.code)}</b>: ${e(h.detail)}${h.lifted ? ' (lifted)' : ''}</li>`).join('') : '<li>none</li>';
  const kills = f.killSwitch.length ? f.killSwitch.map((k) => `<li>${fmtTime(k.at)} <b>${e(k.state)}</b>: ${e(k.detail)}</li>`).join('') : '<li>no change</li>';
  const gaps = f.uptime.gaps.length ? f.uptime.gaps.map((g) => `<li>${fmtTime(g.from)} to ${fmtTime(g.to)} (${fmtNum(g.minutes, 1)} min)</li>`).join('') : '<li>none</li>';
  const perDay = f.perDay.length
    ? `<h2>Per day</h2><table><tr><th>day (UTC)</th><th>trades</th><th>win rate</th><th>net PnL</th><th>fees</th><th>start equity</th><th>end equity</th></tr>${f.perDay
        .map((d) => `<tr><td>${e(d.day)}</td><td>${d.trades}</td><td>${pct(d.winRatePct)}</td><td>${money(d.netPnl, q)}</td><td>${money(d.fees, q)}</td><td>${money(d.startEquity, q)}</td><td>${money(d.endEquity, q)}</td></tr>`)
        .join('')}</table>`
    : '';
  const perWeek = f.perWeek.length
    ? `<h2>Per ISO week</h2><table><tr><th>week (Monday, UTC)</th><th>trades</th><th>win rate</th><th>net PnL</th><th>fees</th></tr>${f.perWeek
        .map((w) => `<tr><td>${e(w.week)}</td><td>${w.trades}</td><td>${pct(w.winRatePct)}</td><td>${money(w.netPnl, q)}</td><td>${money(w.fees, q)}</td></tr>`)
        .join('')}</table>`
    : '';
  const tradeRows = trades
    .map((t) => `<tr><td>${e(t.id)}</td><td>${e(t.symbol)}</td><td>${fmtTime(t.entryTime)}</td><td>${fmtTime(t.exitTime)}</td><td>${e(t.entryPrice.toString())}</td><td>${e(t.exitPrice.toString())}</td><td>${e(t.quantity.toString())}</td><td>${e(t.fees.toString())}</td><td>${e(t.netPnl.toString())}</td><td>${e(t.exitReason)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(f.period)} report ${e(f.key)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1e293b;max-width:1240px}table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;font-size:14px}th{background:#f8fafc}.note{color:#64748b;font-size:13px}.empty{background:#fef9c3;padding:8px 12px;border-radius:6px}</style></head><body>
<h1>${e(f.period)} report: ${e(f.label)}</h1>
<p class="note">Day boundary ${e(f.dayBoundary)}. Period ${fmtTime(f.start)} to ${fmtTime(f.end)} (end exclusive). Built from the state table at ${fmtTime(meta.generatedAt)}${meta.mode ? `, mode ${e(meta.mode)}` : ''}. Money in ${e(q)}, exact decimals.</p>
${f.empty ? '<p class="empty">No trade closed in this period.</p>' : ''}
${f.truncated ? '<p class="empty">A list reached its read bound: figures may be incomplete.</p>' : ''}
<h2>Summary</h2><table>${summary}</table>
${svg}
${groupTable('Trades per symbol', 'symbol', f.bySymbol, q)}
${groupTable('Trades per exit reason', 'exit reason', f.byExitReason, q)}
<h2>Risk limits used</h2><table>${limits}</table>
<h2>Halts</h2><ul>${halts}</ul>
<h2>Kill switch</h2><ul>${kills}</ul>
<h2>Anomalies</h2><table>${rows([
    ['rejected orders', String(f.anomalies.rejectedOrders)],
    ['stuck orders', String(f.anomalies.stuckOrders)],
    ['restart recoveries', String(f.anomalies.recoveries)],
    ['reconcile repairs', String(f.anomalies.reconcileRepairs)],
  ])}</table>
<h2>Uptime</h2><p>${f.uptime.pct === null ? 'the period has not started' : `${pct(f.uptime.pct)} of ${fmtNum(f.uptime.spanMs / 3_600_000, 2)} h covered by heartbeats of ${f.uptime.runtimes.length ? e(f.uptime.runtimes.join(', ')) : 'no runtime'}`}. Gaps longer than ${Math.round(f.uptime.maxGapMs / 1000)} s:</p><ul>${gaps}</ul>
${perDay}${perWeek}
<h2>Trades</h2><table><tr><th>id</th><th>symbol</th><th>entry (UTC)</th><th>exit (UTC)</th><th>entry price</th><th>exit price</th><th>quantity</th><th>fees</th><th>net PnL</th><th>exit reason</th></tr>${tradeRows || '<tr><td colspan="10">none</td></tr>'}</table>
<p class="note">Equity is the realized equity: the period's first recorded equity plus each trade's net PnL at its exit; drawdown is measured on it. Slippage compares the entry fill with the close the entry was decided at (positive: worse). Uptime counts time covered by runtime heartbeats, spans closer than the gap bound joined.</p>
</body></html>
`;
}
