/**
 * The fuzzers of `npm run soak`, bounded for `npm test`: a few hundred inputs each, fixed seed, a
 * few seconds in all. Each must find no failure and must have reached both sides (inputs accepted
 * and inputs rejected), or it would prove nothing. FUZZ_RUNS and FUZZ_SEED change the size and
 * seed (the soak runs 10,000 each).
 */
import { describe, expect, it } from 'vitest';
import { fuzzCandleFiles } from './candles.js';
import { fuzzConfigFiles } from './config.js';
import { fuzzFrames } from './frames.js';
import { fuzzLambdaEvents } from './lambdas.js';
import { fuzzFunctionUrlLambdas, fuzzReportEvents } from './lambdaUrls.js';
import { fuzzSimRest } from './rest.js';
import type { FuzzResult } from './common.js';

const opts = { runs: Number(process.env.FUZZ_RUNS ?? 250), seed: Number(process.env.FUZZ_SEED ?? 20_261_207) };
const sum = (r: FuzzResult, match: (k: string) => boolean): number => Object.entries(r.outcomes).filter(([k]) => match(k)).reduce((n, [, v]) => n + v, 0);

describe(`fuzzing (${opts.runs} inputs each, seed ${opts.seed})`, () => {
  it('WebSocket frames: never a throw, each frame counted once, in one place', async () => {
    const r = await fuzzFrames(opts);
    expect(r.failures).toEqual([]);
    expect(r.runs).toBe(opts.runs);
    expect(sum(r, (k) => k.startsWith('sink:'))).toBeGreaterThan(0);
    expect(sum(r, (k) => k === 'rejected:malformed')).toBeGreaterThan(0);
    expect(sum(r, (k) => k === 'rejected:unexpected')).toBeGreaterThan(0);
  }, 60_000);

  it('simulator REST: never a 500 or a non-MEXC error body, still up at the end', async () => {
    const r = await fuzzSimRest(opts);
    expect(r.failures).toEqual([]);
    expect(sum(r, (k) => k.startsWith('accepted:'))).toBeGreaterThan(0);
    expect(sum(r, (k) => k.startsWith('rejected:400/700002'))).toBeGreaterThan(0); // bad signatures
    expect(sum(r, (k) => k.startsWith('rejected:413'))).toBeGreaterThan(0); // bodies past 1 MiB
  }, 60_000);

  it('candle files: only DataValidationError, chunking never changes the result, accepted series are valid', async () => {
    const r = await fuzzCandleFiles(opts);
    expect(r.failures).toEqual([]);
    expect(r.outcomes.accepted).toBeGreaterThan(0);
    expect(r.outcomes['rejected:DataValidationError']).toBeGreaterThan(0);
  }, 60_000);

  it('config files: only ConfigError, accepted configs keep the cross-field rules', async () => {
    const r = await fuzzConfigFiles(opts);
    expect(r.failures).toEqual([]);
    expect(r.outcomes.accepted).toBeGreaterThan(0);
    expect(r.outcomes['rejected:ConfigError']).toBeGreaterThan(0);
  }, 60_000);

  it('Lambda events: no handler throws on its event; batch answers name only given message ids', async () => {
    const r = await fuzzLambdaEvents(opts);
    expect(r.failures).toEqual([]);
    expect(sum(r, (k) => k.startsWith('rejected:'))).toBeGreaterThan(0);
    expect(sum(r, (k) => k.includes('batch answered'))).toBeGreaterThan(0);
    expect(sum(r, (k) => k.includes('reached its work'))).toBeGreaterThan(0);
    // Valid backtest requests reached the job and were answered (the fuzz's archive is empty: too short).
    expect(r.outcomes['backtest jobs answered']).toBeGreaterThan(0);
  }, 60_000);

  it('Function URL Lambdas: never a throw or a 5xx, a 400 for what is not a request, nothing served or queued without its secret', async () => {
    const r = await fuzzFunctionUrlLambdas(opts);
    expect(r.failures).toEqual([]);
    for (const job of ['signal-webhook', 'dashboard']) {
      expect(sum(r, (k) => k.startsWith(`accepted:${job}`)), job).toBeGreaterThan(0);
      expect(sum(r, (k) => k === `rejected:${job} 400`), job).toBeGreaterThan(0);
    }
    expect(r.outcomes['signals queued']).toBeGreaterThan(0);
  }, 60_000);

  it('report and review events: refused exactly when their documented shape does not allow them, never thrown', async () => {
    const r = await fuzzReportEvents(opts);
    expect(r.failures).toEqual([]);
    for (const job of ['report', 'review']) {
      expect(r.outcomes[`accepted:${job} (reached its work)`], job).toBeGreaterThan(0);
      expect(r.outcomes[`rejected:${job} refused`], job).toBeGreaterThan(0);
    }
  }, 60_000);
});
