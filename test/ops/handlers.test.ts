/**
 * Handler wiring: environment validation (errors name the variable, never a value), the reconcile
 * placeholder, event validation of the emergency stop, the secrets adapters, and the risk-sweep
 * handler closing an over-age position on the simulator through real ccxt.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../services/core/errors.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import type { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import { EnvSecretSource } from '../../services/adapters/secrets/envSecrets.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { SecretFormatError, SecretUnavailableError } from '../../services/ops/errors.js';
import { parseMexcSecret, parseTelegramSecret } from '../../services/ops/secrets.js';
import { parseAlertDispatcherEnv } from '../../lambdas/alert-dispatcher/handler.js';
import { createEmergencyStopHandler, parseEmergencyStopEnv, type EmergencyStopHandlerDeps } from '../../lambdas/emergency-stop/handler.js';
import { createRiskSweepHandler, limitsFromEnv, parseRiskSweepEnv } from '../../lambdas/risk-sweep/handler.js';
import { sleep } from '../../lambdas/shared/exchange.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BTC, MemoryKillSwitch, RecordingPublisher, freshStore, position, setBook, simVenue, startSim } from './helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const ctx = (id: string) => localContext('test', id);

describe('environment validation', () => {
  it('names each missing or bad variable and never echoes a value', () => {
    const secretish = 'arn:aws:secretsmanager:us-east-1:1:secret:very-private';
    let err: unknown;
    try {
      parseEmergencyStopEnv({ STAGE: 'dev', STATE_TABLE: 't', KILL_SWITCH_PARAM: '/k', MEXC_REST_URL: 'not a url', LEASE_WAIT_SECONDS: '-3', TRADING_SYMBOLS: secretish });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const v of ['ALERTS_QUEUE_URL', 'MEXC_SECRET_ID', 'MEXC_REST_URL', 'LEASE_WAIT_SECONDS']) expect(msg).toContain(v);
    expect(msg).not.toContain(secretish);
    expect(() => parseAlertDispatcherEnv({ STAGE: 'dev', ALERT_TOPIC_ARN: 'arn', TELEGRAM_SECRET_ID: 'tg', STATE_TABLE: 't' })).toThrow(/TELEGRAM_CHAT_ID/);
  });

  it('builds the sweep limits from mode, profile and the risk section', () => {
    const env = parseRiskSweepEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', STRATEGY_MODE: 'hf', RISK_PROFILE: 'aggressive', RISK_CONFIG_JSON: '{"haltConsecutiveStops": 5}' });
    expect(limitsFromEnv(env)).toMatchObject({ mode: 'hf', maxPositionAgeMs: 30 * 60_000, dailyLossLimitPct: 4, weeklyLossLimitPct: 10, maxConsecutiveLosses: 5, staleHeartbeatMs: 90_000 });
    const bad = parseRiskSweepEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', RISK_CONFIG_JSON: '{"haltConsecutiveStop": 5}' });
    expect(() => limitsFromEnv(bad)).toThrow(/risk\.haltConsecutiveStop: unknown key/);
  });
});

describe('handlers without side effects', () => {
  it('the emergency stop refuses an event it does not know (without throwing) and ignores another parameter', async () => {
    const env = parseEmergencyStopEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'm' });
    let built = 0;
    const h = createEmergencyStopHandler(() => {
      built++;
      // Only env is read before the event is accepted; anything else used would throw here.
      return Promise.resolve({ env } as unknown as EmergencyStopHandlerDeps);
    });
    // Refused without throwing (a throw would count as a failed stop and be retried).
    expect(await h({ hello: 'world' }, ctx('e1'))).toEqual({ acted: false, rejected: expect.stringMatching(/^expected an SSM "Parameter Store Change" event .*got an object with keys hello$/) as unknown });
    const other = await h({ source: 'aws.ssm', id: 'x', time: new Date(0).toISOString(), detail: { name: '/other' } }, ctx('e2'));
    expect(other).toEqual({ acted: false, ignored: '/other' });
    expect(built).toBe(1);
  });
});

describe('emergency stop without an exchange', () => {
  it('pages at once and fails the invocation when MEXC cannot be reached (so Lambda retries it)', async () => {
    const env = parseEmergencyStopEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'm' });
    const alerts = new RecordingPublisher();
    const down = () => Promise.reject(new SecretUnavailableError('cannot read secret m (AccessDeniedException)'));
    const h = createEmergencyStopHandler(() =>
      Promise.resolve({ env, killSwitch: new MemoryKillSwitch('EMERGENCY_STOP'), alerts, venue: down, now: () => 0, sleep } as unknown as EmergencyStopHandlerDeps),
    );
    await expect(h({ action: 'emergency-stop' }, ctx('e3'))).rejects.toBeInstanceOf(SecretUnavailableError);
    expect(alerts.alerts).toHaveLength(1);
    expect(alerts.alerts[0]).toMatchObject({ severity: 'critical', dedupKey: 'emergency-stop:exchange-unavailable' });
    expect(alerts.alerts[0]?.detail).toContain('AccessDeniedException');
  });
});

describe('secrets', () => {
  it('parses the MEXC and Telegram secrets; errors name fields, never values', () => {
    expect(parseMexcSecret('mexc', '{"apiKey":"k1","apiSecret":"s1"}')).toEqual({ apiKey: 'k1', secret: 's1' });
    const e = (() => {
      try {
        parseMexcSecret('mexc', '{"apiKey":"k-visible-only-here"}');
      } catch (x) {
        return x as Error;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(SecretFormatError);
    expect(e?.message).toContain('apiSecret');
    expect(e?.message).not.toContain('k-visible-only-here');
    expect(parseTelegramSecret('tg', ' 1:abc \n')).toBe('1:abc');
    expect(parseTelegramSecret('tg', '{"token":"1:abc"}')).toBe('1:abc');
  });

  it('env adapter: the MEXC secret from MEXC_API_KEY/MEXC_API_SECRET, a missing variable named', async () => {
    const src = new EnvSecretSource({ MEXC_API_KEY: 'k', MEXC_API_SECRET: 's', TG: 't' }, { mexc: 'MEXC_API_KEY+MEXC_API_SECRET', telegram: 'TG' });
    expect(parseMexcSecret('mexc', await src.getSecret('mexc'))).toEqual({ apiKey: 'k', secret: 's' });
    expect(await src.getSecret('telegram')).toBe('t');
    await expect(src.getSecret('other')).rejects.toThrow(SecretUnavailableError);
  });

  it('Secrets Manager adapter caches per process and hides the SDK error text', async () => {
    const sm = mockClient(SecretsManagerClient);
    try {
      sm.on(GetSecretValueCommand, { SecretId: 'mexc' }).resolves({ SecretString: '{"apiKey":"k","apiSecret":"s"}' });
      sm.on(GetSecretValueCommand, { SecretId: 'gone' }).rejects(Object.assign(new Error('Secrets Manager cannot find arn:secret-xyz'), { name: 'ResourceNotFoundException' }));
      const src = new SecretsManagerSecretSource(new SecretsManagerClient({ region: 'us-east-1' }), 300);
      expect(await src.getSecret('mexc')).toContain('apiKey');
      expect(await src.getSecret('mexc')).toContain('apiKey');
      expect(sm.commandCalls(GetSecretValueCommand, { SecretId: 'mexc' })).toHaveLength(1);
      const err = (await src.getSecret('gone').catch((x: unknown) => x)) as Error;
      expect(err).toBeInstanceOf(SecretUnavailableError);
      expect(err.message).toBe('cannot read secret gone (ResourceNotFoundException)');
    } finally {
      sm.restore();
    }
  });
});

describe('risk-sweep handler on the simulator', () => {
  let local: LocalDynamo;
  let server: SimServer;
  let venue: CcxtMexcVenue | undefined;
  beforeAll(async () => {
    local = await startLocalDynamo();
    server = await startSim({ USDT: '1000', BTC: '0.5' });
    setBook(server, BTC, 50_000, 50_001);
  });
  afterAll(async () => {
    await venue?.close();
    await server.close();
    await local.close();
  });

  it('sells exactly an over-age position (0.3 of the 0.5 BTC held) under its lease and records it', async () => {
    const { store, table } = await freshStore(local, () => Date.now());
    const now = Date.now();
    await store.put('position', position('p7', BTC, now - 7 * 3_600_000, '0.3'), undefined);
    await store.putHeartbeat({ owner: 'runtime-live', at: now, mode: 'live', openPositions: 1 });
    const env = parseRiskSweepEnv({ STAGE: 'test', STATE_TABLE: table, ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'm', HOT_PATH_OWNERS: 'runtime-live' });
    const ks = new MemoryKillSwitch('RUNNING');
    const alerts = new RecordingPublisher();
    const logBefore = server.orderLog().length;
    const h = createRiskSweepHandler(() =>
      Promise.resolve({
        env,
        limits: limitsFromEnv(env),
        store,
        killSwitch: ks,
        alerts,
        venue: async () => (venue ??= await simVenue(server)),
        now: () => Date.now(),
        sleep,
      }),
    );
    const out = await h({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, ctx('sweep-1'));
    expect(out['positions']).toMatchObject([{ symbol: 'BTCUSDT', positionId: 'p7', outcome: 'closed' }]);
    expect(out['emergencyFollowUp']).toBeUndefined();
    const placed = server.orderLog().slice(logBefore);
    expect(placed.map((o) => [o.symbol, o.side, o.type, o.outcome])).toEqual([['BTCUSDT', 'sell', 'market', 'placed']]);
    expect(placed[0]?.clientOrderId).toMatch(/^RS/);
    const btc = (await (venue as CcxtMexcVenue).fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.free.toString()).toBe('0.2');
    expect((await store.get('position', 'p7'))?.value.state).toBe('closed');
    expect(ks.writes).toEqual([]);
    expect(alerts.alerts.map((a) => a.title)).toEqual(['BTCUSDT over time limit: closed']);
  });
});
