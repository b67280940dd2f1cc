/**
 * The research sections of a backtest and `npm run montecarlo -- --run <dir>` on it, for real, on
 * the BTCUSDT fixture (3,000 candles): summary.json carries `baselines` and `monteCarlo` with
 * their fields and report.html shows them; the montecarlo command rebuilds the run from
 * summary.json, reshuffles, bootstraps and replays candle blocks through the kernel, in process
 * on one worker and as the binary on two (the same numbers: scenarios are seeded by index), also
 * for a run of a plug-in strategy module.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../cli/backtest.js';
import { montecarloCommand } from '../../cli/montecarlo.js';
import type { BaselineReport } from '../../services/research/baselines/baselines.js';
import type { MonteCarloReport } from '../../services/research/montecarlo/monteCarlo.js';
import type { Distribution, ScenarioSummary } from '../../services/research/montecarlo/paths.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DATA = join(REPO, 'test/fixtures/candles/BTCUSDT');
const quiet = { log: () => undefined, err: () => undefined };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'montecarlo-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ordered = (d: Distribution): void => {
  expect(d.p5).toBeLessThanOrEqual(d.p50);
  expect(d.p50).toBeLessThanOrEqual(d.p95);
};

function checkScenarios(s: ScenarioSummary, n: number): void {
  expect(s.scenarios).toBe(n);
  for (const k of ['returnPct', 'maxDrawdownPct', 'timeUnderWaterPct', 'longestUnderWaterDays', 'longestLosingStreak'] as const) ordered(s[k]);
  for (const k of ['daily', 'weekly', 'halt', 'any'] as const) {
    expect(s.riskOfRuin[k]).toBeGreaterThanOrEqual(0);
    expect(s.riskOfRuin[k]).toBeLessThanOrEqual(s.riskOfRuin.any);
  }
}

describe('backtest research sections and npm run montecarlo', () => {
  const run = (): string => join(dir, 'bt');

  it('writes baselines and the Monte Carlo into summary.json and report.html', async () => {
    await backtestCommand(['--data', DATA, '--out', run(), '--quiet', '--baseline-seeds', '3', '--mc-scenarios', '400', '--mc-replays', '2', '--seed', '7'], quiet);
    const summary = JSON.parse(readFileSync(join(run(), 'summary.json'), 'utf8')) as { netReturnPct: number; trades: number; baselines: BaselineReport; monteCarlo: MonteCarloReport };
    const b = summary.baselines;
    expect(b.strategy.netReturnPct).toBeCloseTo(summary.netReturnPct, 2);
    expect(b.strategy.trades).toBe(summary.trades);
    expect(b.beforeCosts.fees).toBe(0);
    expect(b.beforeCosts.costsPct).toBeGreaterThanOrEqual(0);
    expect(b.beforeCosts.note.length).toBeGreaterThan(10);
    expect(b.buyAndHold.returnPct).not.toBeNull();
    expect(Object.keys(b.buyAndHold.perSymbol)).toEqual(['BTCUSDT']);
    expect(b.sentence.length).toBeGreaterThan(20);
    if (summary.trades > 0) {
      const r = b.randomEntries;
      expect(r).not.toBeNull();
      expect(r?.seeds).toBe(3);
      expect(r?.returnsPct).toHaveLength(3);
      expect((r as NonNullable<typeof r>).p5).toBeLessThanOrEqual((r as NonNullable<typeof r>).p95);
      expect(r?.strategyPercentile).toBeGreaterThanOrEqual(0);
      expect(r?.strategyPercentile).toBeLessThanOrEqual(1);
    }
    const m = summary.monteCarlo;
    expect(m.seed).toBe(7);
    expect(m.observed.returnPct).toBeCloseTo(summary.netReturnPct, 2);
    checkScenarios(m.reshuffle, 400);
    checkScenarios(m.bootstrap, 400);
    expect(m.bootstrap.days).toBeGreaterThan(1);
    expect(m.candleReplay?.requested).toBe(2);
    expect(m.candleReplay?.scenarios).toBe(2);
    for (const k of ['dailyLossPct', 'weeklyLossPct', 'haltDailyDrawdownPct', 'haltConsecutiveStops'] as const) expect(m.limits[k]).toBeGreaterThan(0);

    const html = readFileSync(join(run(), 'report.html'), 'utf8');
    expect(html).toContain('<h2>Baselines</h2>');
    expect(html).toContain(b.sentence.replace(/&/g, '&amp;').slice(0, 40));
    expect(html).toContain('Buy and hold (equal weight)');
    expect(html).toContain('<h2>Monte Carlo</h2>');
    expect(html).toContain('Trade order reshuffled (path risk)');
    expect(html).toContain('400 scenarios');
    expect(html).toContain('2 of 2 requested replays');
  }, 90_000);

  it('npm run montecarlo rebuilds the run and writes montecarlo.json and .html; one worker in process and two in the binary agree', async () => {
    const a = join(dir, 'mc1');
    const logs: string[] = [];
    const report = await montecarloCommand(['--run', run(), '--scenarios', '300', '--replays', '4', '--workers', '1', '--seed', '5', '--out', a, '--quiet'], { log: (l) => logs.push(l), err: () => undefined });
    const summary = JSON.parse(readFileSync(join(run(), 'summary.json'), 'utf8')) as { netReturnPct: number };
    expect(report.seed).toBe(5);
    expect(report.observed.returnPct).toBeCloseTo(summary.netReturnPct, 2);
    checkScenarios(report.reshuffle, 300);
    checkScenarios(report.bootstrap, 300);
    expect(report.candleReplay).toMatchObject({ requested: 4, scenarios: 4, budgetReached: false, blockHours: 24 });
    checkScenarios(report.candleReplay as ScenarioSummary, 4);
    expect(JSON.parse(readFileSync(join(a, 'montecarlo.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const html = readFileSync(join(a, 'montecarlo.html'), 'utf8');
    expect(html).toContain('<h2>Monte Carlo</h2>');
    expect(html).toContain('4 of 4 requested replays');
    expect(logs.join('\n')).toMatch(/replays {6}return 5\/50\/95%: .* \(4 of 4\)/);

    const b = join(dir, 'mc2');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/montecarlo.ts', '--run', run(), '--scenarios', '300', '--replays', '4', '--workers', '2', '--seed', '5', '--out', b, '--quiet'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Monte Carlo of');
    expect(JSON.parse(readFileSync(join(b, 'montecarlo.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(a, 'montecarlo.json'), 'utf8')));
  }, 90_000);

  it('runs on a backtest of a plug-in strategy module, whose workers load the module', async () => {
    const bt = join(dir, 'sma');
    await backtestCommand(['--data', DATA, '--out', bt, '--quiet', '--strategy', join(REPO, 'examples/strategies/smaCross.ts'), '--baseline-seeds', '0', '--mc-scenarios', '50', '--mc-replays', '0'], quiet);
    const out = join(dir, 'sma-mc');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/montecarlo.ts', '--run', bt, '--scenarios', '100', '--replays', '2', '--workers', '2', '--out', out, '--quiet'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/unknown strategy|Error/);
    expect(r.status).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'montecarlo.json'), 'utf8')) as MonteCarloReport;
    expect(m.candleReplay?.scenarios).toBe(2);
  }, 90_000);
});
