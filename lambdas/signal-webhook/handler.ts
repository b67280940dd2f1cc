/**
 * Signal webhook Lambda, behind its Function URL (lib/signalWebhook.ts):
 *
 * - `POST /signals`: the shared secret (services/signals/webhook.ts: header, bearer or body, in
 *   constant time), the body parsed as a signal (a malformed one is refused here, logged, counted
 *   and audited as ORDER_BLOCKED in the state table), then put on the signals queue, which the hot
 *   path consumes and decides on through its kernel (202 `queued`, with the trace id under which
 *   the audit log records the decision);
 * - `/exchange/*` with `Authorization: Bearer <operator token>`: the exchange endpoints
 *   (services/live/exchangeEndpoints.ts) on MEXC with the stage's key. A real test order is placed
 *   only under the symbol's lease (the hot path holds the leases of what it trades, so those are
 *   refused), and only when the stage trades live.
 *
 * Environment: see lambdas/README.md.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { sendSignalMessage } from '../../services/adapters/sqs/sqsSignals.js';
import { parseConfig, PROFILES } from '../../services/config/schema.js';
import { ExchangeEndpoints } from '../../services/live/exchangeEndpoints.js';
import { tryAcquireLease } from '../../services/ops/leaseGuard.js';
import type { AuditEvent } from '../../services/signals/audit.js';
import { parseSignal, signalTraceId } from '../../services/signals/parse.js';
import { SIGNAL_PROFILES } from '../../services/signals/policy.js';
import type { SignalResult } from '../../services/signals/types.js';
import { handleSignalWebhook, header, secretMatches } from '../../services/signals/webhook.js';
import type { StateStore } from '../../services/state/types.js';
import type { VenueOrder, VenueOrderRequest } from '../../services/venue/types.js';
import { dynamoClient, secretsClient, sqsClient } from '../shared/clients.js';
import { commonEnv, parseEnv, required } from '../shared/env.js';
import { functionUrlRequest } from '../shared/events.js';
import { guardedVenueFor, sleep, venueFactory } from '../shared/exchange.js';
import { observability } from '../shared/powertools.js';
import { stateStore } from '../shared/wiring.js';

export const signalWebhookEnv = {
  ...commonEnv,
  SIGNALS_QUEUE_URL: required('SQS queue the hot path takes signals from'),
  SIGNALS_SECRET_ID: required('Secrets Manager id of the webhook secret'),
  OPERATOR_TOKEN_SECRET_ID: required('Secrets Manager id of the operator token of /exchange/*'),
  STATE_TABLE: required('the state table (audit records, leases)'),
  MEXC_SECRET_ID: required('Secrets Manager id of the MEXC key'),
  TRADING_MODE: z.enum(['paper', 'live']).default('paper'),
  RISK_PROFILE: z.enum(PROFILES).default('conservative'),
  MEXC_REST_URL: z.url().optional(),
};
export const parseSignalWebhookEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(signalWebhookEnv, env, 'signal-webhook');

export interface SignalWebhookDeps {
  readonly signalSecret: () => Promise<string>;
  readonly operatorToken: () => Promise<string>;
  readonly send: (body: string) => Promise<void>;
  readonly audit: (e: AuditEvent) => Promise<void>;
  /** The exchange endpoints (built on first use: the MEXC key is read then). */
  readonly endpoints: () => Promise<ExchangeEndpoints>;
  readonly now: () => number;
}

const obs = observability('signal-webhook');

