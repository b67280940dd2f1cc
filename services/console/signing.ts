/**
 * The console's HMAC tokens, and the constant-time check of Telegram's webhook secret.
 *
 * - Dashboard links: `/dashboard` in Telegram hands an allowlisted operator a URL carrying
 *   `<expiry>.<user>.<mac>`; the dashboard Lambda serves the page and its data only while the mac
 *   verifies and the expiry is ahead. No cookie, no session: the link is the credential, short-lived.
 * - Confirmation buttons: the button's callback data carries the action, its argument, the kill
 *   switch state it was asked in, its expiry, the asking user and a mac, in at most Telegram's 64
 *   bytes, so the webhook Lambda needs no state between the command and the tap.
 *
 * Keys are derived per purpose from one secret (HMAC(secret, purpose)), so a token of one kind
 * never verifies as another. Every comparison of a mac or a secret is constant-time.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A key for one purpose, derived from a secret. */
export function deriveKey(secret: string | Uint8Array, purpose: 'dashboard-link' | 'confirm'): Buffer {
  return createHmac('sha256', secret).update(`mexc-sr-scalper:${purpose}`).digest();
}

function mac(key: Uint8Array, payload: string, chars: number): string {
  return createHmac('sha256', key).update(payload).digest('base64url').slice(0, chars);
}

/**
 * Whether `given` equals `expected`, in time that does not depend on where they differ (both are
 * hashed first, so their lengths do not leak either).
 */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** A header's value whatever the case of its name (Lambda Function URLs lower-case them; others may not). */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === want) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

/** Telegram's webhook secret header. */
export const TELEGRAM_SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token';

/** Whether a request carries the webhook's secret token (constant-time; false when missing). */
export function hasWebhookSecret(headers: Readonly<Record<string, string | string[] | undefined>> | undefined, secret: string): boolean {
  const given = headerValue(headers, TELEGRAM_SECRET_HEADER);
  // Compared even when missing, so a missing header takes as long as a wrong one.
  const ok = constantTimeEqual(given ?? '', secret);
  return given !== undefined && secret.length > 0 && ok;
}

// -- dashboard links ---------------------------------------------------------------------------

/** How long a dashboard link opens the page (15 minutes). */
export const LINK_TTL_MS = 15 * 60_000;

/** A dashboard link's token for `userId`, valid until now + ttl. */
export function signDashboardToken(key: Uint8Array, userId: number, now: number, ttlMs = LINK_TTL_MS): string {
  const payload = `${Math.floor((now + ttlMs) / 1000).toString(36)}.${userId.toString(36)}`;
  return `${payload}.${mac(key, `link:${payload}`, 22)}`;
}

export type TokenCheck = { ok: true; userId: number; expiresAt: number } | { ok: false; why: 'malformed' | 'bad signature' | 'expired' };

/** Verifies a dashboard token at `now`. */
export function verifyDashboardToken(key: Uint8Array, token: string | undefined, now: number): TokenCheck {
  const m = /^([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(token ?? '');
  if (!m) return { ok: false, why: 'malformed' };
  const payload = `${m[1]}.${m[2]}`;
  if (!constantTimeEqual(m[3]!, mac(key, `link:${payload}`, 22))) return { ok: false, why: 'bad signature' };
  const expiresAt = parseInt(m[1]!, 36) * 1000;
  if (now >= expiresAt) return { ok: false, why: 'expired' };
  return { ok: true, userId: parseInt(m[2]!, 36), expiresAt };
}

// -- confirmation buttons ----------------------------------------------------------------------

/** The actions a button confirms. */
export type ConfirmAction = 'pause' | 'emergency_stop' | 'forceexit' | 'resume';
const ACTION_CODE: Readonly<Record<ConfirmAction, string>> = { pause: 'p', emergency_stop: 'e', forceexit: 'f', resume: 'r' };
const CODE_ACTION: Readonly<Record<string, ConfirmAction>> = { p: 'pause', e: 'emergency_stop', f: 'forceexit', r: 'resume' };
const STATE_CODE: Readonly<Record<string, string>> = { RUNNING: 'R', PAUSED: 'P', EMERGENCY_STOP: 'E' };
const CODE_STATE: Readonly<Record<string, string>> = { R: 'RUNNING', P: 'PAUSED', E: 'EMERGENCY_STOP' };

/** How long a confirmation button works (2 minutes). */
export const CONFIRM_TTL_MS = 2 * 60_000;
/** Telegram's limit on callback data, in bytes. */
export const MAX_CALLBACK_DATA = 64;

export interface Confirmation {
  readonly action: ConfirmAction;
  /** The symbol of a force exit; empty otherwise. */
  readonly arg: string;
  /** The kill switch's state when it was asked; the tap is refused if it has changed since. */
  readonly state: string;
  readonly userId: number;
  readonly expiresAt: number;
  /** The token's mac: unique per confirmation, the key that makes a tap count once. */
  readonly nonce: string;
}

/** The callback data of a confirmation button (at most 64 bytes). */
export function signConfirmation(key: Uint8Array, c: Omit<Confirmation, 'expiresAt' | 'nonce'>, now: number, ttlMs = CONFIRM_TTL_MS): string {
  if (!/^[A-Z0-9]{0,20}$/.test(c.arg)) throw new RangeError('a confirmation argument is an upper-case symbol');
  const payload = `${ACTION_CODE[c.action]}${STATE_CODE[c.state] ?? '-'}.${c.arg}.${Math.floor((now + ttlMs) / 1000).toString(36)}.${c.userId.toString(36)}`;
  const data = `${payload}.${mac(key, `confirm:${payload}`, 16)}`;
  if (Buffer.byteLength(data) > MAX_CALLBACK_DATA) throw new RangeError(`callback data of ${Buffer.byteLength(data)} bytes is over Telegram's ${MAX_CALLBACK_DATA}`);
  return data;
}

export type ConfirmationCheck = { ok: true; confirmation: Confirmation } | { ok: false; why: 'malformed' | 'bad signature' | 'expired' | 'not yours' };

/** Verifies a tapped button's data for the tapping user at `now`. */
export function verifyConfirmation(key: Uint8Array, data: string, tappingUserId: number, now: number): ConfirmationCheck {
  const m = /^([pefr])([RPE-])\.([A-Z0-9]{0,20})\.([0-9a-z]{1,12})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{16})$/.exec(data);
  if (!m) return { ok: false, why: 'malformed' };
  const payload = `${m[1]}${m[2]}.${m[3]}.${m[4]}.${m[5]}`;
  if (!constantTimeEqual(m[6]!, mac(key, `confirm:${payload}`, 16))) return { ok: false, why: 'bad signature' };
  const expiresAt = parseInt(m[4]!, 36) * 1000;
  const userId = parseInt(m[5]!, 36);
  if (now >= expiresAt) return { ok: false, why: 'expired' };
  if (userId !== tappingUserId) return { ok: false, why: 'not yours' };
  return { ok: true, confirmation: { action: CODE_ACTION[m[1]!]!, arg: m[3]!, state: CODE_STATE[m[2]!] ?? '-', userId, expiresAt, nonce: m[6]! } };
}
