/**
 * The runtime's options, validated once at start with zod (strict: unknown keys are rejected,
 * defaults are declared here and nowhere else). A bad value fails with a ConfigError that names the
 * field and says what was expected.
 */
import { z } from 'zod';
import { signalsSchema } from '../services/config/schema.js';
import { ConfigError } from '../services/core/errors.js';

/** What to do with open positions on a graceful shutdown. */
export type ShutdownPolicy = 'flat' | 'leave';

const symbolName = z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected an upper-case symbol such as BTCUSDT');
const url = z.string().regex(/^(https?|wss?):\/\/\S+$/, 'expected an http(s) or ws(s) URL');

export const runtimeConfigSchema = z
  .object({
    /** paper: simulated fills on public data, no keys. live: real orders, needs keys and an explicit switch. */
    mode: z.enum(['paper', 'live']).default('paper'),
    symbols: z.array(symbolName).min(1, 'at least one symbol').max(15),
    /** A MEXC-compatible REST base (the simulator); default MEXC itself. */
    exchangeUrl: url.optional(),
    /** Its WebSocket URL; default derived from exchangeUrl (…/ws). */
    wsUrl: url.optional(),
    /** Local state (DynamoDB files under `state/`) and the kill-switch file live here. */
    dataDir: z.string().min(1).default('data/local'),
    /**
     * `disk`: dynalite under dataDir/state (npm start); `memory`: dynalite in memory (tests);
     * `dynamodb`: a DynamoDB service (AWS, with the task role's credentials; or `stateEndpoint`).
     */
    stateStorage: z.enum(['disk', 'memory', 'dynamodb']).default('disk'),
    /** A DynamoDB endpoint (a dynalite of another process); with stateStorage dynamodb. */
    stateEndpoint: url.optional(),
    /** With stateStorage dynamodb: create the table when missing (local endpoints; the CDK creates it on AWS). */
    createTable: z.boolean().default(true),
    tableName: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'expected a DynamoDB table name').default('mexc-sr-scalper-local'),
    /** Port of /health and /status on 127.0.0.1; 0 = any free port. */
    statusPort: z.number().int().min(0).max(65_535).default(8787),
    /**
     * Interface of the status server. 127.0.0.1 (the default) keeps every endpoint on this machine;
     * another address opens them to the network: `POST /signals` still needs its secret, and the
     * `/exchange/*` endpoints then need the operator token for callers other than loopback.
     */
    statusHost: z.string().regex(/^[0-9A-Za-z.:-]{1,64}$/, 'expected an IP address or host name such as 127.0.0.1').default('127.0.0.1'),
    /**
     * External signals: the strategy config's `signals` section (services/config/schema.ts; strict,
     * validated with the rest of that config, so a bad key is named as signals.<key>).
     */
    signals: z.record(z.string(), z.unknown()).optional(),
    /** Default: flat for paper, leave for live (a restart reconciles). */
    onShutdown: z.enum(['flat', 'leave']).optional(),
    /** Bound on the whole graceful shutdown (ECS gives 30 s). */
    shutdownTimeoutMs: z.number().int().min(1000).max(120_000).default(25_000),
    leaseTtlMs: z.number().int().min(3000).max(3_600_000).default(60_000),
    /**
     * How long start waits for a lease another owner holds (a task killed without releasing it
     * holds it until it expires). Default: the lease ttl plus 5 s.
     */
    leaseWaitMs: z.number().int().min(0).max(3_660_000).optional(),
    /** Orders open on the exchange that the state does not know, found at start: cancelled or adopted. */
    unknownOrders: z.enum(['cancel', 'adopt']).default('cancel'),
    /** At start the fill ledger is completed from the exchange's fills of this many hours. */
    fillLookbackHours: z.number().positive().max(168).default(24),
    heartbeatMs: z.number().int().min(100).max(600_000).default(15_000),
    /** The kill switch is read at most this often (the KillSwitch caches in between). */
    killSwitchPollMs: z.number().int().min(50).max(60_000).default(5000),
    /** Seconds between status lines. */
    statusEverySec: z.number().positive().max(86_400).default(30),
    /** Paper USDT balance. */
    balance: z.number().min(10, 'at least 10 (a balance below 10 cannot place an order above the exchange minimum)').max(1e12).default(10_000),
    warmupMinutes: z.number().int().min(0).max(1000).default(1000),
    /**
     * The ML entry filter: off (default: no model has earned it out of sample, see the README), or
     * filter (an entry needs the serving model's effective confidence of at least mlThreshold).
     * The model is the one the registry's pointer names, reloaded when a new one is promoted.
     */
    mlFilter: z.enum(['off', 'filter']).default('off'),
    mlThreshold: z.number().min(0.5).max(1).default(0.7),
    /** How often the model pointer is read for a newly promoted model. */
    modelPollMs: z.number().int().min(1000).max(900_000).default(60_000),
    /**
     * Closed 1m candles of the traded symbols go to the candle archive (candles/<SYMBOL>/<day>.csv in
     * the artifact store: S3 in the task, <dataDir>/artifacts locally), for retraining; buffered and
     * written every archiveFlushMinutes and at shutdown (a crash loses at most that much, which
     * `npm run backfill` recovers from the exchange).
     */
    archiveCandles: z.boolean().default(true),
    archiveFlushMinutes: z.number().positive().max(1440).default(15),
    /**
     * The second price source (services/live/priceCheck.ts; bounds in the strategy config's
     * execution.priceCheck): `off`, a ccxt exchange id for its public prices (`kraken`), or the URL
     * of a MEXC-compatible server (a second simulator, locally and in tests). Default off.
     */
    priceReference: z.string().regex(/^(off|[a-z0-9]{2,30}|https?:\/\/\S+)$/, 'expected off, a ccxt exchange id such as kraken, or an http(s) URL').default('off'),
    /** How often the task's CPU, memory and disk are sampled against its limits (fargate/resourceGuard.ts). */
    resourceEveryMs: z.number().int().min(100).max(600_000).default(15_000),
    /** Strategy mode and risk profile (services/config). */
    strategyMode: z.enum(['standard', 'hf']).optional(),
    profile: z.enum(['conservative', 'moderate', 'aggressive']).optional(),
  })
  .strict();

export type RuntimeConfigInput = z.input<typeof runtimeConfigSchema>;
export type RuntimeConfig = z.output<typeof runtimeConfigSchema> & { readonly onShutdown: ShutdownPolicy };

/** Validates the options; throws ConfigError naming the field. */
export function parseRuntimeConfig(input: unknown): RuntimeConfig {
  const r = runtimeConfigSchema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `runtime config ${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(msg);
  }
  if (r.data.signals !== undefined) {
    // Checked here too, so a bad signals key fails with the other runtime options, naming its field.
    const sg = signalsSchema.safeParse(r.data.signals);
    if (!sg.success) {
      const msg = sg.error.issues
        .map((i) => (i.code === 'unrecognized_keys' ? i.keys.map((k) => `runtime config signals.${[...i.path.map(String), k].join('.')}: unknown key`).join('; ') : `runtime config signals.${i.path.map(String).join('.')}: ${i.message}`))
        .join('; ');
      throw new ConfigError(msg);
    }
  }
  const symbols = new Set(r.data.symbols);
  if (symbols.size !== r.data.symbols.length) throw new ConfigError('runtime config symbols: a symbol is listed twice');
  return { ...r.data, onShutdown: r.data.onShutdown ?? (r.data.mode === 'paper' ? 'flat' : 'leave') };
}
