/**
 * One period report end to end: read the period's records from the state table, compute the
 * figures, draw the chart (SVG, and PNG when a renderer is given), write the HTML page, the trades
 * CSV and the figures as JSON, and deliver them (archive `reports/<period>/<day>.html|.csv|.png|.json`,
 * Telegram, e-mail). An empty period produces a report that says so; it is not an error.
 */
import type { Config } from '../config/schema.js';
import { tradesToCsv } from '../report/csv.js';
import type { StateStore } from '../state/types.js';
import { periodChartSvg } from './charts.js';
import { loadReportData, type ReportDataset } from './dataset.js';
import { deliver, type ArtifactFile, type ChannelResult, type DeliveryChannels } from './delivery.js';
import { computeFigures, type ReportFigures } from './figures.js';
import { reportPageHtml } from './html.js';
import type { PeriodWindow } from './period.js';
import type { PngRenderer } from './render.js';
import { emailSummary, telegramCaption } from './text.js';

/** Where a period's files go in the artifact store. */
export function reportKeys(w: Pick<PeriodWindow, 'period' | 'key'>): { html: string; csv: string; png: string; json: string } {
  const base = `reports/${w.period}/${w.key}`;
  return { html: `${base}.html`, csv: `${base}.csv`, png: `${base}.png`, json: `${base}.json` };
}

export interface ReportRunDeps {
  readonly store: StateStore;
  /** The live configuration (its risk limits and quote asset). */
  readonly config: Config;
  readonly now: () => number;
  readonly renderer?: PngRenderer;
  readonly channels: DeliveryChannels;
  /** Trading mode shown on the page. */
  readonly mode?: string;
}

export interface ReportRunResult {
  readonly figures: ReportFigures;
  readonly dataset: ReportDataset;
  readonly files: readonly ArtifactFile[];
  readonly deliveries: readonly ChannelResult[];
  /** Why there is no PNG, when there is none. */
  readonly pngProblem?: string;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Builds and delivers the report of `window` (see the file comment). */
export async function runPeriodReport(deps: ReportRunDeps, window: PeriodWindow): Promise<ReportRunResult> {
  const dataset = await loadReportData(deps.store, window);
  const now = deps.now();
  const figures = computeFigures(dataset, deps.config, now);
  const svg = periodChartSvg(figures);
  const keys = reportKeys(window);
  const html = reportPageHtml(figures, svg, dataset.trades, { generatedAt: now, ...(deps.mode ? { mode: deps.mode } : {}) });
  let png: Uint8Array | undefined;
  let pngProblem: string | undefined;
  if (deps.renderer) {
    try {
      png = deps.renderer.render(svg);
    } catch (e) {
      // A chart that cannot be drawn must not cost the report: it goes out without the photo.
      pngProblem = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  } else pngProblem = 'no PNG renderer configured';
  const { equity: _e, ...jsonFigures } = figures;
  const files: ArtifactFile[] = [
    { key: keys.html, bytes: enc(html), contentType: 'text/html; charset=utf-8' },
    { key: keys.csv, bytes: enc(tradesToCsv(dataset.trades)), contentType: 'text/csv; charset=utf-8' },
    { key: keys.json, bytes: enc(JSON.stringify(jsonFigures, null, 2)), contentType: 'application/json' },
    ...(png ? [{ key: keys.png, bytes: png, contentType: 'image/png' }] : []),
  ];
  const deliveries = await deliver(
    {
      files,
      primaryKey: keys.html,
      caption: telegramCaption(figures),
      ...(png ? { photo: { name: `${window.period}-${window.key}.png`, bytes: png } } : {}),
      subject: `mexc-scalper ${window.period} report ${window.key}: net ${figures.netPnl.slice(0, 24)} ${figures.quoteAsset}`.slice(0, 100),
      emailText: (link) => emailSummary(figures, link),
    },
    deps.channels,
  );
  // The dashboard's "latest reports" row: after delivery, so a report that failed to build is not listed.
  const win = figures.winRatePct === null ? 'n/a' : `${figures.winRatePct.toFixed(1)}%`;
  await deps.store.putPublication({
    kind: 'report',
    period: window.period,
    key: window.key,
    label: window.label.slice(0, 200),
    at: now,
    headline: `net ${figures.netPnl} ${figures.quoteAsset}${figures.returnPct === null ? '' : ` (${figures.returnPct >= 0 ? '+' : ''}${figures.returnPct.toFixed(2)}%)`}, ${figures.trades} trades, win rate ${win}, max drawdown ${figures.maxDrawdownPct === null ? 'n/a' : `${figures.maxDrawdownPct.toFixed(2)}%`}`.slice(0, 500),
    path: keys.html,
  });
  return { figures, dataset, files, deliveries, ...(pngProblem ? { pngProblem } : {}) };
}
