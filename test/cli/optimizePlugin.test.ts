/**
 * `npm run optimize -- --strategy <module>`: the worked plug-in example (examples/strategies/
 * smaCross.ts) optimised over its own strategyParams on the real BTCUSDT fixture, two folds, on
 * one thread (in process) and on two worker threads (the binary), which must import the module
 * themselves. Every trial runs (none fails) and both give the same report. A plug-in that throws
 * stops the run with the failure, on either path, and no verdict is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optimizeCommand } from '../../cli/optimize.js';
import { TrialFailedError } from '../../services/research/runner.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DATA = 'test/fixtures/candles/BTCUSDT';
const SMA = 'examples/strategies/smaCross.ts';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'optimize-plugin-'));
  writeFileSync(
    join(dir, 'sma.json'),
    JSON.stringify({
      strategy: 'sma-cross',
      parameters: {
        'strategyParams.fast': { type: 'int', min: 2, max: 10, step: 2 },
        'strategyParams.slow': { type: 'int', min: 6, max: 20, step: 2 },
        'strategyParams.stopPct': { type: 'float', min: 0.3, max: 1.5, step: 0.3 },
      },
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/optimize.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// 2.2 days of data: warm-up 0.25 + (train 0.6 + embargo 0.05 + test 0.4) + test 0.4 + hold-out 0.3 = two folds.
const common = (strategy: string, out: string): string[] => [
  '--strategy', strategy, '--data', DATA, '--space', join(dir, 'sma.json'), '--objective', 'sharpe', '--trials', '4', '--startup', '3', '--batch', '1',
  '--train', '0.6', '--test', '0.4', '--embargo', '0.05', '--holdout', '0.3', '--warmup', '0.25', '--min-trades', '1', '--seed', '3', '--out', out,
];

interface Line { status: string; phase: string; reason?: string; metrics: { trades: number } | null }
const readLog = (out: string): Line[] => readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

describe('npm run optimize --strategy <plug-in module>', () => {
  it('optimises the example plug-in on one thread and on two worker threads, every trial run, the same report', async () => {
    const one = join(dir, 'one');
    const run = await optimizeCommand([...common(SMA, one), '--workers', '1', '--quiet'], { log: () => undefined, err: () => undefined });
    expect(run?.spec.strategy).toEqual({ name: 'sma-cross', module: join(REPO, SMA) });
    expect(run?.spec.plan.folds).toHaveLength(2);
    const log1 = readLog(one);
    expect(log1.filter((l) => l.status === 'error')).toEqual([]);
    const ok = log1.filter((l) => l.status === 'ok');
    // Most points are valid (fast < slow); the ones the module refuses are invalid, never failures.
    expect(ok.length).toBeGreaterThan(log1.length / 2);
    for (const l of log1.filter((x) => x.status === 'invalid' && x.phase === 'search')) expect(l.reason).toContain('invalid config for strategy sma-cross');
    expect(ok.reduce((n, l) => n + (l.metrics?.trades ?? 0), 0)).toBeGreaterThan(0);
    expect(run?.report.strategy).toBe('sma-cross');

    const two = join(dir, 'two');
    const r = cli(...common(SMA, two), '--workers', '2');
    expect(r.stderr).not.toMatch(/unknown strategy|failed/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Walk-forward sma-cross');
    expect(r.stdout).toContain('verdict');
    const strip = (l: Line & { elapsedMs?: number }): unknown => ({ ...l, elapsedMs: 0 });
    const byTrial = (ls: Line[]): unknown[] => [...ls].sort((a, b) => (a as unknown as { trial: number }).trial - (b as unknown as { trial: number }).trial).map(strip);
    expect(byTrial(readLog(two))).toEqual(byTrial(log1));
    const rep = (out: string): unknown => ({ ...(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown>), trials: null });
    expect(rep(two)).toEqual(rep(one));
  }, 90_000);

  it('stops with the failure when a trial errors, on one thread and on worker threads, and writes no verdict', async () => {
    const bad = 'test/fixtures/strategies/throwing.ts';
    const one = join(dir, 'bad1');
    let thrown: unknown;
    try {
      await optimizeCommand([...common(bad, one), '--workers', '1', '--quiet'], { log: () => undefined, err: () => undefined });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TrialFailedError);
    expect((thrown as Error).message).toMatch(/^trial \d+ \(fold 0, search\) failed, so the run stops: RangeError: the strategy broke/);
    expect(existsSync(join(one, 'report.json'))).toBe(false);
    // The failed trial is not logged: the same command runs it again once the module is fixed.
    expect(readFileSync(join(one, 'trials.jsonl'), 'utf8')).not.toContain('"error"');

    const two = join(dir, 'bad2');
    const r = cli(...common(bad, two), '--workers', '2');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: TrialFailedError: trial \d+ \(fold 0, search\) failed, so the run stops: RangeError: the strategy broke$/m);
    expect(r.stdout).not.toContain('verdict');
    expect(existsSync(join(two, 'report.json'))).toBe(false);
  }, 90_000);
});
