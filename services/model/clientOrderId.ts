/**
 * Deterministic client order ids. A client order id is the id we give an order ourselves (MEXC's
 * `newClientOrderId`); lookups and cancels can use it before the venue's own id is known, and since
 * it is a function of the intent, a retried intent maps to the same order instead of a second one.
 *
 * Format (the executor's convention): the intent id followed by a role suffix: `E` for the entry
 * (`E<n>` for entry attempt n > 1), `T<n>` for scale-out target n, `X<n>` for exit attempt n.
 *
 * MEXC documents no length or charset rule for client ids; hummingbot caps them at 32 characters
 * (PROTOCOL.md §1.4), so ids here are at most 32 characters of [A-Za-z0-9_-]. When the natural id
 * would break either rule, it becomes `<readable prefix>_<16 hex of sha256(intent id)><suffix>`: the
 * hash keeps different intents apart (64 bits), the prefix keeps logs readable. Natural ids are only
 * used for intent ids without `_`, and hashed ids always contain `_`, so the two forms never collide.
 */
import { createHash } from 'node:crypto';
import { DataValidationError } from '../core/errors.js';

/** MEXC's practical limit (hummingbot's cap; PROTOCOL.md §1.4). */
export const MAX_CLIENT_ORDER_ID_LENGTH = 32;
/** Hex characters of the sha256 kept in a hashed id (64 bits). */
export const CLIENT_ID_HASH_CHARS = 16;
/** Largest attempt/target number: keeps the suffix at most 7 characters. */
export const MAX_ORDER_ATTEMPT = 999_999;

import type { OrderRole } from './orders.js';
export type { OrderRole } from './orders.js';

const ROLE_LETTER: Record<OrderRole, string> = { entry: 'E', target: 'T', exit: 'X' };
const LETTER_ROLE: Record<string, OrderRole> = { E: 'entry', T: 'target', X: 'exit' };
const NATURAL_RE = /^[A-Za-z0-9-]+$/;
const SUFFIX_RE = /([ETX])(\d*)$/;
const HASHED_RE = /^[A-Za-z0-9]*_[0-9a-f]{16}[ETX]\d*$/;

function suffix(role: OrderRole, attempt: number): string {
  if (!Number.isSafeInteger(attempt) || attempt < 1 || attempt > MAX_ORDER_ATTEMPT) {
    throw new DataValidationError(`clientOrderId: attempt must be an integer in [1, ${MAX_ORDER_ATTEMPT}], got ${attempt}`);
  }
  // The entry's first attempt is a bare `E`, as the executor has always named it.
  return role === 'entry' && attempt === 1 ? 'E' : `${ROLE_LETTER[role]}${attempt}`;
}

/**
 * The client order id for an intent's order in a role (`attempt` is the attempt number for entries
 * and exits, the target number for targets; 1-based). Same input, same id. At most 32 characters of
 * [A-Za-z0-9_-]. Throws DataValidationError for an empty intent id or an attempt out of range.
 */
export function clientOrderId(intentId: string, role: OrderRole, attempt: number): string {
  if (intentId.length === 0) throw new DataValidationError('clientOrderId: intent id must not be empty');
  const sfx = suffix(role, attempt);
  const natural = intentId + sfx;
  if (natural.length <= MAX_CLIENT_ORDER_ID_LENGTH && NATURAL_RE.test(intentId)) return natural;
  const hash = createHash('sha256').update(intentId, 'utf8').digest('hex').slice(0, CLIENT_ID_HASH_CHARS);
  const room = MAX_CLIENT_ORDER_ID_LENGTH - 1 - CLIENT_ID_HASH_CHARS - sfx.length;
  const prefix = intentId.replace(/[^A-Za-z0-9]/g, '').slice(0, room);
  return `${prefix}_${hash}${sfx}`;
}

/** What a client order id says about its order. `intentId` is known only for natural (unhashed) ids. */
export interface ParsedClientOrderId {
  readonly role: OrderRole;
  readonly attempt: number;
  readonly intentId?: string;
}

/**
 * Reads the role and attempt back from an id made by `clientOrderId`, and the intent id when the id
 * was not hashed. Returns undefined for ids that do not have that shape (another actor's orders).
 */
export function parseClientOrderId(id: string): ParsedClientOrderId | undefined {
  if (id.length === 0 || id.length > MAX_CLIENT_ORDER_ID_LENGTH) return undefined;
  const hashed = id.includes('_');
  if (hashed ? !HASHED_RE.test(id) : !NATURAL_RE.test(id)) return undefined;
  const m = SUFFIX_RE.exec(id);
  if (!m) return undefined;
  const [whole, letter = '', digits = ''] = m;
  const role = LETTER_ROLE[letter];
  if (!role) return undefined;
  // `E` alone is entry attempt 1; `E1` is never produced, nor `T`/`X` without a number.
  if (digits === '' ? role !== 'entry' : digits.startsWith('0') || (role === 'entry' && digits === '1')) return undefined;
  const attempt = digits === '' ? 1 : Number(digits);
  if (attempt > MAX_ORDER_ATTEMPT) return undefined;
  const rest = id.slice(0, id.length - whole.length);
  if (rest.length === 0) return undefined;
  return hashed ? { role, attempt } : { role, attempt, intentId: rest };
}
