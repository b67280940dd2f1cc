/**
 * evaluation.html: one self-contained page (inline CSS, no scripts) with the walk-forward
 * evaluation's out-of-sample metrics per model and fold, the calibration table and the backtests
 * with and without the ML filter. Every text from the inputs is HTML-escaped.
 */
import { escapeXml as esc, fmtNum } from '../report/format.js';
import type { EvaluationReport } from './evaluate.js';
import type { MetricSet } from './metrics.js';

const CSS = `body{margin:0;background:#f8fafc;color:#1e293b;font:14px/1.45 system-ui,sans-serif}
main{max-width:1200px;margin:0 auto;padding:24px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums;margin:8px 0}
th,td{padding:4px 10px;border-bottom:1px solid #e2e8f0;text-align:right}th{background:#f1f5f9}
td:first-child,th:first-child{text-align:left}.note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 14px}
.bad{color:#b91c1c}.good{color:#15803d}`;

const n = (x: number | null | undefined, d = 4): string => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : fmtNum(x, d));

function metricRow(name: string, m: MetricSet): string {
  return `<tr><td>${esc(name)}</td><td>${m.samples}</td><td>${n(m.positiveRate * 100, 1)}%</td><td>${n(m.logLoss)}</td><td>${n(m.brier)}</td><td>${n(m.auc, 3)} ± ${n(m.aucStdErr, 3)}</td><td>${n(m.accuracy, 3)}</td><td>${n(m.ece, 3)}</td><td>${m.precisionLong70.count} / ${n(m.precisionLong70.precision, 3)}</td><td>${m.precisionShort70.count} / ${n(m.precisionShort70.precision, 3)}</td></tr>`;
}

const METRIC_HEAD = '<tr><th>model</th><th>samples</th><th>up rate</th><th>log loss</th><th>Brier</th><th>AUC ± SE</th><th>accuracy</th><th>ECE</th><th>long conf≥0.70: n / precision</th><th>short conf≥0.70: n / precision (up=0)</th></tr>';

/** Renders the evaluation report. `meta` lines are shown under the title (data, command). */
export function evaluationHtml(r: EvaluationReport, meta: { title: string; lines: readonly string[]; generatedAt?: number }): string {
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(meta.title)}</title><style>${CSS}</style></head><body><main>`);
  parts.push(`<h1>${esc(meta.title)}</h1>`);
  for (const l of meta.lines) parts.push(`<div>${esc(l)}</div>`);
  const b = r.barriers;
  parts.push(
    `<p class="note">Labels: triple barrier (${esc(b.mode)}), target ${n(b.target, 2)}${b.mode === 'percent' ? '%' : ' ATR'}, stop ${n(b.stop, 2)}${b.mode === 'percent' ? '%' : ' ATR'}, time limit ${b.horizonMinutes} min; embargo ${r.embargoMinutes} min between train, validation and test. ${r.featureCount} features, ${r.steps} steps. Every figure below is out of sample.</p>`,
  );
  parts.push('<h2>Pooled out-of-sample metrics</h2><table>' + METRIC_HEAD);
  for (const [name, m] of Object.entries(r.pooled)) parts.push(metricRow(name, m));
  parts.push('</table>');
  for (const [name, ok] of Object.entries(r.beatsChance)) {
    parts.push(`<div class="${ok ? 'good' : 'bad'}">${esc(name)}: ${ok ? 'beats' : 'does NOT beat'} the base-rate reference out of sample (needs lower pooled log loss and Brier, pooled AUC above 0.5 by 2 standard errors, and lower log loss in most folds)</div>`);
  }
  for (const f of r.folds) {
    parts.push(`<h2>Fold ${f.index + 1}</h2><div>train ${f.trainSamples}, validation ${f.validationSamples}, test ${f.testSamples} samples; training up rate ${n(f.trainPositiveRate * 100, 1)}%</div>`);
    parts.push('<table><tr><th>symbol</th><th>train</th><th>validation</th><th>test</th></tr>');
    for (const [sym, rg] of Object.entries(f.ranges)) {
      const fmt = (x: [string, string]): string => `${x[0].slice(0, 16)} .. ${x[1].slice(0, 16)}`;
      parts.push(`<tr><td>${esc(sym)}</td><td>${esc(fmt(rg.train))}</td><td>${esc(fmt(rg.validation))}</td><td>${esc(fmt(rg.test))}</td></tr>`);
    }
    parts.push('</table><table>' + METRIC_HEAD);
    for (const [name, m] of Object.entries(f.metrics)) parts.push(metricRow(name, m));
    parts.push('</table>');
  }
  parts.push('<h2>Calibration (pooled, out of sample)</h2>');
  for (const [name, m] of Object.entries(r.pooled)) {
    if (name === 'reference') continue;
    parts.push(`<table><tr><th>${esc(name)}: bin</th><th>count</th><th>mean predicted</th><th>observed up rate</th></tr>`);
    for (const bin of m.calibration) parts.push(`<tr><td>${n(bin.lo, 1)}–${n(bin.hi, 1)}</td><td>${bin.count}</td><td>${n(bin.meanPredicted, 3)}</td><td>${n(bin.observedRate, 3)}</td></tr>`);
    parts.push('</table>');
  }
  if (r.backtest) {
    parts.push('<h2>Strategy backtest over the out-of-sample span (net of fees and slippage)</h2><table><tr><th>symbol</th><th>span</th><th>run</th><th>trades</th><th>win rate</th><th>net PnL</th><th>return</th><th>fees</th></tr>');
    for (const [sym, bt] of Object.entries(r.backtest)) {
      const row = (label: string, f: typeof bt.withoutFilter): string =>
        `<tr><td>${esc(sym)}</td><td>${esc(bt.span[0].slice(0, 10))} .. ${esc(bt.span[1].slice(0, 10))}</td><td>${esc(label)}</td><td>${f.trades}</td><td>${f.winRate === null ? 'n/a' : n(f.winRate * 100, 1) + '%'}</td><td>${n(f.netPnl, 2)}</td><td>${n(f.returnPct, 3)}%</td><td>${n(f.fees, 2)}</td></tr>`;
      parts.push(row('no filter', bt.withoutFilter));
      for (const [name, f] of Object.entries(bt.withFilter)) parts.push(row(`${name} filter`, f));
    }
    parts.push('</table>');
  }
  if (meta.generatedAt !== undefined) parts.push(`<footer>generated ${esc(new Date(meta.generatedAt).toISOString())}</footer>`);
  parts.push('</main></body></html>\n');
  return parts.join('\n');
}
