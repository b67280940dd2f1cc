/**
 * report.html of `npm run optimize`: the verdict first, then the stitched out-of-sample equity
 * against the in-sample curves and the untuned config, the folds, parameter stability and
 * heatmaps, the overfitting figures (CSCV logits, in- vs out-of-sample winners, deflated Sharpe),
 * and the hold-out. One self-contained page: inline CSS and SVG, no scripts; inputs escaped.
 */
import { escapeXml as esc, fmtDate, fmtNum } from '../../report/format.js';
import type { FoldReport, OptimizeReport } from '../analysis.js';
import type { SpanMetrics } from '../objectives.js';
import { formatValue } from '../space.js';
import { heatmapSvg, histogramSvg, linesSvg, scatterSvg } from './svg.js';

const CSS = `*{box-sizing:border-box}body{margin:0;background:#f8fafc;color:#1e293b;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 24px 48px}h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:30px 0 10px}
.sub{color:#64748b;margin:0 0 16px}.verdict{border-radius:8px;padding:14px 16px;font-size:16px;font-weight:600;margin:12px 0 18px}
.fail{background:#fef2f2;border:1px solid #fecaca;color:#991b1b}.ok{background:#f0fdf4;border:1px solid #bbf7d0;color:#166534}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-bottom:12px}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 12px}.card .k{color:#64748b;font-size:12px}
.card .v{font-size:20px;font-weight:600;font-variant-numeric:tabular-nums}.panel{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:8px;margin:8px 0}
svg{display:block;width:100%;height:auto}table{border-collapse:collapse;width:100%;background:#fff;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e2e8f0;text-align:left;white-space:nowrap}th{background:#f1f5f9}td.n{text-align:right}
.scroll{overflow:auto;border:1px solid #e2e8f0;border-radius:8px}.pos{color:#15803d}.neg{color:#b91c1c}.muted{color:#64748b}
.note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 14px;margin:10px 0}footer{color:#94a3b8;font-size:12px;margin-top:28px}`;

const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x > 0 ? '+' : ''}${fmtNum(x, 2)}%`);
const num = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : fmtNum(x, d));
const tone = (x: number | null | undefined): string => (x === null || x === undefined || x === 0 ? '' : x > 0 ? 'pos' : 'neg');
const span = (s: { start: number; end: number }): string => `${fmtDate(s.start)} .. ${fmtDate(s.end - 1)}`;

function card(k: string, v: string, cls = ''): string {
  return `<div class="card"><div class="k">${esc(k)}</div><div class="v ${cls}">${esc(v)}</div></div>`;
}

function metricsCell(m: SpanMetrics | null): string {
  return m ? `<td class="n ${tone(m.netReturnPct)}">${pct(m.netReturnPct)}</td><td class="n">${m.trades}</td>` : '<td class="n">–</td><td class="n">–</td>';
}

function foldRow(f: FoldReport): string {
  const values = f.choice ? Object.entries(f.choice.values).map(([k, v]) => `${k.split('.').pop() ?? k}=${formatValue(v)}`).join(', ') : 'no trial met the minimum trade count';
  return (
    `<tr><td>${f.final ? 'final' : f.index + 1}</td><td>${esc(span(f.train))}</td><td>${esc(span(f.test))}</td>` +
    `<td class="n">${f.distinctTrials}/${f.searchTrials}</td><td class="n">${f.invalidTrials + f.failedTrials}</td>` +
    `<td class="n">${num(f.choice?.objectives[0])}</td><td class="n">${num(f.choice?.score)}</td><td class="n">${num(f.choice?.rawBest.objective)}</td>` +
    metricsCell(f.inSample) +
    metricsCell(f.outOfSample) +
    metricsCell(f.untuned) +
    `<td class="n">${num(f.wfe)}</td><td class="n">${num(f.dsr?.dsr, 3)}</td><td class="n">${num(f.pbo.pbo)}</td><td class="muted">${esc(values)}</td></tr>`
  );
}

export interface OptimizeReportMeta {
  readonly command: string;
  readonly generatedAt?: number;
}

/** Renders the page of a run's analysis. */
export function optimizeReportHtml(r: OptimizeReport, meta: OptimizeReportMeta): string {
  const s = r.stitched;
  const h = r.holdout;
  const cards = [
    card('Out-of-sample return', pct(s.outOfSampleReturnPct), tone(s.outOfSampleReturnPct)),
    card('Untuned, same spans', pct(s.untunedReturnPct), tone(s.untunedReturnPct)),
    card('In-sample (chosen sets)', pct(s.inSampleReturnPct), tone(s.inSampleReturnPct)),
    card('Out-of-sample days', fmtNum(s.days, 1)),
    card('OOS trades', String(s.outOfSampleTrades)),
    card('Walk-forward efficiency', num(r.walkForwardEfficiency)),
    card('PBO (CSCV)', num(r.pbo.pbo)),
    card('Median deflated Sharpe', num(r.medianDeflatedSharpe, 3)),
    card('OOS P(Sharpe > 0)', num(s.probabilisticSharpe, 3)),
    card('Hold-out return', pct(h?.outOfSample?.netReturnPct), tone(h?.outOfSample?.netReturnPct)),
    card('Trials', `${r.trials.distinct} distinct / ${r.trials.total}`),
  ].join('');
  const equity = linesSvg(
    'Stitched out-of-sample equity vs the in-sample curves of the chosen sets',
    [
      { label: 'out of sample (chosen per fold)', color: '#2563eb', values: s.outOfSample.map((p) => p.equity) },
      { label: 'untuned config, same spans', color: '#64748b', values: s.untuned.map((p) => p.equity), dashed: true },
      { label: 'in sample (optimised: optimistic)', color: '#f59e0b', values: s.inSample.map((p) => p.equity), dashed: true },
    ],
    'each curve over its own hours: OOS and untuned the test spans laid end to end, in-sample the training spans',
  );
  const stability = Object.entries(r.stability)
    .map(([k, st]) => `<tr><td>${esc(k)}</td><td>${esc(st.values.map(formatValue).join(', '))}</td><td class="n">${num(st.dispersion)}</td><td class="n">${num(st.spread)}</td><td>${st.mode !== undefined ? esc(`${String(st.mode)} (${fmtNum((st.modeShare ?? 0) * 100, 0)}%)`) : ''}</td></tr>`)
    .join('');
  const heat = r.heatmaps.map((m) => `<div class="panel">${heatmapSvg(`${m.y} against ${m.x}`, m.x, m.y, m.xLabels, m.yLabels, m.cells)}</div>`).join('');
  const logit = histogramSvg(`CSCV: logit of the in-sample winner's out-of-sample rank (${r.pbo.splits} splits)`, r.pbo.logits, 30, 0, 'median: left of it = overfit');
  const scatter = scatterSvg('CSCV winners: in-sample vs out-of-sample Sharpe per hour', r.pbo.pairs, 'in-sample Sharpe per hour of the winner', 'its out-of-sample Sharpe per hour');
  const dsrRows = [...r.folds, ...(h ? [h] : [])]
    .map((f) => `<tr><td>${f.final ? 'final' : f.index + 1}</td><td class="n">${num(f.dsr?.sharpe, 4)}</td><td class="n">${num(f.dsr?.expectedMax, 4)}</td><td class="n">${f.dsr?.trials ?? '–'}</td><td class="n">${f.dsr?.observations ?? '–'}</td><td class="n">${num(f.dsr?.skew)}</td><td class="n">${num(f.dsr?.kurtosis)}</td><td class="n">${num(f.dsr?.dsr, 3)}</td><td class="n">${num(f.pbo.pbo)}</td><td class="n">${num(f.pbo.probabilityOfLoss)}</td></tr>`)
    .join('');
  const holdout = h
    ? `<h2>Hold-out (evaluated once, after everything else)</h2><p>Trained on ${esc(span(h.train))}, tested on ${esc(span(h.test))}: ${h.outOfSample ? `<b class="${tone(h.outOfSample.netReturnPct)}">${pct(h.outOfSample.netReturnPct)}</b> in ${h.outOfSample.trades} trades (max drawdown ${num(h.outOfSample.maxDrawdownPct)}%)` : 'no result (no trial met the minimum trade count)'}; the untuned config made ${pct(h.untuned?.netReturnPct)}. Parameters: <span class="muted">${esc(h.choice ? JSON.stringify(h.choice.values) : '–')}</span>.</p>`
    : '<p class="muted">No hold-out span was kept (--holdout 0).</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Walk-forward optimisation ${esc(r.runId)}</title><style>${CSS}</style></head><body><main>
