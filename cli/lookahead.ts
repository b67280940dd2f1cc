/**
 * `npm run lookahead -- --strategy <name or module> --data <file or folder ...> [--cuts N]
 *   [--config <file>] [--mode standard|hf] [--profile ...] [--symbols A,B]`
 *
 * Runs the strategy through the backtest on the data, again on the same data, and on truncated
 * copies (services/backtest/lookahead.ts). Prints one line per run; on a difference it prints the
 * first differing decision and exits non-zero.
 */
import { checkLookahead, describeFailure, LookaheadError, type LookaheadReport } from '../services/backtest/lookahead.js';
import { loadConfig, parseFlags, UsageError } from './args.js';
import { loadSeries } from './loadSeries.js';
import { loadStrategy } from './strategy.js';

export const LOOKAHEAD_USAGE = `usage: npm run lookahead -- --strategy <sr|breakout|module.ts> --data <file or folder ...>
         [--cuts <n>] [--config <file.json>] [--mode standard|hf] [--profile <name>] [--symbols A,B]

  --strategy  the strategy to check (a built-in name or a module path); default sr
  --data      candle files or folders, as for npm run backtest
  --cuts      number of cut points, evenly spaced in the data; default 4
  Exit code 0: no decision changed; 1: a decision before a cut changed (or a repeat run differed).`;

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** Parses argv, runs the check, prints the runs; throws LookaheadError (exit 1) on a difference. */
export async function lookaheadCommand(argv: readonly string[], out: { log: (s: string) => void; err: (s: string) => void }): Promise<LookaheadReport> {
  const parsed = parseFlags(
    argv,
    {
      strategy: { type: 'string' },
      data: { type: 'string', multiple: true },
      cuts: { type: 'string' },
      config: { type: 'string' },
      mode: { type: 'string' },
      profile: { type: 'string' },
      symbols: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    true,
  );
  const v = parsed.values;
  if (v.help) {
    out.log(LOOKAHEAD_USAGE);
    throw new UsageError('');
  }
  const data = [...(v.data ?? []), ...parsed.positionals];
  if (data.length === 0) throw new UsageError('--data is required: one or more candle files or folders');
  const cuts = v.cuts === undefined ? 4 : Number(v.cuts);
  if (!Number.isInteger(cuts) || cuts < 1 || cuts > 50) throw new UsageError(`--cuts must be an integer from 1 to 50, got "${v.cuts}"`);
  const config = loadConfig(v.config, { mode: v.mode, profile: v.profile });
  const strategy = await loadStrategy(v.strategy);
  const only = (v.symbols ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const loaded = loadSeries(data, only.length ? only : config.symbols);
  const t0 = Date.now();
  const report = checkLookahead({ series: loaded.series, config, factory: strategy.factory, cuts });
  out.log(`look-ahead check of ${strategy.name} (${strategy.source}) on ${report.candles.toLocaleString('en-US')} candles of ${loaded.series.map((s) => s.symbol).join(', ')}: ${report.decisions} decisions`);
  out.log(`  repeat run on the same data: ${report.repeat ? 'DIFFERENT' : 'identical'}`);
  for (const c of report.cuts) out.log(`  cut at ${iso(c.cut)}: ${c.compared} decisions before it, ${c.difference ? 'DIFFERENT' : 'identical'}`);
  out.log(`  ${Date.now() - t0} ms`);
  const failure = describeFailure(report);
  if (failure) throw new LookaheadError(failure, report);
  out.log('passed: no decision depends on later data');
  return report;
}
