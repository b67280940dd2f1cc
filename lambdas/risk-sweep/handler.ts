/**
 * Risk-sweep Lambda (EventBridge schedule, every minute): services/ops/riskSweep.ts, then, while the
 * switch says EMERGENCY_STOP, the emergency stop again (services/ops/emergencyStop.ts) for whatever
 * is still open: a symbol deferred to a hot path that died meanwhile is taken over once its lease
 * has expired. The event's content is not used.
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
import { parseConfig, MODES, PROFILES } from '../../services/config/schema.js';
import type { KillSwitchSource } from '../../services/control/killSwitch.js';
import type { EventPublisher } from '../../services/events/types.js';
import type { StateStore } from '../../services/state/types.js';
import type { SafeExchangeOptions } from '../../services/execution/safeExchange.js';
import type { SecretSource } from '../../services/ops/secrets.js';
import type { VenueClient } from '../../services/venue/types.js';
import { riskSweepLimits, runRiskSweep, type RiskSweepLimits } from '../../services/ops/riskSweep.js';
import { runEmergencyStop, summarizeEmergencyStop } from '../../services/ops/emergencyStop.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient, sqsClient, ssmClient } from '../shared/clients.js';
import { observability } from '../shared/powertools.js';
import { CachedSsmKillSwitchSource } from '../shared/killSwitchParam.js';
import { alertPublisher, stateStore } from '../shared/wiring.js';
import { sleep, tradingExchangeFor, venueFactory, type TradingExchange } from '../shared/exchange.js';

export const riskSweepEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table name'),
  ALERTS_QUEUE_URL: required('alerts SQS queue URL'),
  KILL_SWITCH_PARAM: required('SSM parameter name of the kill switch'),
  /** Without it the sweep reports over-age positions but cannot close them. */
  MEXC_SECRET_ID: z.string().min(1).optional(),
  MEXC_REST_URL: z.url().optional(),
  STRATEGY_MODE: z.enum(MODES).default('standard'),
  RISK_PROFILE: z.enum(PROFILES).default('conservative'),
  /** Optional JSON of the config's `risk` section (services/config/schema.ts), validated by parseConfig. */
  RISK_CONFIG_JSON: z.string().optional(),
  MAX_POSITION_AGE_MINUTES: z.coerce.number().int().min(1).max(10_080).optional(),
  STALE_HEARTBEAT_SECONDS: intVar(90, 10, 3600),
  HOT_PATH_OWNERS: listVar,
  TRADING_SYMBOLS: listVar,
  LEASE_TTL_SECONDS: intVar(120, 10, 3600),
};
export type RiskSweepEnv = ReturnType<typeof parseRiskSweepEnv>;
export const parseRiskSweepEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(riskSweepEnv, env, 'risk-sweep');

