/**
 * The console's /optimize job: one walk-forward optimisation with fixed, stated defaults (the S/R
 * strategy's default space, spaces/sr.json; the Sharpe objective; a bounded number of trials)
 * over the candle archive's last days, or the bundled sample when the archive is too short. The
 * same job runs in a child process under `npm start` and on the research state machine on AWS;
 * both answer in the chat with the figures below when the report is written.
 */
import type { ObjectStore } from '../ml/archive.js';
import type { OptimizeReport } from '../research/analysis.js';
import { startOptimizationRun } from '../research/cloudRun.js';
import type { OptimizeJob } from '../research/runSpec.js';

/** What /optimize runs; every figure is said in the answer. */
export const CONSOLE_OPTIMIZE = {
  spaceFile: 'spaces/sr.json',
  objective: 'sharpe',
  /** Search trials per fold: a run of minutes, not hours, on one machine. */
  trials: 30,
  /** The archive's most recent days used. */
  days: 30,
  /**
   * Fewer archived days than this and the job falls back to the sample (locally) or refuses (AWS):
   * the default folds need 10 train + 5 test + 5 hold-out days, plus the warm-up and embargoes.
   */
  minDays: 22,
  /** Bundled sample data (data/sample), the local fallback. */
  sampleDir: 'data/sample',
} as const;

/** The optimisation job of /optimize over the given space document. */
export function consoleOptimizeJob(space: unknown): OptimizeJob {
  return { space, spaceSource: CONSOLE_OPTIMIZE.spaceFile, objective: CONSOLE_OPTIMIZE.objective, trials: CONSOLE_OPTIMIZE.trials };
}

/** The data a job uses: archive keys or paths, and a description for the answer. */
export interface ArchiveSelection {
  readonly keys: readonly string[];
  readonly symbols: readonly string[];
  /** Distinct UTC days covered (the longest of the symbols). */
  readonly days: number;
  readonly first?: string;
  readonly last?: string;
}

const DAY_FILE = /(?:^|\/)([A-Z0-9]{2,20})\/(\d{4}-\d{2}-\d{2})\.csv(?:\.gz)?$/;

/**
 * The most recent `days` day files per symbol of a candle archive (`candles/<SYMBOL>/<day>.csv`,
 * as keys or paths); `symbols` restricts the choice when not empty.
 */
export function pickArchiveDays(keys: readonly string[], symbols: readonly string[], days: number = CONSOLE_OPTIMIZE.days): ArchiveSelection {
  const bySymbol = new Map<string, { key: string; day: string }[]>();
  for (const key of keys) {
    const m = DAY_FILE.exec(key);
    if (!m) continue;
    const [, symbol, day] = m as unknown as [string, string, string];
    if (symbols.length && !symbols.includes(symbol)) continue;
    const list = bySymbol.get(symbol) ?? [];
    list.push({ key, day });
    bySymbol.set(symbol, list);
  }
  const picked: { key: string; day: string }[] = [];
  let most = 0;
  for (const list of bySymbol.values()) {
    const recent = list.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0)).slice(-days);
    most = Math.max(most, new Set(recent.map((r) => r.day)).size);
    picked.push(...recent);
  }
  const daysSorted = picked.map((p) => p.day).sort();
  return {
    keys: picked.map((p) => p.key).sort(),
    symbols: [...bySymbol.keys()].sort(),
    days: most,
    ...(daysSorted.length ? { first: daysSorted[0]!, last: daysSorted[daysSorted.length - 1]! } : {}),
  };
}

/** One line of what a job ran: space, objective, trials and data. */
export function optimizeRanText(data: string): string {
  return `space ${CONSOLE_OPTIMIZE.spaceFile}, objective ${CONSOLE_OPTIMIZE.objective}, ${CONSOLE_OPTIMIZE.trials} trials per fold, default walk-forward folds (10 train / 5 test / 5 hold-out days), over ${data}`;
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);
const num = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
const escHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The answer when the job's report is written (Telegram HTML; plain text in an alert). */
export function optimizeDoneText(jobId: string, report: OptimizeReport, ran: string, where: string, html = true): string {
  const s = report.stitched;
  const e = html ? escHtml : (x: string): string => x;
  return [
    `Job ${e(jobId)} done: walk-forward optimisation of ${e(report.strategy)} (${e(ran)}).`,
    `${report.folds.length} fold(s)${report.holdout ? ' and the hold-out' : ''}, ${report.trials.distinct} distinct trials.`,
    `Out of sample ${pct(s.outOfSampleReturnPct)} over ${s.days.toFixed(1)} days in ${s.outOfSampleTrades} trades (untuned ${pct(s.untunedReturnPct)}); hold-out ${report.holdout ? pct(report.holdout.outOfSample?.netReturnPct) : 'none'}; WFE ${num(report.walkForwardEfficiency)}, PBO ${num(report.pbo.pbo)}.`,
    `Verdict: ${e(report.verdict.sentence)}`,
    `Report: ${e(where)}`,
  ].join('\n');
}

/** The store and the state machine a cloud /optimize uses. */
export interface CloudOptimizeDeps {
  readonly store: ObjectStore;
  /** Starts an execution; null when the name was used before (sfnStarter). */
  readonly startExecution: (name: string, input: { runPrefix: string }) => Promise<string | null>;
  /** The space document (spaces/sr.json, bundled). */
  readonly space: unknown;
  /** The traded symbols (all archived symbols when empty). */
  readonly symbols: readonly string[];
}

/**
 * /optimize on AWS: the candle archive's last days in the artifact bucket (candles/), the job with
 * the console's defaults and who waits for it (`notify`), and an execution of the research state
 * machine; its report step answers through the alerts queue. Resolves with the immediate answer
 * (Telegram HTML); nothing is started when the archive is too short.
 */
export async function startCloudOptimize(deps: CloudOptimizeDeps, jobId: string): Promise<string> {
  const pick = pickArchiveDays(await deps.store.list('candles/'), deps.symbols);
  if (pick.days < CONSOLE_OPTIMIZE.minDays)
    return escHtml(
      `/optimize needs at least ${CONSOLE_OPTIMIZE.minDays} days of archived candles in the artifact bucket (candles/); it has ${pick.days}. Nothing was started: run npm run optimize -- --on aws --data <candle files> --space spaces/sr.json --objective sharpe --out <dir> with data of your own.`,
    );
  const ran = optimizeRanText(`the candle archive's last ${pick.days} days (${pick.first} to ${pick.last}, ${pick.symbols.join(', ')})`);
  const job = { job: consoleOptimizeJob(deps.space), data: [...pick.keys], symbols: [...pick.symbols], notify: { jobId, ran } };
  // Each job id is a new job, so the first attempt's execution name is free; a retried update
  // (the same job id) finds its name taken and starts nothing twice.
  const r = await startOptimizationRun({ store: deps.store, startExecution: async (name, input) => (await deps.startExecution(name, input)) ?? '' }, job);
  if (!r.executionArn) return escHtml(`Job ${jobId} was started already (run ${r.runId}); the answer comes here when it is done.`);
  return escHtml(`Optimisation queued as job ${jobId} (run ${r.runId} on the research state machine): ${ran}. The answer comes here when the report is written (minutes to an hour).`);
}
