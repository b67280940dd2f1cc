/**
 * The contract between the stack and the handlers: each handler that declares its environment
 * (an exported `parse<Job>Env` over a zod schema, lambdas/shared/env.ts) accepts the variables the
 * stack gives its function. CloudFormation references (table names, queue URLs, ARNs) are replaced
 * by values of the right shape, as they will be after deployment.
 */
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { JOB_NAMES } from '../../lib/jobs.js';
import { repoPath } from '../../lib/paths.js';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { logicalIdOf, synthTestApp } from './helpers.js';

let template: Template;
let stack: ScalperStack;

beforeAll(() => {
  ({ template, stack } = synthTestApp({}, { nag: false }));
});

/** A deployed-looking value for a CloudFormation reference, by the variable's name. */
function resolved(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (name.endsWith('_URL')) return 'https://sqs.us-east-1.amazonaws.com/123456789012/queue-name';
  if (name.endsWith('_ARN') || name.endsWith('_SECRET_ID')) return 'arn:aws:service:us-east-1:123456789012:resource-name';
  return 'resource-name';
}

type Deployed = (typeof JOB_NAMES)[number] | 'telegram-webhook' | 'dashboard';

function fnOf(job: Deployed) {
  return job === 'telegram-webhook' ? stack.telegramWebhook.fn : job === 'dashboard' ? stack.webDashboard.fn : stack.jobs.functions[job];
}

function deployedEnv(job: Deployed): Record<string, string> {
  const fn = (template.toJSON().Resources as Record<string, { Properties: { Environment?: { Variables: Record<string, unknown> } } }>)[logicalIdOf(fnOf(job).function)]!;
  return Object.fromEntries(Object.entries(fn.Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, resolved(k, v)]));
}

type EnvParser = (env: Readonly<Record<string, string | undefined>>) => unknown;

/** The handler module's exported `parse...Env`, if it has one. */
async function envParser(job: string): Promise<EnvParser | undefined> {
  const mod = (await import(`../../lambdas/${job}/handler.ts`)) as Record<string, unknown>;
  const name = Object.keys(mod).find((k) => /^parse\w*Env$/.test(k) && typeof mod[k] === 'function');
  return name === undefined ? undefined : (mod[name] as EnvParser);
}

describe('handler environments', () => {
  it('every job folder the stack deploys exists with a handler', () => {
    const folders = readdirSync(repoPath('lambdas'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const job of JOB_NAMES) expect(folders, job).toContain(job);
  });

  it('each handler with an env schema accepts the environment the stack gives it', async () => {
    const checked: string[] = [];
    for (const job of [...JOB_NAMES, 'telegram-webhook', 'dashboard'] as const) {
      const parse = await envParser(job);
      if (parse === undefined) continue;
      const env = deployedEnv(job);
      expect(() => parse(env), `${job} with ${JSON.stringify(env)}`).not.toThrow();
      checked.push(job);
    }
    expect(checked).toEqual(expect.arrayContaining(['reconcile', 'risk-sweep', 'emergency-stop', 'alert-dispatcher', 'retrain', 'backtest', 'telegram-webhook', 'dashboard']));
  }, 120_000);

  it('the schemas are strict enough to catch a missing variable (the check above can fail)', async () => {
    const parse = await envParser('alert-dispatcher');
    expect(parse).toBeDefined();
    const env = deployedEnv('alert-dispatcher');
    delete env.ALERT_TOPIC_ARN;
    expect(() => parse!(env)).toThrow(/ALERT_TOPIC_ARN/);
  }, 120_000);

  it('the backtest job gets the stage\'s mode, profile and symbols (the config the hot path trades with) and names a missing variable', async () => {
    const parse = await envParser('backtest');
    const env = deployedEnv('backtest');
    expect(parse!(env)).toMatchObject({ STRATEGY_MODE: 'standard', RISK_PROFILE: 'conservative', TRADING_SYMBOLS: ['DOGEUSDT', 'PEPEUSDT'], BACKTEST_LOCK_SECONDS: 660, MAX_RECEIVES: 5 });
    const hotPath = ((template.toJSON().Resources as Record<string, { Properties: { ContainerDefinitions?: { Environment: { Name: string; Value: unknown }[] }[] } }>)[logicalIdOf(stack.hotPath.taskDefinition)]!.Properties.ContainerDefinitions![0]!.Environment);
    for (const name of ['STRATEGY_MODE', 'RISK_PROFILE', 'TRADING_SYMBOLS']) expect(env[name], name).toBe(hotPath.find((e) => e.Name === name)?.Value);
    delete env.IDEMPOTENCY_TABLE;
    expect(() => parse!(env)).toThrow(/IDEMPOTENCY_TABLE/);
  }, 120_000);
});
