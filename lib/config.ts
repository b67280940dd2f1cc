/**
 * Stage configuration of the deployment: one validated object per stage, read once by
 * `bin/app.ts` from the CDK context (`cdk.json` → `context.stages.<stage>`, the stage chosen with
 * `-c stage=dev`, default `dev`). The schema is strict: an unknown key is an error (a typo must not
 * silently fall back to a default), and every error names the field's path.
 */
import { z } from 'zod';
import { MODES, PROFILES, RISK_PROFILES } from '../services/config/schema.js';
import { reviewConfigSchema } from '../services/review/config.js';

const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected a region such as us-east-1');

/** The AI review in the deployment: Bedrock on or off, the models and prices per period, the regions a cross-region profile routes to. */
const reviewStageSchema = z
  .object({
    /** false: the review Lambda uses the deterministic reviewer only (no Bedrock permission is granted). */
    bedrock: z.boolean().default(true),
    /** Model ids, inference profile ids and list prices per period (services/review/config.ts; default Haiku 4.5 daily, Sonnet 4.5 weekly and monthly). */
    models: reviewConfigSchema.shape.models,
    /** Regions the US cross-region inference profiles route to: bedrock:InvokeModel is granted on the foundation model there. */
    modelRegions: z.array(regionSchema).min(1).max(10).default(['us-east-1', 'us-east-2', 'us-west-2']),
  })
  .strict();

/** CloudWatch Logs retention periods the service accepts, in days. */
/**
 * The log retentions CloudWatch offers from one year up: AWS Control Tower's control CT.CLOUDWATCH.PR.2
 * asks for at least 365 days, so an incident can still be read months later. At this system's volume
 * (~0.2 GB a month) a year of logs costs about $0.07 a month in storage.
 */
export const LOG_RETENTION_DAYS = [365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** Fargate's valid memory sizes (MiB) for each CPU size (units of 1/1024 vCPU). */
const FARGATE_MEMORY: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: [1024, 2048, 3072, 4096],
  1024: [2048, 3072, 4096, 5120, 6144, 7168, 8192],
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** A stage name: lower-case letters, digits and dashes (it goes into resource names). */
export const stageNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'a stage name is 1-16 lower-case letters, digits or dashes, starting with a letter');

const taskSchema = z
  .object({
    /** Fargate CPU units (256 = 0.25 vCPU). */
    cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)]).default(256),
    /** Fargate memory in MiB; must be valid for `cpu`. */
    memoryMiB: z.number().int().default(512),
  })
  .strict()
  .superRefine((t, ctx) => {
    const allowed = FARGATE_MEMORY[t.cpu] ?? [];
    if (!allowed.includes(t.memoryMiB)) {
      ctx.addIssue({ code: 'custom', path: ['memoryMiB'], message: `Fargate does not offer ${t.memoryMiB} MiB with ${t.cpu} CPU units; valid: ${allowed.join(', ')}` });
    }
  });

