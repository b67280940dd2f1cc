/**
 * `npm run optimize` for real, as a child process, on a real 3,000-candle BTCUSDT slice: the full
 * kernel in two worker threads, a tiny space (4 trials per fold); then a kill is simulated by
 * cutting the trial log (the last line torn) and the same command, now on one worker, resumes
 * to the very same report. Bad flags name themselves. Each run takes a few seconds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIMIZE_FLAGS, OPTIMIZE_USAGE, optimizeCommand } from '../../cli/optimize.js';
import { UsageError } from '../../cli/args.js';
import { ConfigError } from '../../services/core/errors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DATA = 'test/fixtures/candles/BTCUSDT';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'optimize-cli-'));
  writeFileSync(
    join(dir, 'space.json'),
    JSON.stringify({
      parameters: {
        'entry.proximityPct': { type: 'float', min: 0.1, max: 0.4, step: 0.1 },
        'exit.breakVolumeMultiplier': { type: 'float', min: 1.5, max: 4, step: 0.5 },
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

const common = (out: string): string[] => [
  '--data', DATA, '--space', join(dir, 'space.json'), '--objective', 'net-return,profit-factor', '--trials', '4', '--startup', '3', '--batch', '1',
  '--train', '0.5', '--test', '0.3', '--embargo', '0.05', '--holdout', '0.3', '--warmup', '0.25', '--min-trades', '1', '--out', out,
];

describe('npm run optimize', () => {
  it('runs the walk-forward on worker threads, writes the log and the report, and resumes a killed run to the same result', async () => {
    const out = join(dir, 'run');
    const a = cli(...common(out), '--workers', '2');
    expect(a.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
    expect(a.status).toBe(0);
    expect(a.stderr).toMatch(/optimize {2}100\.0% {2}\d+\/\d+ trials {2}[\d.]+ trials\/s {2}done in/);
    expect(a.stdout).toContain('verdict');
    const spec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { runId: string; plan: { folds: unknown[] } };
    const lines = readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n');
    const folds = spec.plan.folds.length;
    expect(folds).toBeGreaterThanOrEqual(2);
    expect(lines).toHaveLength((folds + 1) * 4 + 2 * folds + 2);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Record<string, unknown> & { verdict: { sentence: string }; folds: { outOfSample: { trades: number } | null }[] };
    expect(report.verdict.sentence.length).toBeGreaterThan(20);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain(report.verdict.sentence.replace(/&/g, '&amp;').slice(0, 40));
    expect(html).toContain('<svg');

    // Kill: keep 9 lines and a torn tenth; resume on one worker.
    writeFileSync(join(out, 'trials.jsonl'), lines.slice(0, 9).join('\n') + '\n' + (lines[9] as string).slice(0, 30));
    // In process this time (the same command function the binary runs), on one worker.
    const err: string[] = [];
    await optimizeCommand([...common(out), '--workers', '1', '--quiet'], { log: () => undefined, err: (l) => err.push(l) });
    expect(err.join('\n')).toContain(`resuming with 9 logged (1 torn line(s) dropped)`);
    const again = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as typeof report;
    const strip = (r: typeof report): unknown => JSON.stringify({ ...r, trials: null });
    expect(strip(again)).toBe(strip(report));
  }, 60_000);

  it('refuses another run in the same folder and bad flags, naming them', async () => {
    const io = { log: () => undefined, err: () => undefined };
    const fails = async (args: string[]): Promise<Error> => {
      try {
        await optimizeCommand(args, io);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a failure');
    };
    const other = await fails([...common(join(dir, 'run')).map((x) => (x === '0.5' ? '0.6' : x)), '--workers', '1']);
    expect(other).toBeInstanceOf(ConfigError);
    expect(other.message).toMatch(/^--out: .* holds another run/);
    const bad = await fails([...common(join(dir, 'x')), '--objective', 'money']);
    expect(bad.message).toContain('--objective: unknown objective "money"');
    expect((await fails([...common(join(dir, 'y')), '--folds', 'weekly'])).message).toContain('--folds: expected rolling or anchored:<k>');
    expect(await fails([...common(join(dir, 'y')), '--trials', 'many'])).toBeInstanceOf(UsageError);
    const short = await fails(['--data', DATA, '--space', join(dir, 'space.json'), '--objective', 'sharpe', '--out', join(dir, 'z')]);
    expect(short.message).toMatch(/^the data spans [\d.]+ days; warm-up 1 \+ 1 x \(train 10 \+ embargo 1 \+ test 5\) \+ hold-out 5 days do not fit/);
    // The binary prints such an error as one line, without a stack.
    const e = cli('--data', DATA, '--space', join(dir, 'space.json'), '--objective', 'sharpe', '--out', join(dir, 'z'));
    expect(e.status).toBe(1);
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('documents every flag it takes in --help, the required ones in the first line and the AWS ones', () => {
    for (const flag of Object.keys(OPTIMIZE_FLAGS)) if (flag !== 'help') expect(OPTIMIZE_USAGE, flag).toMatch(new RegExp(`--${flag}\\b`));
    const first = OPTIMIZE_USAGE.split('\n')[0] as string;
    for (const required of ['--data', '--space', '--objective', '--out']) expect(first).toContain(required);
    expect(OPTIMIZE_USAGE).toMatch(/--on aws .* needs\s+--bucket .* and --state-machine/s);
  });
});
