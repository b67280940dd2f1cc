/**
 * Emergency-stop Lambda: on the kill-switch parameter's change event (EventBridge "Parameter Store
 * Change" for KILL_SWITCH_PARAM) and on demand (`{"action": "emergency-stop", "reason": "..."}`).
 * Reads the parameter fresh; when it says EMERGENCY_STOP, runs services/ops/emergencyStop.ts:
 * every symbol's lease first, then cancel every open order and close every position on MEXC.
 *
 * Idempotency (Powertools, DynamoDB): keyed by the EventBridge event id, so a duplicate delivery of
 * one change neither runs twice nor runs concurrently (the second gets the first's result, or fails
 * while the first is in progress). On-demand calls have no id and always run (each run is safe to
 * repeat: it sells what is held now).
 *
 * Environment: see lambdas/README.md.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { KillSwitchSource } from '../../services/control/killSwitch.js';
import type { EventPublisher } from '../../services/events/types.js';
import type { StateStore } from '../../services/state/types.js';
import type { SafeExchangeOptions } from '../../services/execution/safeExchange.js';
import type { SecretSource } from '../../services/ops/secrets.js';
import type { VenueClient } from '../../services/venue/types.js';
import { readSwitch, unknownSwitchAlert } from '../../services/ops/killSwitchEscalation.js';
import { makeAlert, publishAll } from '../../services/ops/alerts.js';
import { runEmergencyStop, summarizeEmergencyStop } from '../../services/ops/emergencyStop.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient, sqsClient, ssmClient } from '../shared/clients.js';
import { observability } from '../shared/powertools.js';
import { eventShape } from '../shared/events.js';
import { CachedSsmKillSwitchSource } from '../shared/killSwitchParam.js';
import { persistenceLayer } from '../shared/idempotency.js';
import { alertPublisher, stateStore } from '../shared/wiring.js';
import { sleep, tradingExchangeFor, venueFactory, type TradingExchange } from '../shared/exchange.js';

export const emergencyStopEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table name'),
  ALERTS_QUEUE_URL: required('alerts SQS queue URL'),
  KILL_SWITCH_PARAM: required('SSM parameter name of the kill switch'),
  MEXC_SECRET_ID: required('Secrets Manager id of the MEXC API key, JSON {"apiKey","apiSecret"}'),
  IDEMPOTENCY_TABLE: z.string().min(1).optional(),
  TRADING_SYMBOLS: listVar,
  MEXC_REST_URL: z.url().optional(),
  LEASE_TTL_SECONDS: intVar(120, 10, 3600),
  LEASE_WAIT_SECONDS: intVar(75, 0, 600),
};
export type EmergencyStopEnv = ReturnType<typeof parseEmergencyStopEnv>;
export const parseEmergencyStopEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(emergencyStopEnv, env, 'emergency-stop');

const ssmChangeEvent = z.looseObject({
  source: z.literal('aws.ssm'),
  id: z.string().min(1),
  time: z.string(),
  detail: z.looseObject({ name: z.string(), operation: z.string().optional() }),
});
const onDemandEvent = z.strictObject({ action: z.literal('emergency-stop'), reason: z.string().max(500).optional() });

/** Thrown for an event that is neither the parameter-change event nor an on-demand request. */
export class EmergencyStopEventError extends Error {
  override readonly name = 'EmergencyStopEventError';
}