/** The schema of one stage's configuration (the defaults are declared here, once). */
export const stageConfigSchema = z
  .object({
    /** AWS account id to deploy to; default: the CLI's account (CDK_DEFAULT_ACCOUNT). */
    account: z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits').optional(),
    /** AWS region; default: the CLI's region (CDK_DEFAULT_REGION), else us-east-1. */
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'expected a region such as us-east-1').optional(),
    /** Where the alarm topic's e-mail subscription goes (confirm the subscription mail once). */
    alarmEmail: z.email(),
    /** paper: simulated fills on live data; live: real orders (also needs the keys in Secrets Manager). */
    tradingMode: z.enum(['paper', 'live']).default('paper'),
    /** Name of the kill-switch SSM parameter; default `/mexc-scalper/<stage>/kill-switch`. */
    killSwitchParameterName: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/]{1,1010}$/, 'an SSM parameter path such as /mexc-scalper/dev/kill-switch')
      .optional(),
    /** The hot-path task's size. */
    task: taskSchema.prefault({}),
    /** Retention of every log group (task and Lambdas), in days. */
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')} (at least a year: AWS Control Tower CT.CLOUDWATCH.PR.2)`)
      .default(365),
    /** Strategy mode of the runtime and the jobs (services/config/schema.ts MODES). */
    strategyMode: z.enum(MODES).default('standard'),
    /** Risk profile of the runtime and the risk sweep (services/config/schema.ts PROFILES). */
    riskProfile: z.enum(PROFILES).default('conservative'),
    /**
     * The daily loss limit in percent of day-start equity; default: the risk profile's
     * `dailyLossLimitPct` (2 / 3 / 4). Only the alarm uses it: it fires at 80 % of the limit.
     */
    dailyLossLimitPct: z.number().gt(0).max(100).optional(),
    /** Symbols traded (upper case, e.g. DOGEUSDT); the jobs' TRADING_SYMBOLS / SYMBOLS. Empty: each job's default. */
    symbols: z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected an upper-case symbol such as BTCUSDT')).max(50).default([]),
    /**
     * The hot path's second price source (fargate/runtimeConfig.ts priceReference): a ccxt exchange
     * id whose public prices MEXC's are checked against before entries, or `off`. Kraken by default:
     * it answers from every AWS region (Binance's API refuses US addresses) and lists the USD pairs
     * of the memecoins MEXC trades.
     */
    priceReference: z.string().regex(/^(off|[a-z0-9]{2,30})$/, 'expected off or a ccxt exchange id such as kraken').default('kraken'),
    /**
     * Telegram chat the alert dispatcher writes to (not a secret; the bot token is). Required: the
     * dispatcher's environment schema requires TELEGRAM_CHAT_ID and fails every alert without it.
     */
    telegramChatId: z.string().regex(/^-?\d{1,20}$/, 'a Telegram chat id is an integer, e.g. -1001234567890'),
    /**
     * Who may use the Telegram console, by Telegram user id (not secrets): operators have every
     * command, viewers the read commands. Empty (the default): the bot answers nobody.
     */
    telegram: z
      .object({
        operators: z.array(z.number().int().positive()).max(20).default([]),
        viewers: z.array(z.number().int().positive()).max(50).default([]),
      })
      .strict()
      .prefault({}),
    /**
     * External signals (lib/signalWebhook.ts): off (the default), dry-run (decided and audited,
     * nothing sent) or on; the hot path's SIGNALS_MODE.
     */
    signals: z.enum(['off', 'dry-run', 'on']).default('off'),
    /** Scheduled reports' and reviews' e-mail (an SNS topic of their own); default alarmEmail. */
    reportEmail: z.email().optional(),
    review: reviewStageSchema.prefault({}),
  })
  .strict();

export type StageConfigInput = z.input<typeof stageConfigSchema>;

/** One stage's validated configuration, with the stage name and the derived defaults filled in. */
export interface StageConfig extends Omit<z.output<typeof stageConfigSchema>, 'killSwitchParameterName' | 'dailyLossLimitPct'> {
  readonly stage: string;
  readonly killSwitchParameterName: string;
  readonly dailyLossLimitPct: number;
}

/** A stage configuration that failed validation; the message lists each field's path and problem. */
export class StageConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StageConfigError';
  }
}

/** Validates one stage's raw configuration; throws StageConfigError naming each bad field. */
export function parseStageConfig(stage: string, raw: unknown): StageConfig {
  const name = stageNameSchema.safeParse(stage);
  if (!name.success) throw new StageConfigError(`stage: ${name.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(stage)})`, [{ path: 'stage', message: 'invalid stage name' }]);
  const parsed = stageConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: ['stages', stage, ...i.path.map(String)].join('.'), message: i.message }));
    throw new StageConfigError(`invalid stage config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues, { cause: parsed.error });
  }
  const v = parsed.data;
  return {
    ...v,
    stage,
    killSwitchParameterName: v.killSwitchParameterName ?? `/mexc-scalper/${stage}/kill-switch`,
    dailyLossLimitPct: v.dailyLossLimitPct ?? RISK_PROFILES[v.riskProfile].dailyLossLimitPct,
  };
}

/**
 * Picks and validates the stage from the CDK context values: `stages` (an object of stage name →
 * config) and `stage` (default `dev`).
 */
export function stageConfigFromContext(stagesContext: unknown, stageContext: unknown): StageConfig {
  const stage = stageContext === undefined ? 'dev' : stageContext;
  if (typeof stage !== 'string') throw new StageConfigError(`stage: expected a string, got ${typeof stage}`, [{ path: 'stage', message: 'expected a string' }]);
  if (typeof stagesContext !== 'object' || stagesContext === null || Array.isArray(stagesContext)) {
    throw new StageConfigError('stages: expected an object of stage name to config in the cdk.json context', [{ path: 'stages', message: 'expected an object' }]);
  }
  const stages = stagesContext as Record<string, unknown>;
  if (!Object.hasOwn(stages, stage)) {
    throw new StageConfigError(`stage: no stage ${JSON.stringify(stage)} under stages in cdk.json (known: ${Object.keys(stages).join(', ')})`, [{ path: 'stage', message: 'unknown stage' }]);
  }
  return parseStageConfig(stage, stages[stage]);
}
