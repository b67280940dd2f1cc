/**
 * The operator console's records in the state table (see README.md for their keys):
 *
 * - the status snapshot: the hot path's dashboard document, written every `snapshotEverySec`,
 *   which the Telegram and dashboard Lambdas read (they cannot ask the task: it has no inbound
 *   network). One item, last writer wins; bounded in size.
 * - the command log: every Telegram command, who sent it, what it was and the result; written once
 *   per update, listed by UTC day.
 */
import { z } from 'zod';

/** Largest snapshot document, as JSON characters (DynamoDB's item limit is 400 KB). */
export const MAX_SNAPSHOT_CHARS = 300_000;

export interface StatusSnapshotRecord {
  /** The runtime that wrote it. */
  readonly owner: string;
  /** Wall-clock epoch ms of the write: how fresh the figures are. */
  readonly at: number;
  /** The dashboard document (services/console/dashboardData.ts), as plain JSON. */
  readonly data: Readonly<Record<string, unknown>>;
}

export const statusSnapshotSchema = z.object({
  owner: z.string().min(1).max(256),
  at: z.number().int().min(0),
  data: z.record(z.string(), z.unknown()).refine((d) => JSON.stringify(d).length <= MAX_SNAPSHOT_CHARS, `the snapshot must be at most ${MAX_SNAPSHOT_CHARS} characters of JSON`),
}) satisfies z.ZodType<StatusSnapshotRecord, unknown>;

export interface CommandLogRecord {
  /** `<channel>:<update id>`, e.g. `telegram:123456`: the same update is logged once. */
  readonly id: string;
  readonly at: number;
  /** The sender's Telegram user id and name (public identifiers, not secrets). */
  readonly userId: string;
  readonly user: string;
  readonly role: 'viewer' | 'operator' | 'none';
  /** The command and its arguments (a one-time code is never logged: it is masked). */
  readonly command: string;
  /** What happened, in one line. */
  readonly result: string;
}

export const commandLogSchema = z.object({
  id: z.string().regex(/^[a-z]+:[A-Za-z0-9:_.-]{1,120}$/, 'expected <channel>:<id>'),
  at: z.number().int().min(0),
  userId: z.string().min(1).max(32),
  user: z.string().max(128),
  role: z.enum(['viewer', 'operator', 'none']),
  command: z.string().min(1).max(256),
  result: z.string().max(1024),
}) satisfies z.ZodType<CommandLogRecord, unknown>;

/**
 * The latest published report or review of a period (`publication`): one item per kind and
 * period (daily, weekly, monthly), overwritten by the next, so the dashboard lists the latest six
 * with one query. The page itself is in the artifact store under `path`.
 */
export interface PublicationRecord {
  readonly kind: 'report' | 'review';
  readonly period: 'daily' | 'weekly' | 'monthly';
  /** The period's key (its first day, yyyy-mm-dd). */
  readonly key: string;
  /** For people: "2026-06-10 (UTC day)". */
  readonly label: string;
  /** Epoch ms it was generated (wall clock). */
  readonly at: number;
  /** The headline figures, one line (net PnL, trades, win rate; a review's reviewer and recommendations). */
  readonly headline: string;
  /** The page's key in the artifact store (reports/<period>/<key>.html, reviews/<period>/<key>/review.html). */
  readonly path: string;
}

export const publicationSchema = z.object({
  kind: z.enum(['report', 'review']),
  period: z.enum(['daily', 'weekly', 'monthly']),
  key: z.string().min(1).max(40),
  label: z.string().max(200),
  at: z.number().int().min(0),
  headline: z.string().max(500),
  path: z.string().min(1).max(300),
}) satisfies z.ZodType<PublicationRecord, unknown>;
