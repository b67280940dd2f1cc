/**
 * `POST /signals`: the webhook in front of the signal intake, shared by the local status server
 * and the AWS Function URL Lambda, as a pure request -> answer function.
 *
 * Authentication: a shared secret, in the `x-signal-secret` header, as `Authorization: Bearer
 * <secret>`, or in the body as `secret` (or `passphrase`): a charting tool's alert can set only
 * the body. Header names are matched case-insensitively (Node and Function URLs lower-case them).
 * The comparison is constant-time (sha256 of both sides, then timingSafeEqual), so its duration
 * does not tell how much of a guess was right. Without a configured secret every request is
 * refused: an unauthenticated webhook would let anyone trade the account.
 *
 * The secret is removed from the body before anything else sees it (the router, the audit log, a
 * log line). A request without a valid secret is refused with 401 before its body is read as a
 * signal; it is counted and logged by the caller (`onUnauthorized`), with no content of the request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MAX_SIGNAL_BYTES } from './parse.js';
import type { SignalResult } from './types.js';

/** The header that carries the secret (lower-case: how Node and Function URLs present it). */
export const SECRET_HEADER = 'x-signal-secret';
/** Body fields that may carry the secret. */
const SECRET_FIELDS = ['secret', 'passphrase'] as const;

export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: string;
}

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Whether `given` equals `expected`, in constant time; false when either is missing or empty. */
export function secretMatches(expected: string | undefined, given: string | undefined): boolean {
  if (!expected || !given) return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The value of a header, whatever the case of its name (the first value of a repeated header). */
export function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== wanted || v === undefined) continue;
    return typeof v === 'string' ? v : v[0];
  }
  return undefined;
}

/** The secret a request presents: the header, the bearer token, or the body field. */
function presented(req: WebhookRequest, body: Record<string, unknown> | undefined): string | undefined {
  const h = header(req.headers, SECRET_HEADER);
  if (h) return h;
  const auth = header(req.headers, 'authorization');
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim()) : null;
  if (m) return m[1];
  for (const f of SECRET_FIELDS) {
    const v = body?.[f];
    if (typeof v === 'string' && v) return v;
  }
  return undefined;
}

export interface WebhookDeps {
  /** The configured shared secret (undefined: not configured, every request refused). */
  readonly secret: string | undefined;
  /** Hands the signal (the body without its secret) to the intake. */
  readonly submit: (signal: unknown) => Promise<SignalResult>;
  /** A refused request (no or wrong secret), for the counters and one log line. */
  readonly onUnauthorized?: (why: string) => void;
}

/** HTTP status of a router answer: 200 when sent or dry-run, 202 queued, 400 malformed, 409 duplicate, 422 other refusals. */
function statusOf(r: SignalResult): number {
  if (r.ok) return r.status === 'queued' ? 202 : 200;
  if (r.reason === 'MALFORMED') return 400;
  if (r.reason === 'DUPLICATE') return 409;
  if (r.reason === 'OVERLOADED') return 503;
  return 422;
}

/** Handles one `POST /signals` request; never throws. */
export async function handleSignalWebhook(req: WebhookRequest, deps: WebhookDeps): Promise<WebhookAnswer> {
  if (Buffer.byteLength(req.body, 'utf8') > MAX_SIGNAL_BYTES) return { status: 413, body: { ok: false, error: `body larger than ${MAX_SIGNAL_BYTES} bytes` } };
  let decoded: unknown;
  let isObject = false;
  try {
    decoded = JSON.parse(req.body);
    isObject = typeof decoded === 'object' && decoded !== null && !Array.isArray(decoded);
  } catch {
    decoded = undefined;
  }
  const body = isObject ? (decoded as Record<string, unknown>) : undefined;
  if (!deps.secret) {
    deps.onUnauthorized?.('no signal secret is configured');
    return { status: 503, body: { ok: false, reason: 'UNAUTHORIZED', error: 'UNAUTHORIZED: no signal secret is configured on this server; signals are refused' } };
  }
  if (!secretMatches(deps.secret, presented(req, body))) {
    deps.onUnauthorized?.('missing or wrong secret');
    return { status: 401, body: { ok: false, reason: 'UNAUTHORIZED', error: 'UNAUTHORIZED: missing or wrong secret' } };
  }
  let signal: unknown = req.body;
  if (body) {
    const clean: Record<string, unknown> = { ...body };
    for (const f of SECRET_FIELDS) delete clean[f];
    signal = clean;
  }
  try {
    const r = await deps.submit(signal);
    return { status: statusOf(r), body: { ...r } };
  } catch (e) {
    return { status: 500, body: { ok: false, reason: 'INTERNAL_ERROR', error: `INTERNAL_ERROR: ${e instanceof Error ? e.name : 'error'}` } };
  }
}
