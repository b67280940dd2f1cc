/** The signal webhook's construct (lib/signalWebhook.ts) as synthesised in the stage's stack. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { parseSignalWebhookEnv } from '../../lambdas/signal-webhook/handler.js';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { actionsOf, logicalIdOf, mentions, onlyResource, resourcesOf, statementsOfRole, synthTestApp } from './helpers.js';

type Json = Record<string, unknown>;
let template: Template;
let stack: ScalperStack;

beforeAll(() => {
  ({ template, stack } = synthTestApp({}, { nag: false }));
});

const props = (r: Json) => r.Properties as Json;

describe('signal webhook', () => {
  it('is a Function URL (auth NONE: the shared secret authenticates) on a function with reserved concurrency', () => {
    const fnId = logicalIdOf(stack.signals.function.function);
    const [, url] = onlyResource(template, 'AWS::Lambda::Url', (p) => mentions(p.TargetFunctionArn, fnId));
    expect(props(url)).toMatchObject({ AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] } });
    const fn = (template.toJSON().Resources as Record<string, Json>)[fnId]!;
    expect(props(fn).ReservedConcurrentExecutions).toBe(2);
  });

  it('its environment is what the handler reads (secret ARNs, not values)', () => {
    const fn = (template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.signals.function.function)]!;
    const vars = (props(fn).Environment as { Variables: Record<string, unknown> }).Variables;
    const resolved = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : k.endsWith('_URL') ? 'https://sqs.us-east-1.amazonaws.com/1/q' : 'arn:aws:x:us-east-1:1:y']));
    expect(() => parseSignalWebhookEnv(resolved)).not.toThrow();
    expect(vars.SIGNALS_SECRET_ID).toEqual({ Ref: logicalIdOf(stack.signals.webhookSecret) });
  });

  it('the Lambda may send to the signals queue and read its secrets; the task may consume the queue; both via grants', () => {
    const queueId = logicalIdOf(stack.signals.queue);
    const lambdaStatements = statementsOfRole(template, logicalIdOf(stack.signals.function.role));
    expect(lambdaStatements.some((s) => actionsOf(s).includes('sqs:SendMessage') && mentions(s.Resource, queueId))).toBe(true);
    expect(lambdaStatements.some((s) => actionsOf(s).includes('sqs:ReceiveMessage'))).toBe(false);
    for (const secret of [stack.signals.webhookSecret, stack.signals.operatorToken]) {
      expect(lambdaStatements.some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue') && mentions(s.Resource, logicalIdOf(secret)))).toBe(true);
    }
    const taskStatements = statementsOfRole(template, logicalIdOf(stack.hotPath.taskDefinition.taskRole));
    expect(taskStatements.some((s) => actionsOf(s).includes('sqs:ReceiveMessage') && actionsOf(s).includes('sqs:DeleteMessage') && mentions(s.Resource, queueId))).toBe(true);
  });

  it('tells the hot path the queue and the signals mode (off unless the stage says otherwise)', () => {
    const [, td] = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const env = ((props(td).ContainerDefinitions as Json[])[0]!.Environment as { Name: string; Value: unknown }[]).reduce<Record<string, unknown>>((m, e) => ({ ...m, [e.Name]: e.Value }), {});
    expect(env.SIGNALS_MODE).toBe('off');
    expect(mentions(env.SIGNALS_QUEUE_URL, logicalIdOf(stack.signals.queue))).toBe(true);
  });

  it("the signals queue is encrypted with the stack's key, retains its DLQ, and alarms on dead letters", () => {
    const q = (template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.signals.queue)]!;
    expect(props(q).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack.dataKey.key), 'Arn'] });
    expect((props(q).RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount).toBe(5);
    const dlq = (template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.signals.deadLetterQueue)]!;
    expect(dlq.DeletionPolicy).toBe('Retain');
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => props(a));
    expect(alarms.some((a) => JSON.stringify(a.Dimensions ?? []).includes(logicalIdOf(stack.signals.deadLetterQueue)))).toBe(true);
  });
});
