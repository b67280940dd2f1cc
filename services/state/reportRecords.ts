/**
 * The records the scheduled reports, the AI reviews and the tax ledger read besides trades, fills
 * and daily stats (see README.md for their keys):
 *
 * - the operations log (`ops`): halts and their lifting, kill-switch changes, rejected and stuck
 *   orders, restart recoveries and reconcile repairs. Written once per event id, listed by UTC day.
 *   Reports count and list them; nothing decides on them.
 * - uptime (`uptime`): per runtime owner and UTC day, the spans during which its heartbeats came at
 *   most `maxGapMs` apart. One small item per owner and day (not one per beat), so a monthly report
 *   reads about thirty items instead of 170,000 heartbeats.
 * - the recommendation ledger (`recommendation`): every recommendation a review made, its test
 *   result, and the scores it got later on what happened afterwards. Never applied by the system.
 */
import { z } from 'zod';

const epochMs = z.number().int().min(0);
const UTC_DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const utcDay = z.string().regex(UTC_DAY_RE, 'expected a UTC day as yyyy-mm-dd');
const shortText = (max: number) => z.string().max(max);

// ---------------------------------------------------------------------------------------------
// Operations log

// `console_ignored`: a Telegram update from a sender or chat not on the allowlist (one per sender and minute).
export const OPS_EVENT_TYPES = ['halt', 'halt_lifted', 'kill_switch', 'order_rejected', 'order_stuck', 'recovery', 'reconcile_repair', 'console_ignored'] as const;
export type OpsEventType = (typeof OPS_EVENT_TYPES)[number];

/** One operational event. */
export interface OpsEventRecord {
  /** Deterministic from the event (e.g. `halt:HALTED_CONSECUTIVE_STOPS:1717000000000`), so a repeat is stored once. */
  readonly id: string;
  /** Epoch ms the event happened (the market clock for halts, the wall clock for the rest). */
  readonly at: number;
  readonly type: OpsEventType;
  readonly symbol?: string;
  /** A reason code or state (`HALTED_DAILY_DRAWDOWN`, `PAUSED`, an order error kind, ...). */
  readonly code?: string;
  readonly detail: string;
}

export const opsEventSchema = z.object({
  id: z.string().min(1).max(256),
  at: epochMs,
  type: z.enum(OPS_EVENT_TYPES),
  symbol: z.string().min(1).max(32).optional(),
  code: z.string().min(1).max(64).optional(),
  detail: shortText(1024),
}) satisfies z.ZodType<OpsEventRecord, unknown>;

// ---------------------------------------------------------------------------------------------
// Uptime

/** A span of continuous heartbeats, epoch ms. */
export interface UptimeSpan {
  readonly from: number;
  readonly to: number;
}

/** One runtime's heartbeat spans on one UTC day. */
export interface UptimeRecord {
  readonly day: string;
  readonly owner: string;
  readonly mode: string;
  /** Beats further apart than this start a new span. */
  readonly maxGapMs: number;
  /** Oldest first, at most MAX_UPTIME_SPANS (the oldest are merged when more). */
  readonly spans: readonly UptimeSpan[];
  readonly beats: number;
}

/** Bound on the spans kept per owner and day (a flapping process must not grow an item past 400 KB). */
export const MAX_UPTIME_SPANS = 500;

export const uptimeSchema = z.object({
  day: utcDay,
  owner: z.string().min(1).max(256),
  mode: z.string().min(1).max(32),
  maxGapMs: z.number().int().positive(),
  spans: z.array(z.object({ from: epochMs, to: epochMs })).max(MAX_UPTIME_SPANS),
  beats: z.number().int().min(0),
}) satisfies z.ZodType<UptimeRecord, unknown>;

/**
 * The record after one more heartbeat at `at`: it extends the last span when it comes within
 * `maxGapMs` of it, otherwise it opens a new one. A beat older than the last span's end (a clock
 * step back, a late write) is counted and changes no span. Pure.
 */
