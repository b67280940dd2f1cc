/** The webhook's shared secret and its answers (services/signals/webhook.ts). */
import { describe, expect, it } from 'vitest';
import type { SignalResult } from '../../services/signals/types.js';
import { handleSignalWebhook, header, secretMatches } from '../../services/signals/webhook.js';

const SECRET = 's3cret-0123456789abcdef';
const accepted: SignalResult = { ok: true, status: 'accepted', traceId: 't1' };

function deps(result: SignalResult = accepted) {
  const seen: unknown[] = [];
  const refused: string[] = [];
  return { seen, refused, d: { secret: SECRET, submit: (s: unknown) => (seen.push(s), Promise.resolve(result)), onUnauthorized: (w: string) => void refused.push(w) } };
}

describe('the shared secret', () => {
  it('matches only the exact secret; empty and missing never match', () => {
    expect(secretMatches(SECRET, SECRET)).toBe(true);
    expect(secretMatches(SECRET, `${SECRET} `)).toBe(false);
    expect(secretMatches(SECRET, SECRET.slice(0, -1))).toBe(false);
    expect(secretMatches(SECRET, '')).toBe(false);
    expect(secretMatches(SECRET, undefined)).toBe(false);
    expect(secretMatches(undefined, SECRET)).toBe(false);
    expect(secretMatches('', '')).toBe(false);
  });

  it('finds a header whatever the case of its name', () => {
    expect(header({ 'X-Signal-Secret': 'a' }, 'x-signal-secret')).toBe('a');
    expect(header({ 'x-signal-secret': ['b', 'c'] }, 'X-SIGNAL-SECRET')).toBe('b');
    expect(header({}, 'x-signal-secret')).toBeUndefined();
  });

  it('accepts it in the header, as a bearer token, or in the body (secret or passphrase), and strips it', async () => {
    const body = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: '1' });
    for (const req of [
      { headers: { 'x-signal-secret': SECRET }, body },
      { headers: { Authorization: `Bearer ${SECRET}` }, body },
      { headers: {}, body: JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: '1', secret: SECRET }) },
      { headers: {}, body: JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: '1', passphrase: SECRET }) },
    ]) {
      const { seen, d } = deps();
      const a = await handleSignalWebhook(req, d);
      expect(a.status).toBe(200);
      expect(seen).toEqual([{ symbol: 'BTCUSDT', side: 'buy', id: '1' }]);
    }
  });

  it('refuses without it (401), and everything when none is configured (503); nothing reaches the intake', async () => {
    const { seen, refused, d } = deps();
    expect((await handleSignalWebhook({ headers: {}, body: '{"symbol":"BTCUSDT"}' }, d)).status).toBe(401);
    expect((await handleSignalWebhook({ headers: { 'x-signal-secret': 'guess' }, body: '{}' }, d)).status).toBe(401);
    expect((await handleSignalWebhook({ headers: { 'x-signal-secret': SECRET }, body: '{}' }, { ...d, secret: undefined })).status).toBe(503);
    expect(seen).toEqual([]);
    expect(refused).toHaveLength(3);
  });

  it('maps decisions to statuses; a body that is not JSON still reaches the router (MALFORMED) when the header authenticates', async () => {
    const refusedAs = (reason: string): SignalResult => ({ ok: false, status: 'refused', traceId: 't', reason });
    const cases: [SignalResult, number][] = [
      [accepted, 200],
      [{ ...accepted, status: 'dry_run' }, 200],
      [refusedAs('MALFORMED'), 400],
      [refusedAs('DUPLICATE'), 409],
      [refusedAs('LOW_CONFIDENCE'), 422],
      [refusedAs('OVERLOADED'), 503],
    ];
    for (const [r, status] of cases) {
      const { seen, d } = deps(r);
      const a = await handleSignalWebhook({ headers: { 'x-signal-secret': SECRET }, body: 'not json' }, d);
      expect(a.status).toBe(status);
      expect(seen).toEqual(['not json']);
    }
    const big = await handleSignalWebhook({ headers: { 'x-signal-secret': SECRET }, body: 'x'.repeat(17 * 1024) }, deps().d);
    expect(big.status).toBe(413);
  });

  it('answers 500 INTERNAL_ERROR, and does not throw, when the intake fails (a rejected promise or a synchronous throw)', async () => {
    const body = JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: '1' });
    const failures: (() => Promise<SignalResult>)[] = [() => Promise.reject(new RangeError('state table unreachable')), () => { throw new TypeError('intake bug'); }];
    for (const submit of failures) {
      const a = await handleSignalWebhook({ headers: { 'x-signal-secret': SECRET }, body }, { secret: SECRET, submit });
      expect(a.status).toBe(500);
      expect(a.body).toMatchObject({ ok: false, reason: 'INTERNAL_ERROR' });
      // The error's name only: its message may carry anything (a path, a request), not for the caller.
      expect(String(a.body.error)).toMatch(/^INTERNAL_ERROR: (RangeError|TypeError)$/);
    }
    const odd = await handleSignalWebhook({ headers: { 'x-signal-secret': SECRET }, body }, { secret: SECRET, submit: () => Promise.reject(new Error('x')) });
    expect(odd.body.error).toBe('INTERNAL_ERROR: Error');
  });
});
