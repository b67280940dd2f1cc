/**
 * The trial log: one JSON line per trial outcome, appended as each arrives. It is the run's
 * memory: the planner derives everything from it, so a killed run resumes by reading it back. A
 * kill can tear the last line: a line that does not parse is dropped and counted (its trial runs
 * again), never guessed at.
 */
import { z } from 'zod';
import type { TrialOutcome } from './trial.js';

// A parameter value: a number or a choice, which may be any JSON value (space.ts).
const value = z.json();
const nullableNumber = z.number().nullable();
const metrics = z.strictObject({
  days: z.number(),
  trades: z.number().int().min(0),
  netReturnPct: z.number(),
  maxDrawdownPct: z.number(),
  sharpe: nullableNumber,
  sortino: nullableNumber,
  calmar: nullableNumber,
  profitFactor: nullableNumber,
  winRate: nullableNumber,
  fees: z.number(),
});

export const trialOutcomeSchema = z.strictObject({
  v: z.literal(1),
  runId: z.string(),
  trial: z.number().int().min(0),
  fold: z.number().int().min(0),
  phase: z.enum(['search', 'oos', 'holdout', 'base-oos', 'base-holdout']),
  values: z.record(z.string(), value),
  status: z.enum(['ok', 'invalid', 'error']),
  reason: z.string().optional(),
  duplicateOf: z.number().int().min(0).optional(),
  metrics: metrics.nullable(),
  returns: z.array(z.number()),
  elapsedMs: z.number(),
});

/** Serialises one outcome as a log line (with its newline). */
export function trialLine(o: TrialOutcome): string {
  return JSON.stringify(o) + '\n';
}

export interface ParsedLog {
  readonly outcomes: Map<number, TrialOutcome>;
  /** Lines that did not parse (a torn last line after a kill) or belong to another run. */
  readonly dropped: number;
}

/** Reads a log's text: the last outcome of each trial number wins. */
export function parseTrialLog(text: string, runId: string): ParsedLog {
  const outcomes = new Map<number, TrialOutcome>();
  let dropped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      dropped++;
      continue;
    }
    const r = trialOutcomeSchema.safeParse(parsed);
    if (!r.success || r.data.runId !== runId) {
      dropped++;
      continue;
    }
    outcomes.set(r.data.trial, r.data);
  }
  return { outcomes, dropped };
}
