/**
 * The recommendation ledger's scoring: every past recommendation (the newest `maxAgeDays`, at most
 * `maxPerRun` a run) is scored on what happened after it was made: the candles archived from the
 * end of the period it was made on, up to now (at most `maxSpanDays`), replayed with the live
 * configuration and with the live configuration plus the recommended change. Nothing is applied;
 * the score says whether the change would have helped since. A span already scored is not scored
 * again; a recommendation whose change no longer makes a valid config is scored `no_data`.
 */
import type { Config } from '../config/schema.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { CandleArchive } from '../ml/archive.js';
import { MAX_RECOMMENDATION_SCORES, VersionConflictError, type RecommendationScore, type StateStore } from '../state/types.js';
import type { ReviewConfig } from './config.js';
import { applyChanges } from './configKeys.js';
import { loadCandles } from './divergence.js';
import { compareOnSpan } from './spanCompare.js';

export interface LedgerDeps {
  readonly store: StateStore;
  readonly archive: CandleArchive;
  readonly symbols: readonly string[];
  readonly live: Config;
  readonly settings: ReviewConfig;
  readonly now: number;
}

export interface LedgerSummary {
  readonly scored: number;
  readonly skipped: number;
  readonly failed: number;
  /** The newest score of each recommendation looked at (for the review page). */
  readonly latest: readonly { readonly id: string; readonly title: string; readonly verdict: string; readonly score?: RecommendationScore }[];
}

/** Scores the past recommendations (see the file comment). Failures are counted, never thrown. */
export async function scoreLedger(d: LedgerDeps): Promise<LedgerSummary> {
  const sc = d.settings.scoring;
  const recs = await d.store.listRecommendations(Math.max(0, d.now - sc.maxAgeDays * DAY_MS), 1000);
  let scored = 0;
  let skipped = 0;
  let failed = 0;
  const latest: LedgerSummary['latest'][number][] = [];
  for (const r of recs) {
    const rec = r.value;
    const from = rec.periodEnd;
    const to = Math.min(d.now, from + sc.maxSpanDays * DAY_MS);
    const last = rec.scores[rec.scores.length - 1];
    const entry = { id: rec.id, title: rec.title, verdict: rec.test.verdict, ...(last ? { score: last } : {}) };
    if (to - from < DAY_MS || (last && last.to >= to) || scored >= sc.maxPerRun) {
      skipped++;
      latest.push(entry);
      continue;
    }
    try {
      let score: RecommendationScore;
      let candidate: Config | undefined;
      try {
        candidate = applyChanges(d.live, rec.changes.map((c) => ({ key: c.key, value: c.to })));
      } catch {
        candidate = undefined;
      }
      const warm = d.settings.tester.warmupMinutes;
      const cmp = candidate ? await compareOnSpan(await loadCandles(d.archive, d.symbols, from - warm * MINUTE_MS, to), d.live, candidate, from, to, warm) : undefined;
      if (!cmp || !cmp.hasData) {
        score = { at: d.now, from, to, liveNetPnl: '0', candidateNetPnl: '0', liveTrades: 0, candidateTrades: 0, outcome: 'no_data' };
      } else {
        const c = cmp.candidate.netPnl;
        const l = cmp.live.netPnl;
        score = { at: d.now, from, to, liveNetPnl: l.toString(), candidateNetPnl: c.toString(), liveTrades: cmp.live.trades.length, candidateTrades: cmp.candidate.trades.length, outcome: c.gt(l) ? 'better' : c.lt(l) ? 'worse' : 'same' };
      }
      try {
        await d.store.put('recommendation', { ...rec, scores: [...rec.scores, score].slice(-MAX_RECOMMENDATION_SCORES) }, r.version);
      } catch (e) {
        // Another run scored it meanwhile: its score stands.
        if (!(e instanceof VersionConflictError)) throw e;
      }
      scored++;
      latest.push({ ...entry, score });
    } catch {
      failed++;
      latest.push(entry);
    }
  }
  return { scored, skipped, failed, latest };
}
