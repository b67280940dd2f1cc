/**
 * One AI review end to end:
 * 1. the period's records (as the report reads them), the report's figures, the live-versus-replay
 *    divergence on the archived candles, and the facts pack;
 * 2. the review from the primary reviewer (Bedrock, when configured); when it fails or its answer
 *    is dropped, the deterministic reviewer's, with the reason as a note;
 * 3. every recommendation tested by the RecommendationTester (a change the config schema refuses
 *    is "not supported" without a run);
 * 4. the recommendations written to the ledger, past ones scored;
 * 5. prompt, responses, facts pack, tests and the page stored under `reviews/<period>/<day>/`, and
 *    the review delivered like a report (Telegram caption and page, e-mail with a link).
 * The live configuration is only read: candidates are copies.
 */
import type { Config } from '../config/schema.js';
import { Dec } from '../core/money.js';
import type { CandleArchive } from '../ml/archive.js';
import { loadReportData } from '../reporting/dataset.js';
import { deliver, type ArtifactFile, type ChannelResult, type DeliveryChannels } from '../reporting/delivery.js';
import { computeFigures } from '../reporting/figures.js';
import type { PeriodWindow } from '../reporting/period.js';
import type { ConfigChange, RecommendationRecord, RecommendationTestRecord, StateStore } from '../state/types.js';
import type { ReviewAnswer } from './answer.js';
import type { ReviewConfig } from './config.js';
import { applyChanges, readKey } from './configKeys.js';
import { DeterministicReviewer } from './deterministicReviewer.js';
import { replayDivergence } from './divergence.js';
import { buildFactsPack, type FactsPack } from './factsPack.js';
import { scoreLedger, type LedgerSummary } from './ledger.js';
import { reviewCaption, reviewEmail, reviewPageHtml } from './reviewHtml.js';
import { ReviewerFailedError, type Reviewer, type ReviewOutcome, type ReviewUsage } from './reviewer.js';
import { ruleText, type RecommendationTester } from './tester.js';

export interface ReviewRunDeps {
  readonly store: StateStore;
  readonly archive: CandleArchive;
  readonly live: Config;
  readonly settings: ReviewConfig;
  /** Bedrock when configured; undefined: the deterministic reviewer only. */
  readonly reviewer?: Reviewer;
  readonly tester: RecommendationTester;
  readonly channels: DeliveryChannels;
  readonly symbols: readonly string[];
  readonly now: () => number;
  readonly log?: (line: string, data?: Record<string, unknown>) => void;
}

export interface TestedRecommendation {
  readonly id: string;
  readonly title: string;
  readonly rationale: string;
  readonly evidence: readonly string[];
  readonly changes: readonly ConfigChange[];
  readonly test: RecommendationTestRecord;
}

export interface ReviewRunResult {
  readonly facts: FactsPack;
  readonly outcome: ReviewOutcome;
  readonly recommendations: readonly TestedRecommendation[];
  readonly ledger: LedgerSummary;
  readonly files: readonly ArtifactFile[];
  readonly deliveries: readonly ChannelResult[];
}

