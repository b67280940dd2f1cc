/** The console's tokens: dashboard links, confirmation buttons, and the webhook's secret header. */
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, deriveKey, hasWebhookSecret, headerValue, MAX_CALLBACK_DATA, signConfirmation, signDashboardToken, verifyConfirmation, verifyDashboardToken } from '../../services/console/signing.js';

const T = Date.UTC(2026, 5, 1, 12, 0, 0);
const linkKey = deriveKey('signing-secret', 'dashboard-link');
const confirmKey = deriveKey('signing-secret', 'confirm');

describe('webhook secret header', () => {
  it('is found whatever the case of its name, compared exactly', () => {
    expect(hasWebhookSecret({ 'x-telegram-bot-api-secret-token': 's3cret' }, 's3cret')).toBe(true);
    expect(hasWebhookSecret({ 'X-Telegram-Bot-Api-Secret-Token': 's3cret' }, 's3cret')).toBe(true);
    expect(hasWebhookSecret({ 'x-telegram-bot-api-secret-token': 's3cre' }, 's3cret')).toBe(false);
    expect(hasWebhookSecret({ 'x-telegram-bot-api-secret-token': 's3cretX' }, 's3cret')).toBe(false);
    expect(hasWebhookSecret({}, 's3cret')).toBe(false);
    expect(hasWebhookSecret(undefined, 's3cret')).toBe(false);
    // An unset secret never matches, not even an empty header.
    expect(hasWebhookSecret({ 'x-telegram-bot-api-secret-token': '' }, '')).toBe(false);
  });
  it('headerValue takes the first of repeated values', () => {
    expect(headerValue({ Host: ['a', 'b'] }, 'host')).toBe('a');
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
  });
});

describe('dashboard links', () => {
  it('verify for their user until they expire, and not after', () => {
    const token = signDashboardToken(linkKey, 123456789, T);
    expect(verifyDashboardToken(linkKey, token, T + 14 * 60_000)).toEqual({ ok: true, userId: 123456789, expiresAt: T + 15 * 60_000 });
    expect(verifyDashboardToken(linkKey, token, T + 15 * 60_000)).toEqual({ ok: false, why: 'expired' });
  });
  it('refuse a changed expiry, another key, another purpose and garbage', () => {
    const token = signDashboardToken(linkKey, 42, T);
    const [exp, user, mac] = token.split('.');
    const later = (parseInt(exp!, 36) + 3600).toString(36);
    expect(verifyDashboardToken(linkKey, `${later}.${user}.${mac}`, T)).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyDashboardToken(deriveKey('other', 'dashboard-link'), token, T)).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyDashboardToken(confirmKey, token, T)).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyDashboardToken(linkKey, 'nope', T)).toEqual({ ok: false, why: 'malformed' });
    expect(verifyDashboardToken(linkKey, undefined, T)).toEqual({ ok: false, why: 'malformed' });
  });
});

describe('confirmation buttons', () => {
  it('fit in 64 bytes with the longest symbol and user id, and round-trip', () => {
    const data = signConfirmation(confirmKey, { action: 'forceexit', arg: 'ABCDEFGHIJKLMNOPQRST', state: 'EMERGENCY_STOP', userId: 9_007_199_254_740_991 }, T);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(MAX_CALLBACK_DATA);
    const r = verifyConfirmation(confirmKey, data, 9_007_199_254_740_991, T + 1000);
    expect(r).toMatchObject({ ok: true, confirmation: { action: 'forceexit', arg: 'ABCDEFGHIJKLMNOPQRST', state: 'EMERGENCY_STOP', expiresAt: T + 120_000 } });
  });
  it('are refused for another user, after two minutes, and when changed', () => {
    const data = signConfirmation(confirmKey, { action: 'resume', arg: '', state: 'PAUSED', userId: 7 }, T);
    expect(verifyConfirmation(confirmKey, data, 8, T)).toEqual({ ok: false, why: 'not yours' });
    expect(verifyConfirmation(confirmKey, data, 7, T + 120_000)).toEqual({ ok: false, why: 'expired' });
    // Claiming it was asked while RUNNING instead of PAUSED breaks the mac.
    expect(verifyConfirmation(confirmKey, data.replace(/^rP/, 'rR'), 7, T)).toEqual({ ok: false, why: 'bad signature' });
    expect(verifyConfirmation(confirmKey, 'x', 7, T)).toEqual({ ok: false, why: 'malformed' });
  });
});
