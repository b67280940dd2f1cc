/**
 * The built-in deterministic reviewer: fixed rules over the facts pack, no model. It is what the
 * review sends when Bedrock is not configured, fails, or its answer is dropped, and it is labelled
 * as such wherever it appears. Its recommendations are tested like the model's: a rule firing is a
 * hypothesis, not a finding.
 *
 * Rules (each a one-step change of one key, within the key's bounds):
 * - stop exits are at least 40% of 3+ trades and lose in sum: widen exit.stopBeyondLevelPct;
 * - time exits are at least 30% of 3+ trades and do not win in sum: shorten exit.timeStopMinutes;
 * - the win rate is below 40% over 10+ trades: raise entry.volumeMultiplier (fewer, stronger entries);
 * - fewer than 3 trades a day with a profit factor above 1.2: widen entry.proximityPct (more entries).
 */
import { fmtNum } from '../report/format.js';
import type { ReviewAnswer } from './answer.js';
import type { Tunable } from './config.js';
import { onGrid, readKey } from './configKeys.js';
import type { Reviewer, ReviewOutcome, ReviewRequest } from './reviewer.js';

export const DETERMINISTIC_LABEL = 'built-in deterministic reviewer (fixed rules, no language model)';

/** The next value on the key's grid from `current` in direction `dir`, or undefined at the bound. */
export function stepFrom(t: Tunable, current: number, dir: 1 | -1): number | undefined {
  // An off-grid live value moves to the first grid point beyond it in the direction asked.
  const k = (current - t.min) / t.step;
  const kn = dir > 0 ? Math.floor(k + 1e-9) + 1 : Math.ceil(k - 1e-9) - 1;
  const next = Number((t.min + kn * t.step).toFixed(10));
  return onGrid(t, next) ? next : undefined;
}

export class DeterministicReviewer implements Reviewer {
  readonly name = 'deterministic';

  review(req: ReviewRequest): Promise<ReviewOutcome> {
    const f = req.facts;
    const fig = f.figures;
    const ex = f.trades.byExitReason;
    const byKey = new Map(req.tunables.map((t) => [t.key, t]));
    const recs: ReviewAnswer['recommendations'] = [];
    const propose = (key: string, dir: 1 | -1, title: string, rationale: string, evidence: string[]): void => {
      const t = byKey.get(key);
      const cur = readKey(req.live, key);
      if (!t || cur === undefined) return;
      const value = stepFrom(t, cur, dir);
      if (value === undefined) return;
      recs.push({ title, rationale, evidence, changes: [{ key: t.key, value }] as ReviewAnswer['recommendations'][number]['changes'] });
    };
    const n = fig.trades;
    const stop = ex.stop;
    if (stop && n >= 3 && stop.trades / n >= 0.4 && Number(stop.netPnl) < 0) {
      propose('exit.stopBeyondLevelPct', 1, 'Give trades more room below the level', `${stop.trades} of ${n} trades ended at the stop, losing ${stop.netPnl} in sum.`, ['trades.byExitReason.stop.trades', 'trades.byExitReason.stop.netPnl', 'figures.trades']);
    }
    const time = ex.time;
    if (time && n >= 3 && time.trades / n >= 0.3 && Number(time.netPnl) <= 0) {
      propose('exit.timeStopMinutes', -1, 'Cut trades that go nowhere sooner', `${time.trades} of ${n} trades ended at the time stop with ${time.netPnl} in sum.`, ['trades.byExitReason.time.trades', 'trades.byExitReason.time.netPnl']);
    }
    if (n >= 10 && fig.winRatePct !== null && fig.winRatePct < 40) {
      propose('entry.volumeMultiplier', 1, 'Take fewer, stronger entries', `The win rate was ${fmtNum(fig.winRatePct, 1)}% over ${n} trades.`, ['figures.winRatePct', 'figures.trades']);
    }
    const days = Math.max(1, (Date.parse(f.period.end) - Date.parse(f.period.start)) / 86_400_000);
    if (n / days < 3 && fig.profitFactor !== null && fig.profitFactor > 1.2) {
      propose('entry.proximityPct', 1, 'Accept entries a little further from the level', `Only ${n} trades in ${days} day(s) with a profit factor of ${fmtNum(fig.profitFactor, 2)}.`, ['figures.trades', 'figures.profitFactor']);
    }

    const findings: ReviewAnswer['findings'] = [];
    const d = f.divergence;
    if (d.status === 'ok' && d.matchRatePct !== null && d.matchRatePct < 100) {
      findings.push({ title: 'Live trading diverged from the replay', detail: `${d.matched} trades matched, ${d.liveOnlyCount} only live, ${d.replayOnlyCount} only in the replay; live minus replay net PnL ${d.netPnlDiff}.`, evidence: ['divergence.matchRatePct', 'divergence.netPnlDiff'] });
    } else if (d.status !== 'ok') {
      findings.push({ title: 'No replay to compare with', detail: d.detail ?? d.status, evidence: ['divergence.status'] });
    }
    if (f.anomalies.slippage.avgBps !== null && f.anomalies.slippage.avgBps > 5) {
      findings.push({ title: 'Entries filled noticeably worse than the signal', detail: `Average entry slippage ${fmtNum(f.anomalies.slippage.avgBps, 1)} bps.`, evidence: ['anomalies.slippage.avgBps'] });
    }
    if (f.anomalies.halts.length > 0) findings.push({ title: 'Trading was halted', detail: `${f.anomalies.halts.length} halt(s), the first ${f.anomalies.halts[0]!.code}.`, evidence: ['anomalies.halts[0]'] });
    if (f.uptime.pct !== null && f.uptime.pct < 99) findings.push({ title: 'The runtime was not always up', detail: `Uptime ${fmtNum(f.uptime.pct, 2)}% with ${f.uptime.gapCount} gap(s).`, evidence: ['uptime.pct', 'uptime.gapCount'] });

    const narrative =
      n === 0
        ? `No trade closed in ${f.period.label}. Nothing to judge the strategy on; the facts pack lists uptime, halts and anomalies.`
        : `${n} trades closed in ${f.period.label}: net ${fig.netPnl} ${fig.quoteAsset} after ${fig.fees} in fees, win rate ${fmtNum(fig.winRatePct, 1)}%, profit factor ${fig.profitFactor === null ? 'undefined (no losing trade)' : fmtNum(fig.profitFactor, 2)}. ` +
          `This review was written by fixed rules, not a model: ${recs.length} rule(s) fired.`;
    return Promise.resolve({ reviewer: this.name, label: DETERMINISTIC_LABEL, answer: { narrative, findings, recommendations: recs.slice(0, req.maxRecommendations) }, notes: [] });
  }
}
