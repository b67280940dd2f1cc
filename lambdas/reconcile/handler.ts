/**
 * Reconcile Lambda, every 5 minutes (EventBridge): the exchange against the state for the traded
 * symbols (services/ops/reconcile.ts). It repairs the state only (orders adopted or their status
 * set, missing fills added) and sends an alert for every repair and every holding no position
 * explains; it never trades, so it needs no lease.
 *
 * Environment: see lambdas/README.md.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { symbolId } from '../../services/core/types.js';
import type { EventPublisher } from '../../services/events/types.js';
import type { StateStore } from '../../services/state/types.js';
import type { VenueClient } from '../../services/venue/types.js';
import type { GuardedVenueOptions } from '../../services/execution/guardedVenue.js';
import { reconcileAlerts, reconcileState } from '../../services/ops/reconcile.js';
import { publishAll } from '../../services/ops/alerts.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient, sqsClient } from '../shared/clients.js';
import { observability } from '../shared/powertools.js';
import { alertPublisher, stateStore } from '../shared/wiring.js';
import { guardedVenueFor, sleep, venueFactory } from '../shared/exchange.js';
import { z } from 'zod';

export const reconcileEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table name'),
  ALERTS_QUEUE_URL: required('alerts SQS queue URL'),
  MEXC_SECRET_ID: required('Secrets Manager id of the MEXC API key, JSON {"apiKey","apiSecret"}'),
  TRADING_SYMBOLS: listVar,
  MEXC_REST_URL: z.url().optional(),
  RECONCILE_GRACE_SECONDS: intVar(120, 0, 3600),
  FILL_LOOKBACK_MINUTES: intVar(60, 1, 1440),
};
export type ReconcileEnv = ReturnType<typeof parseReconcileEnv>;
export const parseReconcileEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(reconcileEnv, env, 'reconcile');

/** What the handler needs; tests build these against dynalite and the simulator. */
export interface ReconcileHandlerDeps {
  readonly env: ReconcileEnv;
  readonly store: StateStore;
  readonly alerts: EventPublisher;
  /** The venue with markets loaded (built once per process); each run puts it behind a fresh guard (retries, breakers). */
  readonly venue: () => Promise<VenueClient>;
  /** Options of each run's guard (tests shorten the backoff). */
  readonly guardOptions?: Partial<GuardedVenueOptions>;
  readonly now: () => number;
  /** Sleeps of the guard's backoff (default: real time). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const obs = observability('reconcile');

export function createReconcileHandler(getDeps: () => Promise<ReconcileHandlerDeps>) {
  async function lambdaHandler(_event: unknown, _context: Context): Promise<Record<string, unknown>> {
    const deps = await getDeps();
    const venue = guardedVenueFor(await deps.venue(), { now: deps.now, sleep: deps.sleep ?? sleep }, deps.guardOptions);
    const symbols = deps.env.TRADING_SYMBOLS.map((s) => symbolId(s));
    const report = await reconcileState(
      { symbols, graceMs: deps.env.RECONCILE_GRACE_SECONDS * 1000, fillLookbackMs: deps.env.FILL_LOOKBACK_MINUTES * 60_000 },
      { store: deps.store, venue, now: deps.now },
    );
    const sent = await publishAll(deps.alerts, reconcileAlerts(report, deps.now()));
    obs.metrics.addMetric('ReconcileRepairs', MetricUnit.Count, report.repairs.length);
    obs.metrics.addMetric('ReconcileDrift', MetricUnit.Count, report.drift.length);
    const summary = { ...report, alertsPublished: sent.published, alertFailures: sent.failures };
    if (report.repairs.length > 0 || report.drift.length > 0 || report.problems.length > 0) obs.logger.warn('reconciliation found differences', { summary });
    else obs.logger.info('reconciliation: state and exchange agree', { summary });
    // Nothing could be checked at all: fail the invocation so the Lambda errors alarm sees it.
    if (report.problems.length > 0 && report.problems.length >= report.symbols) throw new Error(`reconcile: every symbol failed: ${report.problems.join('; ')}`);
    return summary;
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics)).use(captureLambdaHandler(obs.tracer));
}

let defaults: Promise<ReconcileHandlerDeps> | undefined;

/** The production wiring, built once per process from process.env. */
function defaultDeps(): Promise<ReconcileHandlerDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      const env = parseReconcileEnv(process.env);
      const venue = venueFactory(new SecretsManagerSecretSource(secretsClient()), { secretId: env.MEXC_SECRET_ID, ...(env.MEXC_REST_URL ? { restUrl: env.MEXC_REST_URL } : {}) }, (m) =>
        obs.logger.warn(m),
      );
      return { env, store: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger), alerts: alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL), venue, now: () => Date.now() };
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createReconcileHandler(defaultDeps);