/** Where a review's files go. */
export function reviewKeys(w: Pick<PeriodWindow, 'period' | 'key'>) {
  const base = `reviews/${w.period}/${w.key}`;
  return { html: `${base}/review.html`, facts: `${base}/facts.json`, prompt: `${base}/prompt.json`, response: `${base}/response.json`, tests: `${base}/tests.json` };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const json = (v: unknown): Uint8Array => enc(JSON.stringify(v, (_k, x: unknown) => (x instanceof Dec ? x.toString() : x), 2));

export async function runReview(deps: ReviewRunDeps, window: PeriodWindow): Promise<ReviewRunResult> {
  const now = deps.now();
  const dataset = await loadReportData(deps.store, window);
  const figures = computeFigures(dataset, deps.live, now);
  const startEquity: Dec | undefined = dataset.days.find((d) => d.startEquity.isPositive())?.startEquity;
  const { divergence, candles } = await replayDivergence({
    archive: deps.archive,
    config: deps.live,
    window,
    live: dataset.trades,
    ...(startEquity ? { startEquity } : {}),
    symbols: deps.symbols,
    warmupMinutes: deps.settings.tester.warmupMinutes,
  });
  const facts = buildFactsPack({ dataset, figures, divergence, live: deps.live, tunables: deps.settings.tunables, candles });
  const req = { period: window.period, facts, live: deps.live, tunables: deps.settings.tunables, maxRecommendations: deps.settings.maxRecommendations };

  let outcome: ReviewOutcome;
  let failedUsage: ReviewUsage | undefined;
  let failedDetails: { prompt?: unknown; responses?: readonly unknown[] } = {};
  const fallbackNotes: string[] = [];
  if (deps.reviewer) {
    try {
      outcome = await deps.reviewer.review(req);
    } catch (e) {
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (e instanceof ReviewerFailedError) {
        failedUsage = e.details.usage;
        failedDetails = { prompt: e.details.prompt, responses: e.details.responses };
        fallbackNotes.push(...(e.details.notes ?? []));
      }
      fallbackNotes.push(`the ${deps.reviewer.name} review failed (${why.slice(0, 400)}); the deterministic reviewer's review is sent instead`);
      const det = await new DeterministicReviewer().review(req);
      outcome = { ...det, notes: [...fallbackNotes, ...det.notes], ...(failedUsage ? { usage: failedUsage } : {}), ...failedDetails };
    }
  } else {
    const det = await new DeterministicReviewer().review(req);
    outcome = { ...det, notes: ['Bedrock is not configured (no model id or no AWS credentials): the deterministic reviewer wrote this review', ...det.notes] };
  }
  deps.log?.('review tokens and cost', { reviewer: outcome.reviewer, model: outcome.model ?? null, attempts: outcome.usage?.attempts ?? 0, inputTokens: outcome.usage?.inputTokens ?? 0, outputTokens: outcome.usage?.outputTokens ?? 0, costUsd: outcome.usage?.costUsd ?? 0 });

  // Test every recommendation.
  const recommendations: TestedRecommendation[] = [];
  const answerRecs: ReviewAnswer['recommendations'] = outcome.answer.recommendations.slice(0, deps.settings.maxRecommendations);
  for (const [n, r] of answerRecs.entries()) {
    const changes: ConfigChange[] = r.changes.map((c) => ({ key: c.key, from: readKey(deps.live, c.key) ?? Number.NaN, to: c.value }));
    let test: RecommendationTestRecord;
    try {
      const candidate = applyChanges(deps.live, r.changes);
      test = await deps.tester.test({ period: window.period, live: deps.live, candidate, changes, shownFrom: window.start });
    } catch (e) {
      test = { verdict: 'not_supported', tester: deps.tester.name, rule: ruleText(deps.settings.tester), reasons: [`not testable: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500)], figures: {} };
    }
    recommendations.push({ id: `rec:${window.period}:${window.key}:${n}`, title: r.title, rationale: r.rationale, evidence: r.evidence, changes: changes.map((c) => ({ ...c, from: Number.isFinite(c.from) ? c.from : 0 })), test });
  }

  // The ledger: this review's recommendations (a rerun of the same period replaces them, keeping their scores), then the past ones scored.
  for (const r of recommendations) {
    const cur = await deps.store.get('recommendation', r.id);
    const rec: RecommendationRecord = {
      id: r.id,
      createdAt: now,
      period: window.period,
      periodStart: window.start,
      periodEnd: window.end,
      reviewer: outcome.reviewer,
      ...(outcome.model ? { model: outcome.model } : {}),
      title: r.title.slice(0, 200),
      rationale: r.rationale.slice(0, 2000),
      evidence: r.evidence.slice(0, 16),
      changes: r.changes,
      test: r.test,
      scores: cur?.value.scores ?? [],
    };
    await deps.store.put('recommendation', rec, cur?.version);
  }
  const ledger = await scoreLedger({ store: deps.store, archive: deps.archive, symbols: deps.symbols, live: deps.live, settings: deps.settings, now });

  const keys = reviewKeys(window);
  const html = reviewPageHtml({ window, facts, outcome, recommendations, ledger, rule: ruleText(deps.settings.tester), generatedAt: now });
  const files: ArtifactFile[] = [
    { key: keys.html, bytes: enc(html), contentType: 'text/html; charset=utf-8' },
    { key: keys.facts, bytes: json(facts), contentType: 'application/json' },
    { key: keys.prompt, bytes: json(outcome.prompt ?? { reviewer: outcome.reviewer, note: 'no model was asked' }), contentType: 'application/json' },
    { key: keys.response, bytes: json({ reviewer: outcome.reviewer, label: outcome.label, model: outcome.model ?? null, usage: outcome.usage ?? null, notes: outcome.notes, responses: outcome.responses ?? [], answer: outcome.answer }), contentType: 'application/json' },
    { key: keys.tests, bytes: json({ rule: ruleText(deps.settings.tester), tester: deps.tester.name, recommendations, ledger }), contentType: 'application/json' },
  ];
  const deliveries = await deliver(
    {
      files,
      primaryKey: keys.html,
      caption: reviewCaption(window, outcome, recommendations),
      subject: `mexc-scalper ${window.period} review ${window.key} (${outcome.reviewer})`,
      emailText: (link) => reviewEmail(window, outcome, recommendations, link),
    },
    deps.channels,
  );
  const supported = recommendations.filter((r) => r.test.verdict === 'supported').length;
  await deps.store.putPublication({
    kind: 'review',
    period: window.period,
    key: window.key,
    label: window.label.slice(0, 200),
    at: now,
    headline: `${outcome.reviewer}${outcome.model ? ` (${outcome.model})` : ''}: ${recommendations.length} recommendation(s), ${supported} supported by the test; net ${figures.netPnl} ${figures.quoteAsset} in ${figures.trades} trades`.slice(0, 500),
    path: keys.html,
  });
  return { facts, outcome, recommendations, ledger, files, deliveries };
}