<h1>Walk-forward optimisation: ${esc(r.strategy)}</h1>
<p class="sub">Objective ${esc(r.objectives.join(' + '))}, at least ${r.minTrades} trades per span. Every figure is out of sample unless it says in-sample.</p>
<div class="verdict ${r.verdict.survives ? 'ok' : 'fail'}">${esc(r.verdict.sentence)}</div>
<div class="cards">${cards}</div>
<div class="panel">${equity}</div>
<h2>Folds</h2><div class="scroll"><table><tr><th>fold</th><th>train (in sample)</th><th>test (out of sample)</th><th>distinct/trials</th><th>invalid/failed</th><th>IS objective</th><th>neighbourhood</th><th>IS peak</th><th>IS return</th><th>IS trades</th><th>OOS return</th><th>OOS trades</th><th>untuned OOS</th><th>trades</th><th>WFE</th><th>DSR</th><th>PBO</th><th>chosen</th></tr>${r.folds.map(foldRow).join('')}${h ? foldRow(h) : ''}</table></div>
<p class="muted">The chosen set is the best neighbourhood score (its objective averaged with its nearest trials'), not the raw peak: a plateau is preferred to a sharp peak. "IS peak" is the raw best, for comparison.</p>
<h2>Parameter stability across folds</h2><div class="scroll"><table><tr><th>parameter</th><th>chosen per fold</th><th>dispersion</th><th>spread</th><th>mode</th></tr>${stability}</table></div>
<p class="muted">Dispersion: sample standard deviation of the chosen values over the width of the range (0 = the same every fold, about 0.29 = as spread as random picks); for choices, 1 - the share of the most common.</p>
${heat ? `<h2>Parameter heatmaps (in sample, all folds)</h2>${heat}` : ''}
<h2>Overfitting</h2>
<div class="note">PBO is the share of CSCV splits of each fold's training span in which the in-sample best trial ranks at or below the median out of sample (Bailey, Borwein, Lopez de Prado and Zhu). The deflated Sharpe ratio is the probability that the chosen trial's true Sharpe exceeds the best Sharpe expected from that many skill-less trials (Bailey and Lopez de Prado); 0.95 or more is significant.</div>
<div class="panel">${logit}</div><div class="panel">${scatter}</div>
<div class="scroll"><table><tr><th>fold</th><th>Sharpe/h (IS)</th><th>expected max</th><th>trials</th><th>hours</th><th>skew</th><th>kurtosis</th><th>DSR</th><th>PBO</th><th>P(loss)</th></tr>${dsrRows}</table></div>
${holdout}
<footer>Reproduce: <code>${esc(meta.command)}</code>${meta.generatedAt ? ` · generated ${esc(new Date(meta.generatedAt).toISOString())}` : ''} · run ${esc(r.runId)}</footer>
</main></body></html>`;
}