function answer(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode: status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

export function createSignalWebhookHandler(getDeps: () => Promise<SignalWebhookDeps>) {
  async function lambdaHandler(event: APIGatewayProxyEventV2, _context: Context): Promise<APIGatewayProxyStructuredResultV2> {
    // Checked before anything reads it: invoked by hand with `null` or garbage, this is a 400, not a TypeError.
    const req = functionUrlRequest(event);
    if (!req.ok || req.request.method === undefined || req.request.path === undefined) {
      const why = req.ok ? 'no requestContext.http.method or rawPath' : req.why;
      obs.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
      obs.logger.warn('event refused: not a Function URL request', { why });
      return answer(400, { ok: false, error: `bad request: ${why}` });
    }
    const { method, path, body, headers, sourceIp, rawQueryString } = req.request;
    const deps = await getDeps();
    if (method === 'POST' && path === '/signals') {
      const a = await handleSignalWebhook(
        { headers, body },
        {
          secret: await deps.signalSecret(),
          onUnauthorized: (why) => {
            obs.metrics.addMetric('SignalsUnauthorized', MetricUnit.Count, 1);
            obs.logger.warn('signal refused', { why, sourceIp });
          },
          submit: async (signal): Promise<SignalResult> => {
            const now = deps.now();
            const parsed = parseSignal(signal, 'webhook');
            if (!parsed.ok) {
              obs.metrics.addMetric('SignalsMalformed', MetricUnit.Count, 1);
              obs.logger.warn('malformed signal', { detail: parsed.detail });
              const traceId = signalTraceId({ source: 'webhook', id: parsed.id ?? `malformed-${now}` });
              await deps.audit({ type: 'ORDER_BLOCKED', traceId, seq: 1, time: now, channel: 'webhook', source: 'webhook', reason: 'MALFORMED', detail: parsed.detail, ...(parsed.id ? { signalId: parsed.id } : {}) }).catch((e: unknown) =>
                obs.logger.error('audit write failed', { error: e instanceof Error ? e.name : String(e) }),
              );
              return { ok: false, status: 'refused', traceId, reason: 'MALFORMED', error: `MALFORMED: ${parsed.detail}` };
            }
            const s = parsed.signal;
            await deps.send(JSON.stringify(signal));
            obs.metrics.addMetric('SignalsQueued', MetricUnit.Count, 1);
            obs.logger.info('signal queued', { signalId: s.id, source: s.source, symbol: s.symbol, side: s.side });
            return { ok: true, status: 'queued', traceId: signalTraceId(s), signalId: s.id, symbol: s.symbol, side: s.side };
          },
        },
      );
      return answer(a.status, a.body);
    }
    if (path.startsWith('/exchange/')) {
      const auth = header(headers, 'authorization');
      const token = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined;
      if (!secretMatches(await deps.operatorToken(), token)) {
        obs.logger.warn('exchange endpoint refused: no or wrong operator token', { path });
        return answer(403, { ok: false, error: 'the exchange endpoints need the operator token (Authorization: Bearer <token>)' });
      }
      const a = await (await deps.endpoints()).handle(method, path, new URLSearchParams(rawQueryString));
      return answer(a.status, a.body);
    }
    return answer(404, { ok: false, error: `no such endpoint: ${method} ${path}; try POST /signals or /exchange/ping` });
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics));
}

/** A secret read once per process (a rotation reaches new processes). */
function cachedSecret(secrets: SecretsManagerSecretSource, id: string): () => Promise<string> {
  let p: Promise<string> | undefined;
  return () => {
    p ??= secrets.getSecret(id).catch((e: unknown) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

/** A real test order under the symbol's lease, which is given back at once. */
function leasedOrder(store: StateStore, place: (req: VenueOrderRequest) => Promise<VenueOrder>) {
  return async (req: VenueOrderRequest): Promise<VenueOrder | { refused: string }> => {
    const owner = `signal-webhook-${req.clientOrderId}`;
    const lease = await tryAcquireLease(store, req.symbol, owner, 30_000, Date.now());
    if (lease.kind === 'held') return { refused: `the lease on ${req.symbol} is held by ${lease.holder ?? 'another owner'} (the hot path trades it) until ${new Date(lease.expiresAt).toISOString()}` };
    try {
      return await place(req);
    } finally {
      await store.releaseLease(req.symbol, owner).catch(() => undefined);
    }
  };
}

let defaults: Promise<SignalWebhookDeps> | undefined;

function defaultDeps(): Promise<SignalWebhookDeps> {
  // A promise, so a bad environment rejects this invocation (and is retried by the next).
  defaults ??= new Promise<SignalWebhookDeps>((resolve) => resolve(buildDeps()));
  void defaults.catch(() => (defaults = undefined));
  return defaults;
}

function buildDeps(): SignalWebhookDeps {
  const env = parseSignalWebhookEnv(process.env);
  const secrets = new SecretsManagerSecretSource(secretsClient());
  const store = stateStore(dynamoClient(), env.STATE_TABLE, obs.logger);
  const venue = venueFactory(secrets, { secretId: env.MEXC_SECRET_ID, ...(env.MEXC_REST_URL ? { restUrl: env.MEXC_REST_URL } : {}) }, (m) => obs.logger.warn(m));
  const config = parseConfig({ risk: { profile: env.RISK_PROFILE } });
  let endpoints: Promise<ExchangeEndpoints> | undefined;
  return {
    signalSecret: cachedSecret(secrets, env.SIGNALS_SECRET_ID),
    operatorToken: cachedSecret(secrets, env.OPERATOR_TOKEN_SECRET_ID),
    send: (body) => sendSignalMessage(sqsClient(), env.SIGNALS_QUEUE_URL, body),
    audit: async (e) => void (await store.putAuditOnce(e)),
    endpoints: () => {
      endpoints ??= venue().then((v) => {
        const guarded = guardedVenueFor(v, { now: Date.now, sleep });
        return new ExchangeEndpoints({
          venue: guarded,
          signals: config.signals,
          profile: SIGNAL_PROFILES[env.RISK_PROFILE],
          liveTrading: env.TRADING_MODE === 'live',
          // The lease decides: the hot path holds the leases of the symbols it trades.
          traded: () => false,
          placeOrder: leasedOrder(store, (req) => guarded.createOrder(req)),
          now: Date.now,
        });
      });
      void endpoints.catch(() => (endpoints = undefined));
      return endpoints;
    },
    now: Date.now,
  };
}

export const handler = createSignalWebhookHandler(defaultDeps);
