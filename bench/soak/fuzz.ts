/**
 * Soak part 3: 10,000 fuzzed inputs each for the WebSocket frame decoder, the simulator's REST
 * endpoints, candle files, config files and every Lambda's event: the ops jobs', the Function URL handlers'
 * (signal webhook, dashboard) and the report and review jobs' (test/fuzz/*.ts, the same targets
 * npm test runs a few hundred of). Each counts every outcome by kind, collects what broke a rule,
 * and samples the resident memory (a growth without bound would show as a peak far above the start).
 */
import { fuzzCandleFiles } from '../../test/fuzz/candles.js';
import { fuzzConfigFiles } from '../../test/fuzz/config.js';
import { fuzzFrames } from '../../test/fuzz/frames.js';
import { fuzzLambdaEvents } from '../../test/fuzz/lambdas.js';
import { fuzzFunctionUrlLambdas, fuzzReportEvents } from '../../test/fuzz/lambdaUrls.js';
import { fuzzSimRest } from '../../test/fuzz/rest.js';
import type { FuzzResult } from '../../test/fuzz/common.js';
import { SoakPart, type SoakOptions } from './common.js';

/** RSS growth over a target's run above which its memory counts as unbounded (MiB). */
const RSS_GROWTH_LIMIT_MB = 256;

export async function soakFuzz(opts: SoakOptions): Promise<string> {
  const runs = opts.quick ? 500 : 10_000;
  const part = new SoakPart('fuzz', opts, opts.quick ? 3 * 60_000 : 30 * 60_000);
  const targets: [string, (o: { runs: number; seed: number }) => Promise<FuzzResult>][] = [
    ['frames', fuzzFrames],
    ['rest', fuzzSimRest],
    ['candles', fuzzCandleFiles],
    ['config', fuzzConfigFiles],
    ['lambdas', fuzzLambdaEvents],
    ['function-url lambdas', fuzzFunctionUrlLambdas],
    ['report and review events', fuzzReportEvents],
  ];
  const results: FuzzResult[] = [];
  for (const [name, run] of targets) {
    if (part.timeLeft < 30_000) break;
    const r = await run({ runs, seed: part.int(1, 2 ** 31) });
    results.push(r);
    part.log(`${name}: ${r.runs} inputs in ${r.ms} ms, ${r.failures.length} failure(s), RSS ${r.rss.startMb} -> peak ${r.rss.peakMb} MiB`);
  }
  const unbounded = results.filter((r) => r.rss.peakMb - r.rss.startMb > RSS_GROWTH_LIMIT_MB).map((r) => r.target);
  const path = part.write({
    what: `fast-check, ${runs} inputs per target: no crash, every outcome counted, RSS sampled every 50 inputs`,
    rssGrowthLimitMb: RSS_GROWTH_LIMIT_MB,
    targets: results,
    unboundedMemory: unbounded,
    ok: results.length === targets.length && results.every((r) => r.failures.length === 0) && unbounded.length === 0,
  });
  part.log(`done; results ${path}`);
  return path;
}
