/**
 * The report and review constructs in the synthesised stack: the schedules (UTC crons and their
 * constant inputs), the functions' architecture and environment, and least privilege: the report
 * reads the state table only and never calls Bedrock; the review may call bedrock:InvokeModel on
 * exactly the configured inference profiles and foundation models, and nothing else of Bedrock.
 */
import { describe, expect, it } from 'vitest';
import { Stack } from 'aws-cdk-lib';
import { bedrockModelArns } from '../../lib/aiReview.js';
import { stageConfigFromContext } from '../../lib/config.js';
import { actionsOf, cdkJsonContext, logicalIdOf, resourcesOf, resourcesOfStatement, statementsOfRole, synthTestApp } from './helpers.js';

const { stack, template } = synthTestApp();
type Resources = Record<string, { Properties: Record<string, unknown> }>;
const fnProps = (construct: Parameters<typeof logicalIdOf>[0]) => (template.toJSON() as { Resources: Resources }).Resources[logicalIdOf(construct)]!.Properties;

function rulesTargeting(fnLogicalId: string): { schedule: string; input: unknown }[] {
  return resourcesOf(template, 'AWS::Events::Rule')
    .map(([, r]) => r.Properties as { ScheduleExpression?: string; Targets: { Arn: unknown; Input?: string }[] })
    .filter((p) => p.Targets.some((t) => JSON.stringify(t.Arn).includes(fnLogicalId)))
    .map((p) => ({ schedule: p.ScheduleExpression ?? '', input: JSON.parse(p.Targets[0]!.Input ?? 'null') as unknown }))
    .sort((a, b) => (a.schedule < b.schedule ? -1 : 1));
}
const sorted = <T extends { schedule: string }>(l: T[]): T[] => [...l].sort((a, b) => (a.schedule < b.schedule ? -1 : 1));

describe('Reporting', () => {
  const fn = stack.reporting.function;
  it('runs the report at 08:00 UTC daily, Mondays and the 1st, and the tax year on 2 January', () => {
    expect(rulesTargeting(logicalIdOf(fn.function))).toEqual(
      sorted([
        { schedule: 'cron(0 8 * * ? *)', input: { job: 'report', period: 'daily' } },
        { schedule: 'cron(0 8 ? * MON *)', input: { job: 'report', period: 'weekly' } },
        { schedule: 'cron(0 8 1 * ? *)', input: { job: 'report', period: 'monthly' } },
        { schedule: 'cron(30 8 2 1 ? *)', input: { job: 'tax' } },
      ]),
    );
  });

  it('is x86_64 (the native PNG renderer) with the environment its handler reads', () => {
    const p = fnProps(fn.function);
    expect(p.Architectures).toEqual(['x86_64']);
    const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
    for (const k of ['STATE_TABLE', 'ARTIFACT_BUCKET', 'REPORT_TOPIC_ARN', 'TELEGRAM_SECRET_ID', 'TELEGRAM_CHAT_ID', 'STRATEGY_MODE', 'RISK_PROFILE']) expect(env).toHaveProperty(k);
  });

  it('reads the state table but never writes it, and has no Bedrock permission', () => {
    const actions = statementsOfRole(template, logicalIdOf(fn.role)).flatMap(actionsOf);
    expect(actions).toContain('dynamodb:Query');
    expect(actions.filter((a) => /dynamodb:(Put|Delete|Update|BatchWrite)/.test(a))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    expect(actions).toContain('sns:Publish');
  });

  it('mails to a topic of its own, subscribed by the stage e-mail', () => {
    const subs = resourcesOf(template, 'AWS::SNS::Subscription').map(([, r]) => r.Properties as { TopicArn: unknown; Endpoint: string });
    expect(subs.filter((s) => JSON.stringify(s.TopicArn).includes(logicalIdOf(stack.reporting.topic)))).toHaveLength(1);
  });
});

describe('AiReview', () => {
  const fn = stack.review.function;
  it('runs 20 minutes after each report with the period as its event', () => {
    expect(rulesTargeting(logicalIdOf(fn.function))).toEqual(
      sorted([
        { schedule: 'cron(20 8 * * ? *)', input: { period: 'daily' } },
        { schedule: 'cron(20 8 ? * MON *)', input: { period: 'weekly' } },
        { schedule: 'cron(20 8 1 * ? *)', input: { period: 'monthly' } },
      ]),
    );
  });

  it('bedrock:InvokeModel only, only on the configured inference profiles and foundation models', () => {
    const st = statementsOfRole(template, logicalIdOf(fn.role)).filter((s) => actionsOf(s).some((a) => a.startsWith('bedrock:')));
    expect(st).toHaveLength(1);
    expect(actionsOf(st[0]!)).toEqual(['bedrock:InvokeModel']);
    const resolved = resourcesOfStatement(st[0]!).map((r) => Stack.of(fn).resolve(r) as unknown);
    const expected = bedrockModelArns(Stack.of(fn), synthConfig()).map((a) => Stack.of(fn).resolve(a) as unknown);
    expect(resolved).toEqual(expected);
    const text = JSON.stringify(resolved);
    expect(text).toContain('inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(text).toContain('inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(text).toContain(':bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(text).not.toContain('*');
  });

  it('passes the models and prices to the handler, and writes the ledger', () => {
    const env = (fnProps(fn.function).Environment as { Variables: Record<string, string> }).Variables;
    expect(env.BEDROCK).toBe('on');
    expect((JSON.parse(env.REVIEW_CONFIG!) as { models: { weekly: { inputUsdPerMTok: number } } }).models.weekly.inputUsdPerMTok).toBe(3);
    expect(statementsOfRole(template, logicalIdOf(fn.role)).flatMap(actionsOf)).toContain('dynamodb:PutItem');
  });

  it('with review.bedrock false no Bedrock permission is granted and the handler is told so', () => {
    const off = synthTestApp({ stages: { dev: { ...devStage(), review: { bedrock: false } } } });
    const role = logicalIdOf(off.stack.review.function.role);
    expect(statementsOfRole(off.template, role).flatMap(actionsOf).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    const env = ((off.template.toJSON() as { Resources: Resources }).Resources[logicalIdOf(off.stack.review.function.function)]!.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(env.BEDROCK).toBe('off');
  });
});

function devStage(): Record<string, unknown> {
  return (cdkJsonContext().stages as Record<string, Record<string, unknown>>).dev!;
}
function synthConfig() {
  return stageConfigFromContext(cdkJsonContext().stages, 'dev');
}