export function withBeat(cur: UptimeRecord | undefined, beat: { day: string; owner: string; mode: string; at: number; maxGapMs: number }): UptimeRecord {
  if (cur === undefined) return { day: beat.day, owner: beat.owner, mode: beat.mode, maxGapMs: beat.maxGapMs, spans: [{ from: beat.at, to: beat.at }], beats: 1 };
  const spans = [...cur.spans];
  const last = spans[spans.length - 1];
  if (last !== undefined && beat.at <= last.to) return { ...cur, beats: cur.beats + 1 };
  if (last !== undefined && beat.at - last.to <= cur.maxGapMs) spans[spans.length - 1] = { from: last.from, to: beat.at };
  else spans.push({ from: beat.at, to: beat.at });
  // Past the bound the two oldest spans become one (the gap between them is lost, the bound kept).
  while (spans.length > MAX_UPTIME_SPANS) {
    const [a, b] = spans as [UptimeSpan, UptimeSpan];
    spans.splice(0, 2, { from: a.from, to: b.to });
  }
  return { ...cur, mode: beat.mode, spans, beats: cur.beats + 1 };
}

// ---------------------------------------------------------------------------------------------
// Recommendation ledger

/** One key changed by a recommendation. */
export interface ConfigChange {
  /** Dotted path into the strategy config, e.g. `exit.stopBeyondLevelPct`. */
  readonly key: string;
  readonly from: number;
  readonly to: number;
}

/** The out-of-sample test of a recommendation (services/review/tester.ts). */
export interface RecommendationTestRecord {
  readonly verdict: 'supported' | 'not_supported';
  /** Which tester ran it (`kernel-rolling-oos`, later the research walk-forward). */
  readonly tester: string;
  /** The rule, in words, as applied. */
  readonly rule: string;
  /** Why the verdict (each failed condition, or "all conditions held"). */
  readonly reasons: readonly string[];
  /** The figures the rule read (span count, wins, net PnL of each side as decimal strings, ...). */
  readonly figures: Readonly<Record<string, string | number | null>>;
}

/** How a past recommendation would have done on what happened after it was made. */
export interface RecommendationScore {
  readonly at: number;
  /** The span scored (candles after the recommendation was made). */
  readonly from: number;
  readonly to: number;
  readonly liveNetPnl: string;
  readonly candidateNetPnl: string;
  readonly liveTrades: number;
  readonly candidateTrades: number;
  /** better / worse / same for the candidate; no_data when no candles were archived for the span. */
  readonly outcome: 'better' | 'worse' | 'same' | 'no_data';
}

/** Scores kept per recommendation (the newest). */
export const MAX_RECOMMENDATION_SCORES = 24;

export interface RecommendationRecord {
  /** `rec:<period>:<period start day>:<n>`. */
  readonly id: string;
  readonly createdAt: number;
  readonly period: 'daily' | 'weekly' | 'monthly';
  readonly periodStart: number;
  readonly periodEnd: number;
  /** `bedrock` or `deterministic`. */
  readonly reviewer: string;
  readonly model?: string;
  readonly title: string;
  readonly rationale: string;
  readonly evidence: readonly string[];
  readonly changes: readonly ConfigChange[];
  readonly test: RecommendationTestRecord;
  readonly scores: readonly RecommendationScore[];
}

const figure = z.union([z.string().max(128), z.number(), z.null()]);
export const recommendationSchema = z.object({
  id: z.string().regex(/^rec:(daily|weekly|monthly):\d{4}-\d{2}-\d{2}:\d{1,3}$/, 'expected rec:<period>:<yyyy-mm-dd>:<n>'),
  createdAt: epochMs,
  period: z.enum(['daily', 'weekly', 'monthly']),
  periodStart: epochMs,
  periodEnd: epochMs,
  reviewer: z.string().min(1).max(64),
  model: z.string().min(1).max(256).optional(),
  title: shortText(200),
  rationale: shortText(2000),
  evidence: z.array(shortText(200)).max(16),
  changes: z.array(z.object({ key: z.string().min(1).max(128), from: z.number().finite(), to: z.number().finite() })).min(1).max(2),
  test: z.object({
    verdict: z.enum(['supported', 'not_supported']),
    tester: z.string().min(1).max(64),
    rule: shortText(2000),
    reasons: z.array(shortText(500)).max(20),
    figures: z.record(z.string().max(64), figure),
  }),
  scores: z
    .array(
      z.object({
        at: epochMs,
        from: epochMs,
        to: epochMs,
        liveNetPnl: z.string().max(64),
        candidateNetPnl: z.string().max(64),
        liveTrades: z.number().int().min(0),
        candidateTrades: z.number().int().min(0),
        outcome: z.enum(['better', 'worse', 'same', 'no_data']),
      }),
    )
    .max(MAX_RECOMMENDATION_SCORES),
}) satisfies z.ZodType<RecommendationRecord, unknown>;
