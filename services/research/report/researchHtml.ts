/**
 * The backtest report's research sections: the baselines (before costs, random entries, buy and
 * hold, and the line saying whether the strategy beats random entries) and the Monte Carlo tables
 * (percentiles of return, drawdown, time under water, losing streaks; risk of ruin by the risk
 * engine's own limits), each saying how many scenarios it ran.
 */
import { escapeXml as esc, fmtNum } from '../../report/format.js';
import type { BaselineReport } from '../baselines/baselines.js';
import type { MonteCarloReport } from '../montecarlo/monteCarlo.js';
import type { Distribution, ScenarioSummary } from '../montecarlo/paths.js';

const pct = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${x > 0 ? '+' : ''}${fmtNum(x, d)}%`);
const share = (x: number): string => `${fmtNum(x * 100, 1)}%`;

export function baselinesHtml(b: BaselineReport): string {
  const r = b.randomEntries;
  const rows: [string, string, string][] = [
    ['The strategy', pct(b.strategy.netReturnPct), `${b.strategy.trades} trades, ${pct(b.strategy.meanTradePct, 3)} per trade`],
    ['Before costs (fees, slippage, impact = 0)', pct(b.beforeCosts.netReturnPct), `${b.beforeCosts.trades} trades; costs took ${fmtNum(b.beforeCosts.costsPct, 2)} points`],
    r
      ? [`Random entries, same exits and sizing (${r.seeds} seeds)`, `${pct(r.p50)} median`, `90% between ${pct(r.p5)} and ${pct(r.p95)}; ${fmtNum(r.tradesMean, 0)} trades on average, ${pct(r.meanTradePct, 3)} per trade`]
      : ['Random entries', '–', 'no entries to copy'],
    ['Buy and hold (equal weight)', pct(b.buyAndHold.returnPct), Object.entries(b.buyAndHold.perSymbol).map(([s, v]) => `${s} ${pct(v.returnPct)} (max drawdown ${fmtNum(v.maxDrawdownPct, 1)}%)`).join(', ')],
  ];
  return (
    `<h2>Baselines</h2><div class="note">${esc(b.sentence)}</div>` +
    `<table><thead><tr><th>Run</th><th class="n">Net return</th><th>Detail</th></tr></thead><tbody>` +
    rows.map(([k, v, d]) => `<tr><td>${esc(k)}</td><td class="n">${esc(v)}</td><td class="muted">${esc(d)}</td></tr>`).join('') +
    `</tbody></table>` +
    `<p class="muted">Random entries are taken only where the strategy could have entered (no position, past its warm-up, through its market filters), each with the plan of one of its real signals at the same relative distances, at a rate calibrated to its trade count; the strategy's own exits and the risk engine's sizing apply.</p>`
  );
}

function distRow(label: string, d: Distribution, digits: number, unit: string, observed: number | null): string {
  const f = (x: number): string => `${fmtNum(x, digits)}${unit}`;
  return `<tr><td>${esc(label)}</td><td class="n">${f(d.p5)}</td><td class="n">${f(d.p50)}</td><td class="n">${f(d.p95)}</td><td class="n muted">${observed === null ? '–' : f(observed)}</td></tr>`;
}

function table(title: string, s: ScenarioSummary, note: string, observed: MonteCarloReport['observed'], streakUnit: string): string {
  if (s.scenarios === 0) return `<h3>${esc(title)}</h3><p class="muted">No scenarios (${esc(note)}).</p>`;
  return (
    `<h3>${esc(title)}</h3><p class="muted">${esc(note)}</p>` +
    `<table><thead><tr><th>${s.scenarios.toLocaleString('en-US')} scenarios</th><th class="n">5th pct</th><th class="n">median</th><th class="n">95th pct</th><th class="n">this run</th></tr></thead><tbody>` +
    distRow('Return', s.returnPct, 2, '%', observed.returnPct) +
    distRow('Max drawdown', s.maxDrawdownPct, 2, '%', observed.maxDrawdownPct) +
    distRow('Time under water', s.timeUnderWaterPct, 1, '%', observed.timeUnderWaterPct) +
    distRow('Longest under water', s.longestUnderWaterDays, 1, ' d', observed.longestUnderWaterDays) +
    distRow(`Longest losing streak (${streakUnit})`, s.longestLosingStreak, 0, '', streakUnit === 'trades' ? observed.longestLosingStreak : null) +
    `<tr><td>Risk of ruin: daily / weekly loss limit / halt</td><td class="n" colspan="3">${share(s.riskOfRuin.daily)} / ${share(s.riskOfRuin.weekly)} / ${share(s.riskOfRuin.halt)} (any: ${share(s.riskOfRuin.any)})</td><td class="n muted">${[observed.hits.daily, observed.hits.weekly, observed.hits.halt].map((x) => (x ? 'hit' : 'no')).join(' / ')}</td></tr>` +
    `</tbody></table>`
  );
}

export function monteCarloHtml(m: MonteCarloReport): string {
  const l = m.limits;
  const replay = m.candleReplay;
  return (
    `<h2>Monte Carlo</h2><div class="note">Risk of ruin is the share of scenarios reaching the risk engine's own limits: the daily loss limit (${fmtNum(l.dailyLossPct, 1)}% of the day's starting equity), the weekly one (${fmtNum(l.weeklyLossPct, 1)}%), and a halt (a ${fmtNum(l.haltDailyDrawdownPct, 1)}% daily drawdown or ${l.haltConsecutiveStops} losing stop-loss exits in a row). Seed ${m.seed}.</div>` +
    table('Trade order reshuffled (path risk)', m.reshuffle, m.reshuffle.note, m.observed, 'trades') +
    table(`Block bootstrap of daily returns (${m.bootstrap.blockDays}-day blocks over ${m.bootstrap.days} days)`, m.bootstrap, 'confidence intervals of the result; limits are judged on day closes only', m.observed, 'days') +
    (replay
      ? table(
          `Resampled ${fmtNum(replay.blockHours, 0)}-hour candle blocks replayed through the kernel`,
          replay,
          `${replay.scenarios} of ${replay.requested} requested replays${replay.budgetReached ? ' (the time budget stopped the rest)' : ''}: each is a full backtest, so the report runs fewer than npm run montecarlo's 10,000; the strategy decides anew on every resampled market`,
          m.observed,
          'trades',
        )
      : '<h3>Candle-block replays</h3><p class="muted">Not run in this report (npm run montecarlo -- --run &lt;dir&gt; runs them).</p>')
  );
}