/** The sweep's limits from the environment: the project config (mode, profile, risk section) plus the overrides. */
export function limitsFromEnv(env: RiskSweepEnv): RiskSweepLimits {
  let risk: unknown = {};
  if (env.RISK_CONFIG_JSON) {
    try {
      risk = JSON.parse(env.RISK_CONFIG_JSON);
    } catch (e) {
      throw new Error(`risk-sweep: RISK_CONFIG_JSON is not JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  const config = parseConfig({ mode: env.STRATEGY_MODE, risk: { ...(risk as object), profile: env.RISK_PROFILE } }, 'RISK_CONFIG_JSON');
  return riskSweepLimits(config, {
    staleHeartbeatMs: env.STALE_HEARTBEAT_SECONDS * 1000,
    ...(env.MAX_POSITION_AGE_MINUTES !== undefined ? { maxPositionAgeMs: env.MAX_POSITION_AGE_MINUTES * 60_000 } : {}),
  });
}

export interface RiskSweepHandlerDeps {
  readonly env: RiskSweepEnv;
  readonly limits: RiskSweepLimits;
  readonly store: StateStore;
  readonly killSwitch: KillSwitchSource;
  readonly alerts: EventPublisher;
  /**
   * The venue with markets loaded (built once per process, and only when needed); each run puts it
   * behind a fresh guard and SafeExchange. Undefined without MEXC credentials.
   */
  readonly venue?: () => Promise<VenueClient>;
  /** Options of each run's guard and SafeExchange (tests shorten the backoff). */
  readonly exchangeOptions?: Partial<SafeExchangeOptions>;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** What the production wiring is built from: the handler's deps, with the MEXC secret's source instead of the venue. */
export interface RiskSweepPorts extends Omit<RiskSweepHandlerDeps, 'venue' | 'limits'> {
  /** Absent: no venue (over-age positions are reported, not closed); also without MEXC_SECRET_ID. */
  readonly secrets?: SecretSource;
}

/** The handler's deps from its ports: the limits from the environment, the venue built once from the secret. */
export function riskSweepDeps(ports: RiskSweepPorts): RiskSweepHandlerDeps {
  const { secrets, ...rest } = ports;
  const secretId = ports.env.MEXC_SECRET_ID;
  const restUrl = ports.env.MEXC_REST_URL;
  return {
    ...rest,
    limits: limitsFromEnv(ports.env),
    ...(secrets && secretId ? { venue: venueFactory(secrets, { secretId, ...(restUrl ? { restUrl } : {}) }, (m) => obs.logger.warn(m)) } : {}),
  };
}

const obs = observability('risk-sweep');

export function createRiskSweepHandler(getDeps: () => Promise<RiskSweepHandlerDeps>) {
  async function lambdaHandler(_event: unknown, context: Context): Promise<Record<string, unknown>> {
    const deps = await getDeps();
    // One guard and one SafeExchange for the whole run (the sweep's closes and the follow-up), built on first use.
    let trading: Promise<TradingExchange> | undefined;
    const venue = deps.venue;
    const exchange = venue ? () => (trading ??= venue().then((v) => tradingExchangeFor(v, deps, deps.exchangeOptions))) : undefined;
    const report = await runRiskSweep(
      { store: deps.store, killSwitch: deps.killSwitch, alerts: deps.alerts, ...(exchange ? { exchange } : {}), now: deps.now },
      { limits: deps.limits, owner: 'risk-sweep', leaseTtlMs: deps.env.LEASE_TTL_SECONDS * 1000, hotPathOwners: deps.env.HOT_PATH_OWNERS },
    );
    obs.metrics.addMetric('RiskFindings', MetricUnit.Count, report.findings.length);
    obs.metrics.addMetric('PositionsClosedBySweep', MetricUnit.Count, report.positionActions.filter((a) => a.outcome === 'closed').length);
    const summary: Record<string, unknown> = {
      findings: report.findings.map((f) => ({ code: f.code, ...(f.symbol ? { symbol: f.symbol } : {}), ...(f.switchTo ? { switchTo: f.switchTo } : {}), detail: f.detail })),
      switch: report.escalation ? { before: report.escalation.before, after: report.escalation.after, wrote: report.escalation.wrote, ...(report.escalation.problem ? { problem: report.escalation.problem } : {}) } : 'unchanged',
      positions: report.positionActions.map((a) => ({ symbol: a.symbol, positionId: a.positionId, outcome: a.outcome, detail: a.detail })),
      alertsPublished: report.alertsPublished,
      alertFailures: report.alertFailures,
    };
    // While the switch says EMERGENCY_STOP, finish what the emergency stop could not (it no-ops otherwise).
    if (exchange) {
      const ex = await exchange().catch((e: unknown) => {
        obs.logger.error('exchange unavailable for the emergency follow-up', { error: e instanceof Error ? e.name : String(e) });
        return undefined;
      });
      if (ex) {
        const es = await runEmergencyStop(
          { store: deps.store, killSwitch: deps.killSwitch, alerts: deps.alerts, venue: ex.venue, exchange: ex.exchange, now: deps.now, sleep: deps.sleep },
          {
            owner: `risk-sweep:${context.awsRequestId}`.slice(0, 256),
            symbols: deps.env.TRADING_SYMBOLS,
            leaseTtlMs: deps.env.LEASE_TTL_SECONDS * 1000,
            leaseWaitMs: 5000,
            trigger: 'risk sweep follow-up',
            alertWhenIdle: false,
          },
        );
        if (es.acted) summary['emergencyFollowUp'] = summarizeEmergencyStop(es);
      }
    }
    if (report.findings.length > 0) obs.logger.warn('risk sweep found limits tripped', { summary });
    else obs.logger.info('risk sweep: within limits', { summary });
    return summary;
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics)).use(captureLambdaHandler(obs.tracer));
}

let defaults: Promise<RiskSweepHandlerDeps> | undefined;

function defaultDeps(): Promise<RiskSweepHandlerDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      const env = parseRiskSweepEnv(process.env);
      return riskSweepDeps({
        env,
        store: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger),
        killSwitch: new CachedSsmKillSwitchSource(ssmClient(), env.KILL_SWITCH_PARAM, { maxAgeSeconds: 5 }),
        alerts: alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL),
        ...(env.MEXC_SECRET_ID ? { secrets: new SecretsManagerSecretSource(secretsClient()) } : {}),
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

export const handler = createRiskSweepHandler(defaultDeps);
