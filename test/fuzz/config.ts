/**
 * Config files (cli/args.ts loadConfig → services/config/schema.ts parseConfig): JSON text written
 * to a file, built from the schema's real paths with random values (so the deep fields are
 * reached), random extra keys, any JSON value, a BOM, and text that is not JSON. Rules: nothing but
 * a ConfigError is thrown; an accepted config keeps the cross-field rules (scale-out fractions sum
 * to 1, backoff base <= cap, min <= max notional, a 0 < price-check bound <= 50).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../cli/args.js';
import { ConfigError } from '../../services/core/errors.js';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

/** Paths of the schema, each with a value near its valid range or anything at all. */
const PATHS: readonly (readonly string[])[] = [
  ['mode'], ['symbols'], ['levels', 'lookback'], ['levels', 'extremaWing'], ['levels', 'fibRatios'], ['levels', 'methods', 'pivots'],
  ['indicators', 'rsiPeriod'], ['entry', 'proximityPct'], ['entry', 'volumeMultiplier'], ['entry', 'orderType'], ['exit', 'scaleOut'], ['exit', 'timeStopMinutes'],
  ['exit', 'primaryTargetMinPct'], ['exit', 'primaryTargetMaxPct'], ['risk', 'profile'], ['risk', 'overrides', 'riskPerTradePct'], ['risk', 'minNotional'], ['risk', 'maxNotional'],
  ['backtest', 'initialBalance'], ['backtest', 'quoteAsset'], ['execution', 'retry', 'baseMs'], ['execution', 'retry', 'maxMs'], ['execution', 'rateLimit', 'burst'],
  ['execution', 'priceCheck', 'maxDeviationPct'], ['execution', 'priceCheck', 'whenUnavailable'], ['execution', 'stuckOrders', 'policy'], ['execution', 'emergency', 'throughBookPct'],
];

const value: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -10, max: 2000 }),
  fc.double(),
  fc.constantFrom('standard', 'hf', 'moderate', 'aggressive', 'conservative', 'market', 'limit', 'refuse', 'allow', 'replace', 'cancel', 'USDT', 1e-30, 1e300, 0, -1, 0.5, 1),
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
  nastyString,
  fc.jsonValue({ maxDepth: 2 }),
);

function setPath(o: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let cur = o;
  for (const k of path.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = v;
}

const file: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.array(fc.tuple(fc.constantFrom(...PATHS), value), { maxLength: 8 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), fc.boolean(), fc.boolean()).map(([sets, extra, withExtra, bom]) => {
    const o: Record<string, unknown> = {};
    for (const [p, v] of sets) setPath(o, p, v);
    if (withExtra) Object.assign(o, extra);
    return (bom ? '\ufeff' : '') + JSON.stringify(o);
  }) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.oneof(nastyString, fc.string({ maxLength: 200 })) },
);

export async function fuzzConfigFiles(opts: FuzzOptions): Promise<FuzzResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-config-'));
  const path = join(dir, 'config.json');
  try {
    return await fuzz('config files (loadConfig / parseConfig)', file, (text: string, tally: Tally) => {
      writeFileSync(path, text);
      let c;
      try {
        c = loadConfig(path, {});
      } catch (e) {
        if (e instanceof ConfigError) {
          tally.count('rejected:ConfigError');
          return;
        }
        throw new FuzzInvariantError(`not a ConfigError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      const sum = c.exit.scaleOut.reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-9) throw new FuzzInvariantError(`accepted scaleOut summing to ${sum}`);
      if (c.execution.retry.baseMs > c.execution.retry.maxMs) throw new FuzzInvariantError('accepted retry.baseMs above retry.maxMs');
      if (c.risk.minNotional > c.risk.maxNotional) throw new FuzzInvariantError('accepted minNotional above maxNotional');
      const pc = c.execution.priceCheck.maxDeviationPct;
      if (!(pc > 0 && pc <= 50)) throw new FuzzInvariantError(`accepted priceCheck.maxDeviationPct ${pc}`);
      tally.count('accepted');
    }, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