/** What the handler needs; tests build these against dynalite and the simulator. */
export interface EmergencyStopHandlerDeps {
  readonly env: EmergencyStopEnv;
  readonly store: StateStore;
  readonly killSwitch: KillSwitchSource;
  readonly alerts: EventPublisher;
  /** The venue with markets loaded (built once per process); each run puts it behind a fresh guard and SafeExchange. */
  readonly venue: () => Promise<VenueClient>;
  /** Options of each run's guard and SafeExchange (tests shorten the backoff). */
  readonly exchangeOptions?: Partial<SafeExchangeOptions>;
  readonly persistence?: DynamoDBPersistenceLayer;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** What the production wiring is built from: the handler's deps, with the MEXC secret's source instead of the venue. */
export interface EmergencyStopPorts extends Omit<EmergencyStopHandlerDeps, 'venue'> {
  readonly secrets: SecretSource;
}

/** The handler's deps from its ports: the venue is built once, from the secret (and MEXC_REST_URL). */
export function emergencyStopDeps(ports: EmergencyStopPorts): EmergencyStopHandlerDeps {
  const { secrets, ...rest } = ports;
  const env = ports.env;
  return { ...rest, venue: venueFactory(secrets, { secretId: env.MEXC_SECRET_ID, ...(env.MEXC_REST_URL ? { restUrl: env.MEXC_REST_URL } : {}) }, (m) => obs.logger.warn(m)) };
}

const obs = observability('emergency-stop');

/** Epoch ms of an EventBridge `time` (ISO, whole seconds), undefined when unparsable. */
function timeOf(iso: string): number | undefined {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** Builds the middy handler over `getDeps` (called per invocation; cache inside it). */
export function createEmergencyStopHandler(getDeps: () => Promise<EmergencyStopHandlerDeps>) {
  let idempotentRun: ((event: { id: string; time: string; name: string }, context: Context) => Promise<Record<string, unknown>>) | undefined;

  async function run(trigger: string, changedAt: number | undefined, context: Context): Promise<Record<string, unknown>> {
    const deps = await getDeps();
    // The venue is warmed while the parameter is read: an emergency must not wait for both in turn.
    const venueP = deps.venue();
    venueP.catch(() => undefined);
    const reading = await readSwitch(deps.killSwitch);
    if (!(reading.kind === 'valid' && reading.state === 'EMERGENCY_STOP')) {
      // A mistyped emergency stop (`emergency_stop`, `EMERGENCY STOP`, empty) must page, not pass quietly.
      const unknown = unknownSwitchAlert('emergency-stop', reading, deps.now(), 'The emergency stop did NOTHING: no order cancelled, no position closed.');
      if (unknown) {
        await publishAll(deps.alerts, [unknown]);
        obs.logger.warn('kill switch holds an unknown value: nothing done, alert sent', { reading });
        return { acted: false, switch: reading.kind, trigger };
      }
      obs.logger.info('kill switch is not EMERGENCY_STOP: nothing to do', { reading });
      return { acted: false, switch: reading.kind === 'valid' ? reading.state : reading.kind, trigger };
    }
    let trading: TradingExchange;
    try {
      trading = tradingExchangeFor(await venueP, deps, deps.exchangeOptions);
    } catch (e) {
      // Nothing can be closed: page at once (the invocation fails too, and Lambda retries it).
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      await publishAll(deps.alerts, [makeAlert('emergency-stop', 'exchange-unavailable', deps.now(), 'critical', 'EMERGENCY STOP CANNOT REACH MEXC: positions not closed', why)]);
      obs.logger.error('emergency stop cannot reach the exchange', { error: why });
      throw e;
    }
    const report = await runEmergencyStop(
      { store: deps.store, killSwitch: deps.killSwitch, alerts: deps.alerts, venue: trading.venue, exchange: trading.exchange, now: deps.now, sleep: deps.sleep },
      {
        owner: `emergency-stop:${context.awsRequestId}`.slice(0, 256),
        symbols: deps.env.TRADING_SYMBOLS,
        leaseTtlMs: deps.env.LEASE_TTL_SECONDS * 1000,
        leaseWaitMs: Math.min(deps.env.LEASE_WAIT_SECONDS * 1000, Math.max(0, context.getRemainingTimeInMillis() - 20_000)),
        trigger,
        ...(changedAt !== undefined ? { changedAt } : {}),
      },
    );
    const summary = summarizeEmergencyStop(report);
    obs.metrics.addMetric('EmergencyStopDuration', MetricUnit.Milliseconds, report.durationMs);
    obs.metrics.addMetric('SymbolsNotFlat', MetricUnit.Count, report.symbols.filter((s) => s.outcome !== 'flattened' && s.outcome !== 'flat_by_holder').length);
    if (report.allFlat) obs.logger.info('emergency stop done', { summary });
    else obs.logger.error('emergency stop left symbols not flat', { summary });
    return summary;
  }

  async function lambdaHandler(event: unknown, context: Context): Promise<Record<string, unknown>> {
    const ssm = ssmChangeEvent.safeParse(event);
    if (ssm.success) {
      const deps = await getDeps();
      if (ssm.data.detail.name !== deps.env.KILL_SWITCH_PARAM) {
        obs.logger.warn('parameter change of another parameter ignored', { name: ssm.data.detail.name });
        return { acted: false, ignored: ssm.data.detail.name };
      }
      const key = { id: ssm.data.id, time: ssm.data.time, name: ssm.data.detail.name };
      if (!deps.persistence) return run(`parameter change ${ssm.data.id}`, timeOf(ssm.data.time), context);
      // Built once per process: everything per event comes from its arguments, never from this closure.
      idempotentRun ??= makeIdempotent((e: { id: string; time: string; name: string }, ctx: Context) => run(`parameter change ${e.id}`, timeOf(e.time), ctx), {
        persistenceStore: deps.persistence,
        config: new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: 600 }),
      });
      return idempotentRun(key, context);
    }
    const manual = onDemandEvent.safeParse(event);
    if (manual.success) return run(`on demand${manual.data.reason ? `: ${manual.data.reason}` : ''}`, undefined, context);
    // Junk (null, a number, an unknown object) is refused without throwing: a throw would count as
    // a failed emergency stop and be retried by EventBridge (lambdas/shared/events.ts).
    const why = new EmergencyStopEventError(`expected an SSM "Parameter Store Change" event or {"action": "emergency-stop"}, got ${eventShape(event)}`);
    obs.logger.warn('event refused', { error: why.message });
    obs.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
    return { acted: false, rejected: why.message };
  }

  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics)).use(captureLambdaHandler(obs.tracer));
}

let defaults: Promise<EmergencyStopHandlerDeps> | undefined;

/** The production wiring, built once per process from process.env. */
function defaultDeps(): Promise<EmergencyStopHandlerDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      const env = parseEmergencyStopEnv(process.env);
      return emergencyStopDeps({
        env,
        store: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger),
        killSwitch: new CachedSsmKillSwitchSource(ssmClient(), env.KILL_SWITCH_PARAM, { fresh: true }),
        alerts: alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL),
        secrets: new SecretsManagerSecretSource(secretsClient()),
        persistence: persistenceLayer(env.IDEMPOTENCY_TABLE ?? env.STATE_TABLE, dynamoClient()),
        now: () => Date.now(),
        sleep,
      });
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createEmergencyStopHandler(defaultDeps);
