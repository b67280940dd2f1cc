/**
 * `npm run report -- --period daily|weekly|monthly [--date <yyyy-mm-dd>] [--data-dir <dir>] --out <dir>`
 *
 * The scheduled report, locally: read from the state of `npm start` (or `--state-endpoint`), the
 * same figures, page, chart and CSV as the report Lambda, written under `<out>/reports/<period>/`.
 * Without --date: the last complete period (yesterday, last ISO week, last month; UTC).
 */
import { fileURLToPath } from 'node:url';
import type { ParseArgsConfig } from 'node:util';
import { LocalFolderStore } from '../services/adapters/s3/localFolderStore.js';
import { FileLinks } from '../services/adapters/s3/presignedLinks.js';
import { ResvgPngRenderer } from '../services/adapters/resvg/pngRenderer.js';
import { REPORT_FONT_FAMILY } from '../services/reporting/charts.js';
import { REPORT_PERIODS, reportWindow, type ReportPeriod } from '../services/reporting/period.js';
import { runPeriodReport, type ReportRunResult } from '../services/reporting/run.js';
import { loadConfig, parseFlags, UsageError } from './args.js';
import { DEFAULT_DATA_DIR } from './control.js';
import { openLocalState } from './localState.js';

/** The bundled font (assets/fonts, SIL OFL 1.1). */
export const FONT_FILE = fileURLToPath(new URL('../assets/fonts/Cantarell-Regular.otf', import.meta.url));

export const REPORT_USAGE = `usage: npm run report -- --period daily|weekly|monthly --out <dir>
         [--date <yyyy-mm-dd>] [--data-dir <dir>] [--state-endpoint <url>]
         [--config <file.json>] [--mode standard|hf] [--profile conservative|moderate|aggressive]

  --period          daily (a UTC day), weekly (an ISO week, Monday 00:00 UTC) or monthly (a UTC month)
  --date            a day inside the period; default: the last complete period
  --data-dir        the data folder of npm start (default ${DEFAULT_DATA_DIR}); stop npm start first
  --state-endpoint  read a DynamoDB endpoint instead (e.g. a dynalite another process serves)
  --out             where to write reports/<period>/<first day>.html, .csv, .png and .json
  --config, --mode, --profile   the live configuration (its risk limits), as for npm start`;

export interface CliIo {
  readonly log: (s: string) => void;
  readonly err: (s: string) => void;
  readonly now?: () => number;
}

/** Parses the flags shared by report, review and tax. */
export function parseCommon(argv: readonly string[], extra: NonNullable<ParseArgsConfig['options']>, usage: string, log: (s: string) => void) {
  const parsed = parseFlags(
    argv,
    {
      'data-dir': { type: 'string' },
      'state-endpoint': { type: 'string' },
      out: { type: 'string' },
      config: { type: 'string' },
      mode: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...extra,
    },
    false,
  );
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) {
    log(usage);
    throw new UsageError('');
  }
  const str = (k: string): string | undefined => (typeof v[k] === 'string' ? (v[k]) : undefined);
  const config = loadConfig(str('config'), { ...(str('mode') ? { mode: str('mode')! } : {}), ...(str('profile') ? { profile: str('profile')! } : {}) });
  return { v, str, config, dataDir: str('data-dir') ?? DEFAULT_DATA_DIR };
}

export async function reportCommand(argv: readonly string[], io: CliIo): Promise<ReportRunResult> {
  const { str, config, dataDir } = parseCommon(argv, { period: { type: 'string' }, date: { type: 'string' } }, REPORT_USAGE, io.log);
  const period = str('period');
  if (!period || !(REPORT_PERIODS as readonly string[]).includes(period)) throw new UsageError(`--period must be daily, weekly or monthly${period ? `, got "${period}"` : ''}`);
  const out = str('out');
  if (!out) throw new UsageError('--out is required');
  const now = io.now ?? Date.now;
  const window = reportWindow(period as ReportPeriod, str('date'), now());
  const state = await openLocalState({ dataDir, ...(str('state-endpoint') ? { stateEndpoint: str('state-endpoint')! } : {}), now });
  try {
    const result = await runPeriodReport(
      { store: state.store, config, now, renderer: new ResvgPngRenderer(FONT_FILE, REPORT_FONT_FAMILY), channels: { archive: new LocalFolderStore(out), signer: new FileLinks(out) } },
      window,
    );
    const f = result.figures;
    io.log(`${window.period} report ${window.label}: ${f.empty ? 'no trade closed' : `${f.trades} trades, net ${f.netPnl} ${f.quoteAsset}, fees ${f.fees}`}`);
    for (const file of result.files) io.log(`  ${out}/${file.key}`);
    if (result.pngProblem) io.err(`no chart image: ${result.pngProblem}`);
    for (const d of result.deliveries) if (d.status === 'failed') io.err(`${d.channel} failed: ${d.detail ?? ''}`);
    return result;
  } finally {
    await state.close();
  }
}
