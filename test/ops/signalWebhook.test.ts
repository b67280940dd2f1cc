/** The signal webhook Lambda's handler with injected dependencies (no AWS): what it queues, refuses and audits. */
import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createSignalWebhookHandler, type SignalWebhookDeps } from '../../lambdas/signal-webhook/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { ExchangeEndpoints } from '../../services/live/exchangeEndpoints.js';
import { parseConfig } from '../../services/config/schema.js';
import type { AuditEvent } from '../../services/signals/audit.js';
import { signalTraceId } from '../../services/signals/parse.js';
import { SIGNAL_PROFILES } from '../../services/signals/policy.js';

const SECRET = 'webhook-secret-0123456789';
const TOKEN = 'operator-token-0123456789';
const BTC = symbolId('BTCUSDT');

function rig() {
  const sent: string[] = [];
  const audited: AuditEvent[] = [];
  const market = { symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: Dec.from('0.01'), stepSize: Dec.from('0.001'), minNotional: Dec.from(1), minQuantity: Dec.from('0.001'), tradable: true, makerFeePct: 0, takerFeePct: 0.05 };
  const venue = {
    name: 'fake',
    loadMarkets: () => Promise.resolve(new Map([[BTC, market]])),
    market: () => market,
    fetchBalances: () => Promise.resolve([]),
    fetchTickers24h: () => Promise.resolve([]),
    fetchBookTop: () => Promise.resolve({ time: 0, bid: 99, bidSize: 1, ask: 100, askSize: 1 }),
  };
  const endpoints = new ExchangeEndpoints({ venue, signals: parseConfig({}).signals, profile: SIGNAL_PROFILES.conservative, liveTrading: false, traded: () => false, now: () => 0 });
  const deps: SignalWebhookDeps = {
    signalSecret: () => Promise.resolve(SECRET),
    operatorToken: () => Promise.resolve(TOKEN),
    send: (b) => (sent.push(b), Promise.resolve()),
    audit: (e) => (audited.push(e), Promise.resolve()),
    endpoints: () => Promise.resolve(endpoints),
    now: () => 1_700_000_000_000,
  };
  const handler = createSignalWebhookHandler(() => Promise.resolve(deps));
  const call = async (method: string, rawPath: string, body: string | undefined, headers: Record<string, string> = {}, rawQueryString = '') => {
    const event = { rawPath, rawQueryString, headers, body, isBase64Encoded: false, requestContext: { http: { method, sourceIp: '203.0.113.9' } } } as unknown as APIGatewayProxyEventV2;
    const r = (await handler(event, localContext('signal-webhook', 'req-1'))) as { statusCode: number; body: string };
    return { status: r.statusCode, body: JSON.parse(r.body) as Record<string, unknown> };
  };
  return { sent, audited, call };
}

describe('signal webhook Lambda', () => {
  it('queues an authenticated signal without its secret, under the trace id the hot path audits it by', async () => {
    const { sent, call } = rig();
    const r = await call('POST', '/signals', JSON.stringify({ symbol: 'BTC/USDT', side: 'buy', id: 'tv-1', source: 'tradingview', secret: SECRET }));
    expect(r).toMatchObject({ status: 202, body: { ok: true, status: 'queued', signalId: 'tv-1', traceId: signalTraceId({ source: 'tradingview', id: 'tv-1' }) } });
    expect(sent.map((b) => JSON.parse(b) as unknown)).toEqual([{ symbol: 'BTC/USDT', side: 'buy', id: 'tv-1', source: 'tradingview' }]);
  });

  it('refuses a wrong secret (401) and a malformed signal (400, audited as ORDER_BLOCKED); neither is queued', async () => {
    const { sent, audited, call } = rig();
    expect((await call('POST', '/signals', JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: 'x' }), { 'x-signal-secret': 'nope' })).status).toBe(401);
    const bad = await call('POST', '/signals', JSON.stringify({ symbol: 'BTCUSDT', side: 'hold', id: 'x2' }), { 'x-signal-secret': SECRET });
    expect(bad).toMatchObject({ status: 400, body: { ok: false, reason: 'MALFORMED' } });
    expect(sent).toEqual([]);
    expect(audited).toMatchObject([{ type: 'ORDER_BLOCKED', reason: 'MALFORMED', signalId: 'x2', channel: 'webhook' }]);
    expect(JSON.stringify(audited)).not.toContain(SECRET);
  });

  it('serves the exchange endpoints only with the operator token', async () => {
    const { call } = rig();
    expect((await call('GET', '/exchange/ping', undefined)).status).toBe(403);
    expect((await call('GET', '/exchange/ping', undefined, { authorization: `Bearer ${SECRET}` })).status).toBe(403);
    expect(await call('GET', '/exchange/ping', undefined, { authorization: `Bearer ${TOKEN}` })).toMatchObject({ status: 200, body: { ok: true, markets: 1 } });
    const dry = await call('POST', '/exchange/test-order', undefined, { authorization: `Bearer ${TOKEN}` }, 'symbol=BTCUSDT&side=buy&notional_usd=25');
    // 25 / ask 100 = 0.25 BTC.
    expect(dry).toMatchObject({ status: 200, body: { ok: true, dryRun: true, wouldSend: { quantity: '0.25', notional: '25' } } });
    expect((await call('GET', '/nothing', undefined)).status).toBe(404);
  });
});
