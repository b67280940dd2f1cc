/**
 * `npm run backtest -- --strategy <module>`: the plug-in example runs unchanged through the
 * backtest CLI with its parameters from the config, and the run's files carry the new figures
 * (summary.json keeps every headline field and adds the report's; trades.csv the plan; report.html
 * the extra sections and one price chart per symbol).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtestCommand } from '../../cli/backtest.js';
import { ConfigError } from '../../services/core/errors.js';
import { TRADE_CSV_COLUMNS } from '../../services/report/index.js';
import { xmlProblem } from '../report/xmlCheck.js';

const DATA = 'test/fixtures/candles/BTCUSDT';
const quiet = { log: () => undefined, err: () => undefined };

describe('backtest with a plug-in strategy module', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'plugin-bt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the example with its strategyParams and writes the plan, the figures and the charts', async () => {
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ strategyParams: { fast: 5, slow: 20, stopPct: 1 } }));
    const out = join(dir, 'run');
    const run = await backtestCommand(['--data', DATA, '--out', out, '--quiet', '--strategy', 'examples/strategies/smaCross.ts', '--config', cfg], quiet);
    expect(run.result.trades.length).toBeGreaterThan(0);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, unknown>;
    expect(s.strategy).toBe('sma-cross');
    expect(Object.keys(s.entryFunnel as object)).toEqual(['closes', 'warmup', 'noCross', 'signals']);
    for (const k of ['netReturnPct', 'maxDrawdownPct', 'sharpe', 'riskRejections', 'entryFunnel', 'dataQuality', 'costs', 'perSymbol', 'exitReasons']) expect(s, k).toHaveProperty(k);
    for (const k of ['returns', 'cagrPct', 'calmar', 'drawdownDuration', 'tradeDuration', 'bestTrade', 'worstTrade', 'r', 'costsPaid']) expect(s, k).toHaveProperty(k);
    // 3,000 minutes from 2021-04-18 22:07 to 2021-04-21 02:37 UTC: four UTC days.
    expect((s.returns as { daily: { period: string }[] }).daily.map((d) => d.period)).toEqual(['2021-04-18', '2021-04-19', '2021-04-20', '2021-04-21']);
    // trades.csv: every trade carries its plan (the stop the example set: close x 0.99).
    const [header, ...rows] = readFileSync(join(out, 'trades.csv'), 'utf8').trim().split('\r\n');
    expect(header).toBe(TRADE_CSV_COLUMNS.join(','));
    const col = (name: string): number => TRADE_CSV_COLUMNS.indexOf(name as (typeof TRADE_CSV_COLUMNS)[number]);
    for (const row of rows) {
      const cells = row.split(',');
      expect(cells[col('stop')]).not.toBe('');
      expect(cells[col('r_multiple')]).not.toBe('');
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const h of ['Growth, time and costs', 'Returns by period', 'Entry funnel and refusals', 'Price charts']) expect(html).toContain(h);
    expect(html).toContain('Where candidate entries stopped (sma-cross)');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(2); // the equity chart and BTCUSDT's price chart
    for (const svg of svgs) expect(xmlProblem(svg)).toBeNull();
  });

  it('parameters that do not fit the module stop the run, naming the field', async () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ strategyParams: { fast: 30, slow: 20 } }));
    const run = backtestCommand(['--data', DATA, '--out', join(dir, 'bad'), '--quiet', '--strategy', 'examples/strategies/smaCross.ts', '--config', cfg], quiet);
    await expect(run).rejects.toBeInstanceOf(ConfigError);
    await expect(run).rejects.toThrow(/strategyParams\.fast: fast must be shorter than slow/);
  });
});
