/**
 * The review's answer: one zod schema, from which both the forced tool's input schema
 * (`z.toJSONSchema`) and the validation of what comes back are made. The schema says what JSON
 * Schema can say (shape, the allowed keys, bounds); `parseReviewAnswer` then applies the same
 * schema and the checks JSON Schema cannot state: a value on its key's step grid and different from
 * the live value, at most one change per key, and every evidence reference resolving to a value in
 * the facts pack.
 */
import { z } from 'zod';
import type { Config } from '../config/schema.js';
import type { Tunable } from './config.js';
import { onGrid, readKey } from './configKeys.js';

export const REVIEW_TOOL_NAME = 'submit_review';

/** A reference into the facts pack: dotted keys and [n] indices, e.g. `trades.byExitReason.stop.netPnl`. */
export const EVIDENCE_RE = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[\d+\])*$/;

/** The answer schema for these tunables (see the file comment). */
export function reviewAnswerSchema(tunables: readonly Tunable[], maxRecommendations: number) {
  const evidence = z
    .array(z.string().max(200).regex(EVIDENCE_RE, 'a path into the facts pack such as figures.winRatePct'))
    .min(1)
    .max(8)
    .describe('paths into the facts pack that support the statement, e.g. "figures.winRatePct" or "divergence.differing[0]"');
  const changes = tunables.map((t) =>
    z.strictObject({
      key: z.literal(t.key),
      value: z.number().min(t.min).max(t.max).describe(`new value: ${t.min} to ${t.max} in steps of ${t.step}`),
    }),
  );
  const change = changes.length === 1 ? changes[0]! : z.discriminatedUnion('key', changes as unknown as [typeof changes[number], typeof changes[number], ...typeof changes]);
  return z.strictObject({
    narrative: z.string().min(20).max(2500).describe('a short review of the period in plain words, figures from the facts pack only'),
    findings: z
      .array(z.strictObject({ title: z.string().min(3).max(160), detail: z.string().max(1000), evidence }))
      .max(8),
    recommendations: z
      .array(
        z.strictObject({
          title: z.string().min(3).max(160),
          rationale: z.string().min(10).max(1500),
          evidence,
          changes: z.array(change).min(1).max(2).describe('one or two config changes, each key at most once'),
        }),
      )
      .max(maxRecommendations),
  });
}
export type ReviewAnswer = z.output<ReturnType<typeof reviewAnswerSchema>>;

/** The forced tool's JSON Schema. */
export function reviewToolJsonSchema(tunables: readonly Tunable[], maxRecommendations: number): Record<string, unknown> {
  const js = z.toJSONSchema(reviewAnswerSchema(tunables, maxRecommendations), { target: 'draft-7' }) as Record<string, unknown>;
  const { $schema: _s, ...rest } = js;
  return rest;
}

/** The value at a facts-pack path, or undefined when it leads nowhere. */
export function resolveEvidence(facts: unknown, path: string): unknown {
  if (!EVIDENCE_RE.test(path)) return undefined;
  let v: unknown = facts;
  for (const m of path.matchAll(/([A-Za-z0-9_]+)|\[(\d+)\]/g)) {
    if (v === null || typeof v !== 'object') return undefined;
    if (m[2] !== undefined) {
      if (!Array.isArray(v)) return undefined;
      v = v[Number(m[2])];
    } else {
      if (!Object.hasOwn(v, m[1]!)) return undefined;
      v = (v as Record<string, unknown>)[m[1]!];
    }
  }
  return v;
}

export type AnswerCheck = { readonly ok: true; readonly answer: ReviewAnswer } | { readonly ok: false; readonly issues: readonly string[] };

/** Validates a raw answer against the schema and the checks of the file comment. */
export function parseReviewAnswer(raw: unknown, ctx: { readonly tunables: readonly Tunable[]; readonly maxRecommendations: number; readonly live: Config; readonly facts: unknown }): AnswerCheck {
  const parsed = reviewAnswerSchema(ctx.tunables, ctx.maxRecommendations).safeParse(raw);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.slice(0, 20).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`) };
  const a = parsed.data;
  const issues: string[] = [];
  const byKey = new Map(ctx.tunables.map((t) => [t.key, t]));
  const checkEvidence = (where: string, ev: readonly string[]) => {
    for (const p of ev) if (resolveEvidence(ctx.facts, p) === undefined) issues.push(`${where}.evidence: "${p}" is not a path in the facts pack`);
  };
  a.findings.forEach((f, i) => checkEvidence(`findings.${i}`, f.evidence));
  a.recommendations.forEach((r, i) => {
    checkEvidence(`recommendations.${i}`, r.evidence);
    const keys = r.changes.map((c) => c.key);
    if (new Set(keys).size !== keys.length) issues.push(`recommendations.${i}.changes: a key appears twice`);
    r.changes.forEach((c, j) => {
      const t = byKey.get(c.key)!;
      if (!onGrid(t, c.value)) issues.push(`recommendations.${i}.changes.${j}.value: ${c.value} is not ${t.min} + a multiple of ${t.step} within ${t.min}..${t.max}`);
      const cur = readKey(ctx.live, c.key);
      if (cur !== undefined && Math.abs(cur - c.value) < 1e-9) issues.push(`recommendations.${i}.changes.${j}.value: ${c.value} is the live value already`);
    });
  });
  return issues.length ? { ok: false, issues } : { ok: true, answer: a };
}
