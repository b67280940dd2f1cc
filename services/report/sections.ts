/**
 * The report's sections beyond the headline tables: growth and drawdown duration, trades in time
 * and in R, costs paid, returns per day, week and month, the entry funnel, the refused entries and
 * the per-symbol price charts. Each returns HTML (every input text escaped) for report.html.
 */
import type { ExtendedSummary, PeriodReturn } from '../analytics/periods.js';
import { escapeXml as esc, fmtNum, groupThousands } from './format.js';

/** What report.html shows beyond the summary (all optional pieces of one run). */
export interface ReportExtras {
  readonly extended: ExtendedSummary;
  /** The strategy's entry funnel (counter -> count). */
  readonly funnel: Readonly<Record<string, number>>;
  /** Entries refused, by reason code. */
  readonly rejections: Readonly<Record<string, number>>;
  /** The strategy's name, for the funnel's caption. */
  readonly strategy?: string;
  /** One SVG per symbol (priceChartSvg output, embedded as is). */
  readonly priceCharts?: readonly { readonly symbol: string; readonly svg: string }[];
}

function pct(x: number | null, d = 2): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return `${x > 0 ? '+' : ''}${fmtNum(x, d)}%`;
}

function tone(x: number | null): string {
  return x === null || x === 0 ? '' : x > 0 ? 'pos' : 'neg';
}

/** "3 d 4 h", "5 h 12 min", "42 min". */
export function humanDuration(ms: number | null): string {
  if (ms === null || !(ms >= 0)) return '–';
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function kv(rows: readonly [string, string, string?][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v, c]) => `<tr><td>${esc(k)}</td><td class="n ${c ?? ''}">${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function returnsTable(title: string, rows: readonly PeriodReturn[]): string {
  const body = rows.length
    ? rows.map((r) => `<tr><td>${esc(r.period)}</td><td class="n">${esc(fmtNum(r.endEquity, 2))}</td><td class="n ${tone(r.returnPct)}">${esc(pct(r.returnPct))}</td></tr>`).join('')
    : '<tr><td colspan="3" class="muted">No data</td></tr>';
  return `<div><h3>${esc(title)}</h3><div class="scroll" style="max-height:360px"><table><thead><tr><th>Period</th><th class="n">Equity at end</th><th class="n">Return</th></tr></thead><tbody>${body}</tbody></table></div></div>`;
}

function counts(title: string, head: string, entries: readonly [string, number][], empty: string, total?: number): string {
  const body = entries.length
    ? entries.map(([k, n]) => `<tr><td>${esc(k)}</td><td class="n">${groupThousands(String(n))}</td>${total ? `<td class="n">${esc(fmtNum((n / total) * 100, 1))}%</td>` : ''}</tr>`).join('')
    : `<tr><td colspan="${total ? 3 : 2}" class="muted">${esc(empty)}</td></tr>`;
  return `<div><h3>${esc(title)}</h3><table><thead><tr><th>${esc(head)}</th><th class="n">Count</th>${total ? '<th class="n">Share</th>' : ''}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** All extra sections, in report order. `currency` labels money. */
export function extrasHtml(x: ReportExtras, currency: string): string {
  const e = x.extended;
  const money = (v: number | null, d = 2): string => (v === null ? '–' : `${fmtNum(v, d)} ${currency}`);
  const dd = e.drawdownDuration;
  const trade = (t: ExtendedSummary['bestTrade']): string => (t ? `${t.symbol} ${fmtNum(t.netPnl, 2)} ${currency} (${pct(t.returnPct, 3)}${t.rMultiple !== null ? `, ${fmtNum(t.rMultiple, 2)} R` : ''}), ${t.exitReason}, ${t.exitTime.slice(0, 16).replace('T', ' ')}` : '–');
  const h: string[] = [];
  h.push('<h2>Growth, time and costs</h2>', '<div class="cols">');
  h.push(
    kv([
      ['CAGR (annualised from the run’s span)', pct(e.cagrPct), tone(e.cagrPct)],
      ['Calmar (CAGR / max drawdown)', fmtNum(e.calmar, 2)],
      ['Longest time under water', humanDuration(dd.maxMs)],
      ['… from the peak at', dd.from ? dd.from.slice(0, 16).replace('T', ' ') : '–'],
      ['… until', dd.to ? `${dd.to.slice(0, 16).replace('T', ' ')}${dd.recovered ? '' : ' (not recovered)'}` : '–'],
      ['Under water at the end', humanDuration(dd.currentMs)],
    ]),
  );
  h.push(
    kv([
      ['Trade duration: mean', humanDuration(e.tradeDuration.meanMin === null ? null : e.tradeDuration.meanMin * 60_000)],
      ['Trade duration: median', humanDuration(e.tradeDuration.medianMin === null ? null : e.tradeDuration.medianMin * 60_000)],
      ['Trade duration: longest', humanDuration(e.tradeDuration.maxMin === null ? null : e.tradeDuration.maxMin * 60_000)],
      ['Best trade', trade(e.bestTrade)],
      ['Worst trade', trade(e.worstTrade)],
      ['Mean result per trade (R)', e.r.mean === null ? '–' : `${fmtNum(e.r.mean, 3)} R`, tone(e.r.mean)],
      ['Sum of results (R)', e.r.total === null ? '–' : `${fmtNum(e.r.total, 2)} R`, tone(e.r.total)],
      ['Mean favourable / adverse excursion (R)', e.r.meanMfe === null ? '–' : `${fmtNum(e.r.meanMfe, 2)} / ${fmtNum(e.r.meanMae ?? null, 2)}`],
    ]),
  );
  h.push(
    kv([
      ['Fees paid', money(e.costsPaid.fees)],
      ['… on entries', money(e.costsPaid.entryFees)],
      ['… on exits', money(e.costsPaid.exitFees)],
      ['Entry slippage vs decision price', money(e.costsPaid.entrySlippage)],
      ['Exit slippage vs decision price (market exits)', money(e.costsPaid.exitSlippage)],
    ]),
  );
  h.push('</div>');
  h.push(
    '<p class="muted">Slippage is what fills paid beyond their decision price: the signal close (market entries) or the limit (limit entries), the stop (stop exits) or the last price (other market exits); it includes the price move during the order latency. Negative is better than the decision price.</p>',
  );

  h.push('<h2>Returns by period</h2>', '<div class="cols">');
  h.push(returnsTable('Monthly', e.returns.monthly), returnsTable('Weekly (ISO weeks, Monday)', e.returns.weekly), returnsTable('Daily (UTC)', e.returns.daily));
  h.push('</div>');

  h.push('<h2>Entry funnel and refusals</h2>', '<div class="cols">');
  const funnel = Object.entries(x.funnel);
  const evaluated = x.funnel.evaluated;
  h.push(counts(`Where candidate entries stopped${x.strategy ? ` (${x.strategy})` : ''}`, 'Rule', funnel, 'The strategy keeps no funnel', evaluated && evaluated > 0 ? evaluated : undefined));
  const refused = Object.entries(x.rejections).sort((a, b) => b[1] - a[1]);
  h.push(counts('Entries refused (risk engine, entry gate, exchange)', 'Reason code', refused, 'None refused'));
  h.push('</div>');

  if (x.priceCharts && x.priceCharts.length > 0) {
    h.push('<h2>Price charts</h2>');
    for (const c of x.priceCharts) h.push(`<h3>${esc(c.symbol)}</h3>`, `<div class="panel chart">${c.svg}</div>`);
  }
  return h.join('\n');
}
