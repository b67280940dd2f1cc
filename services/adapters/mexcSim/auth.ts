/**
 * The simulator's authentication: API keys with MEXC's HMAC-SHA256 request signature and
 * timestamp/recvWindow rule (PROTOCOL.md §1), and the listen keys that open the private WebSocket
 * streams. Auth runs on the wall clock (`now`), never the replay's.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RestError, param, strictUint } from './request.js';

/** MEXC's largest recvWindow. */
const MAX_RECV_WINDOW_MS = 60_000;
const DEFAULT_RECV_WINDOW_MS = 5_000;
/** Listen keys one account may hold at once (MEXC: 60). */
export const MAX_LISTEN_KEYS_PER_ACCOUNT = 60;

/**
 * The signed string: the raw query without its `signature` parameter, then the raw body (without a
 * `signature` parameter there when the signature travels in the body).
 */
export function signedPayload(rawQuery: string, rawBody: string): { payload: string; signature: string | undefined } {
  let signature: string | undefined;
  const strip = (s: string): string =>
    s
      .split('&')
      .filter((part) => {
        if (part.startsWith('signature=')) {
          signature ??= part.slice('signature='.length);
          return false;
        }
        return true;
      })
      .join('&');
  const q = rawQuery ? strip(rawQuery) : '';
  const b = rawBody && !rawBody.trim().startsWith('{') ? strip(rawBody) : rawBody;
  return { payload: q + b, signature };
}

/** API keys, signatures and listen keys of the simulated accounts. The account id is the API key (not a secret). */
export class SimAuth {
  private readonly keys = new Map<string, { account: string; secret: Buffer }>();
  private readonly listenKeys = new Map<string, { account: string; expiresAt: number }>();

  constructor(
    accounts: readonly { readonly apiKey: string; readonly apiSecret: string }[],
    private readonly now: () => number,
    private readonly listenKeyTtlMs: number,
  ) {
    for (const a of accounts) {
      if (!a.apiKey || !a.apiSecret) throw new RangeError('every simulator account needs an apiKey and an apiSecret');
      this.keys.set(a.apiKey, { account: a.apiKey, secret: Buffer.from(a.apiSecret, 'utf8') });
    }
  }

  /**
   * MEXC's signed-request checks: a known key, the HMAC-SHA256 of the raw query (without
   * `signature`) followed by the raw body, recvWindow a whole number at most 60000, and
   * `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`. Returns the account.
   */
  authenticate(headers: IncomingHttpHeaders, rawQuery: string, rawBody: string, params: ReadonlyMap<string, string>): string {
    const header = headers['x-mexc-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    const entry = apiKey ? this.keys.get(apiKey) : undefined;
    if (!entry) throw new RestError(400, 700001, 'API-key format invalid.');
    const { payload, signature } = signedPayload(rawQuery, rawBody);
    const expected = createHmac('sha256', entry.secret).update(payload).digest('hex');
    if (!signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      throw new RestError(400, 700002, 'Signature for this request is not valid.');
    }
    // Plain digits only: `0xEA60` or `6e4` are not what MEXC takes, and neither is `1.7e12` as a timestamp.
    const recvWindow = params.has('recvWindow') ? strictUint(params.get('recvWindow')) : DEFAULT_RECV_WINDOW_MS;
    if (recvWindow === undefined) throw param('recvWindow');
    if (recvWindow > MAX_RECV_WINDOW_MS) throw new RestError(400, 700005, 'recvWindow must less than 60000');
    const ts = strictUint(params.get('timestamp'));
    if (ts === undefined) throw param('timestamp');
    const serverTime = this.now();
    if (!(ts < serverTime + 1000 && serverTime - ts <= recvWindow)) throw new RestError(400, 700003, 'Timestamp for this request is outside of the recvWindow.');
    return entry.account;
  }

  /** A new listen key for the account (730001 past MAX_LISTEN_KEYS_PER_ACCOUNT). */
  createListenKey(account: string): string {
    let mine = 0;
    for (const v of this.listenKeys.values()) if (v.account === account) mine++;
    if (mine >= MAX_LISTEN_KEYS_PER_ACCOUNT) throw new RestError(400, 730001, `too many listen keys (at most ${MAX_LISTEN_KEYS_PER_ACCOUNT} per account)`);
    const lk = randomBytes(32).toString('hex');
    this.listenKeys.set(lk, { account, expiresAt: this.now() + this.listenKeyTtlMs });
    return lk;
  }

  /** Extends (PUT) or deletes (DELETE) one of the account's live listen keys; 730002 otherwise. */
  updateListenKey(account: string, lk: string, action: 'extend' | 'delete'): void {
    const entry = this.listenKeys.get(lk);
    if (!entry || entry.account !== account || entry.expiresAt <= this.now()) throw new RestError(400, 730002, 'Invalid listen key');
    if (action === 'extend') entry.expiresAt = this.now() + this.listenKeyTtlMs;
    else this.listenKeys.delete(lk);
  }

  /** The account's live listen keys. */
  listenKeysOf(account: string): string[] {
    const wall = this.now();
    return [...this.listenKeys.entries()].filter(([, v]) => v.account === account && v.expiresAt > wall).map(([k]) => k);
  }

  /** The account a live listen key belongs to; undefined for an unknown or expired key. */
  accountOfListenKey(lk: string): string | undefined {
    const entry = this.listenKeys.get(lk);
    return entry && entry.expiresAt > this.now() ? entry.account : undefined;
  }

  /** Forgets the expired listen keys; returns them (their connections are to be closed). */
  sweepExpired(): string[] {
    const wall = this.now();
    const gone: string[] = [];
    for (const [k, v] of this.listenKeys) {
      if (v.expiresAt > wall) continue;
      this.listenKeys.delete(k);
      gone.push(k);
    }
    return gone;
  }

  get listenKeyCount(): number {
    return this.listenKeys.size;
  }
}
