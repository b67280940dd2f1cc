/**
 * The operator console's infrastructure: the Telegram webhook and the dashboard, each a Lambda
 * behind a Function URL, what each may touch (and may not: neither reaches MEXC's keys), the
 * hot path's access to the commands queue, and the stage config of the allowlist.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { TELEGRAM_WEBHOOK_USAGE } from '../../cli/telegramWebhook.js';
import { parseStageConfig } from '../../lib/config.js';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { actionsOf, logicalIdOf, mentions, resourcesOf, resourcesOfStatement, statementsOfRole, synthTestApp, type Statement } from './helpers.js';

type Json = Record<string, unknown>;
let template: Template;
let stack: ScalperStack;

beforeAll(() => {
  ({ template, stack } = synthTestApp({}, { nag: false }));
});

const props = (r: Json): Json => (r.Properties ?? {}) as Json;
function envOf(fnLogicalId: string): Json {
  const fn = (template.toJSON().Resources as Record<string, Json>)[fnLogicalId]!;
  return ((props(fn).Environment as Json).Variables ?? {}) as Json;
}
const grants = (statements: Statement[], logicalId: string): string[] => statements.filter((s) => resourcesOfStatement(s).some((r) => mentions(r, logicalId))).flatMap(actionsOf);

describe('Function URLs', () => {
  it('the webhook and the dashboard each have one, without IAM auth (the handlers authenticate: secret header, signed link)', () => {
    // The console's two, and the signal webhook's (test/infra/signalWebhook.test.ts).
    const urls = resourcesOf(template, 'AWS::Lambda::Url');
    expect(urls).toHaveLength(3);
    const targets = urls.map(([, u]) => JSON.stringify(props(u).TargetFunctionArn));
    expect(targets.some((t) => t.includes(logicalIdOf(stack.telegramWebhook.fn.function)))).toBe(true);
    expect(targets.some((t) => t.includes(logicalIdOf(stack.webDashboard.fn.function)))).toBe(true);
    for (const [, u] of urls) expect(props(u).AuthType).toBe('NONE');
  });
});

describe('telegram webhook', () => {
  const role = () => logicalIdOf(stack.telegramWebhook.fn.role);

  it('gets the allowlist, the chat, the queues, the parameter and secret ARNs (never values) from the stage', () => {
    const env = envOf(logicalIdOf(stack.telegramWebhook.fn.function));
    expect(env.TELEGRAM_CHAT_ID).toBe('-1000000000001');
    expect(env.TELEGRAM_OPERATORS).toBe('');
    expect(env.TRADING_SYMBOLS).toBe('DOGEUSDT,PEPEUSDT');
    for (const k of ['TELEGRAM_SECRET_ID', 'WEBHOOK_SECRET_ID', 'TOTP_SECRET_ID', 'DASHBOARD_LINK_SECRET_ID']) expect(env[k]).toEqual({ Ref: expect.any(String) as string });
    expect(mentions(env.COMMANDS_QUEUE_URL, logicalIdOf(stack.queues.queues.commands.queue))).toBe(true);
    expect(mentions(env.BACKTESTS_QUEUE_URL, logicalIdOf(stack.queues.queues.backtests.queue))).toBe(true);
    expect(mentions(env.DASHBOARD_URL, logicalIdOf(stack.webDashboard.url))).toBe(true);
  });

  it('may write the kill switch, send to the commands, retrain and backtests queues, log commands; nothing of MEXC', () => {
    const st = statementsOfRole(template, role());
    expect(grants(st, logicalIdOf(stack.killSwitch.parameter))).toEqual(expect.arrayContaining(['ssm:PutParameter', 'ssm:GetParameter']));
    expect(grants(st, logicalIdOf(stack.queues.queues.commands.queue))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(grants(st, logicalIdOf(stack.queues.queues.retrain.queue))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(grants(st, logicalIdOf(stack.queues.queues.backtests.queue))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(grants(st, logicalIdOf(stack.queues.queues.backtests.queue))).not.toContain('sqs:ReceiveMessage');
    expect(grants(st, logicalIdOf(stack.queues.queues.alerts.queue))).toEqual([]);
    const table = grants(st, logicalIdOf(stack.stateTable.table));
    expect(table).toContain('dynamodb:PutItem');
    expect(table).not.toContain('dynamodb:DeleteItem');
    expect(table).not.toContain('dynamodb:UpdateItem');
    expect(grants(st, logicalIdOf(stack.secrets.mexcCredentials))).toEqual([]);
    for (const a of st.flatMap(actionsOf)) expect(a === '*' || a.endsWith(':*'), a).toBe(false);
  });

  it('the TelegramWebhookUrl output tells how to register it with flags npm run telegram:webhook has', () => {
    const out = (template.toJSON().Outputs as Record<string, { Description?: string }>).TelegramWebhookUrl!;
    const flags = out.Description?.match(/--[a-z-]+/g) ?? [];
    expect(flags.length).toBeGreaterThan(0);
    for (const f of flags) expect(TELEGRAM_WEBHOOK_USAGE, f).toContain(`${f} `);
  });

  it('/optimize: starts the research state machine, lists and reads the candle archive, puts objects under research/ only', () => {
    const st = statementsOfRole(template, role());
    expect(grants(st, logicalIdOf(stack.research.stateMachine))).toEqual(['states:StartExecution']);
    const env = envOf(logicalIdOf(stack.telegramWebhook.fn.function));
    expect(mentions(env.RESEARCH_STATE_MACHINE_ARN, logicalIdOf(stack.research.stateMachine))).toBe(true);
    expect(mentions(env.ARTIFACT_BUCKET, logicalIdOf(stack.buckets.bucket))).toBe(true);
    const bucket = logicalIdOf(stack.buckets.bucket);
    const s3 = st.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    for (const w of s3.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:Put') || a.startsWith('s3:Delete')))) {
      expect(actionsOf(w).some((a) => a.startsWith('s3:Delete'))).toBe(false);
      for (const r of resourcesOfStatement(w)) expect(JSON.stringify(r)).toContain('research/*');
    }
    const reads = s3.filter((s) => actionsOf(s).includes('s3:GetObject*')).flatMap(resourcesOfStatement).map((r) => JSON.stringify(r));
    expect(reads.some((r) => r.includes('candles/*'))).toBe(true);
    for (const r of reads) expect(r === `{"Fn::GetAtt":["${bucket}","Arn"]}` || r.includes('candles/*'), r).toBe(true);
  });

  it('the research runner answers console jobs on the alerts queue and catches failures to answer them', () => {
    const control = stack.research.control;
    expect(grants(statementsOfRole(template, logicalIdOf(control.role)), logicalIdOf(stack.queues.queues.alerts.queue))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(mentions(envOf(logicalIdOf(control.function)).ALERTS_QUEUE_URL, logicalIdOf(stack.queues.queues.alerts.queue))).toBe(true);
    const sm = (template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.research.stateMachine)]!;
    // The definition is an Fn::Join of text and references; references sit inside strings, so text in their place keeps it JSON.
    const join = (props(sm).DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const def = JSON.parse(join.map((p) => (typeof p === 'string' ? p : 'REF')).join('')) as { States: Record<string, { Catch?: { ErrorEquals: string[]; Next: string; ResultPath: string }[] }> };
    for (const state of ['Plan', 'Evaluate', 'Report']) expect(def.States[state]!.Catch, state).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AnswerFailure' }]);
  });
});

describe('dashboard', () => {
  it('is read-only: reads the state table and its link key, writes nothing, no MEXC or kill switch', () => {
    const st = statementsOfRole(template, logicalIdOf(stack.webDashboard.fn.role));
    const table = grants(st, logicalIdOf(stack.stateTable.table));
    expect(table).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
    for (const w of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) expect(table).not.toContain(w);
    expect(grants(st, logicalIdOf(stack.webDashboard.linkKey))).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue']));
    expect(grants(st, logicalIdOf(stack.secrets.mexcCredentials))).toEqual([]);
    expect(grants(st, logicalIdOf(stack.killSwitch.parameter))).toEqual([]);
    const env = envOf(logicalIdOf(stack.webDashboard.fn.function));
    expect(Object.keys(env).sort()).toEqual(['DASHBOARD_LINK_SECRET_ID', 'NODE_OPTIONS', 'POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_SERVICE_NAME', 'STAGE', 'STATE_TABLE']);
  });

  it('the TOTP secret is generated as 32 base32 characters; the webhook secret fits Telegram\'s alphabet', () => {
    const all = template.toJSON().Resources as Record<string, Json>;
    const totp = props(all[logicalIdOf(stack.telegramWebhook.totpSecret)]!).GenerateSecretString as Json;
    expect(totp).toMatchObject({ PasswordLength: 32, ExcludeLowercase: true, ExcludePunctuation: true, ExcludeCharacters: '0189' });
    const hook = props(all[logicalIdOf(stack.telegramWebhook.webhookSecret)]!).GenerateSecretString as Json;
    expect(hook).toMatchObject({ ExcludePunctuation: true, IncludeSpace: false });
  });
});

describe('hot path and commands', () => {
  it('the task consumes the commands queue (and may dead-letter into its DLQ), with both URLs in its environment', () => {
    const [td] = resourcesOf(template, 'AWS::ECS::TaskDefinition');
    const env = (props(td![1]).ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[])[0]!.Environment;
    const names = env.map((e) => e.Name);
    expect(names).toEqual(expect.arrayContaining(['COMMANDS_QUEUE_URL', 'COMMANDS_DLQ_URL']));
    const st = statementsOfRole(template, logicalIdOf(stack.hotPath.taskDefinition.taskRole));
    expect(grants(st, logicalIdOf(stack.queues.queues.commands.queue))).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
    expect(grants(st, logicalIdOf(stack.queues.queues.commands.deadLetterQueue))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
  });
});

describe('stage config: telegram', () => {
  const base = { alarmEmail: 'a@example.com', telegramChatId: '-100' };
  it('defaults to nobody, takes user ids, refuses unknown keys and non-ids with the field path', () => {
    expect(parseStageConfig('dev', base).telegram).toEqual({ operators: [], viewers: [] });
    expect(parseStageConfig('dev', { ...base, telegram: { operators: [123], viewers: [456, 789] } }).telegram).toEqual({ operators: [123], viewers: [456, 789] });
    expect(() => parseStageConfig('dev', { ...base, telegram: { operator: [1] } })).toThrow(/stages\.dev\.telegram/);
    expect(() => parseStageConfig('dev', { ...base, telegram: { operators: ['@ana'] } })).toThrow(/stages\.dev\.telegram\.operators\.0/);
  });
});
