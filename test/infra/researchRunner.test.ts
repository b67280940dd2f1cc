/**
 * The research runner (lib/researchRunner.ts): the optimisation's state machine as synthesised —
 * plan, a Distributed Map over the worker Lambda reading the round's item file from the bucket in
 * batches, the loop back to plan, the report — its logging and tracing, and least-privilege IAM
 * (grants only: research/ read-write and the candle archive read-only; the state machine invokes
 * exactly its two functions). The handlers accept the environment the stack gives them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { BATCH_TRIALS, MAX_WORKERS } from '../../lib/researchRunner.js';
import { parseOptimizeControlEnv } from '../../lambdas/optimize-control/handler.js';
import { parseOptimizeWorkerEnv } from '../../lambdas/optimize-worker/handler.js';
import { actionsOf, logicalIdOf, onlyResource, resourcesOfStatement, statementsOfRole, synthTestApp } from './helpers.js';

let template: Template;
let stack: ScalperStack;
type Json = Record<string, unknown>;

beforeAll(() => {
  ({ template, stack } = synthTestApp({}, { nag: false }));
});

/** The state machine's definition, with CloudFormation references replaced by placeholders. */
function definition(): Json {
  const [, sm] = onlyResource(template, 'AWS::StepFunctions::StateMachine', (_p, id) => id === logicalIdOf(stack.research.stateMachine));
  const parts = (((sm.Properties as Json).DefinitionString as Json)['Fn::Join'] as [string, unknown[]])[1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'REF')).join('')) as Json;
}

describe('research runner', () => {
  it('loops plan -> Distributed Map of worker batches -> plan until done, then reports', () => {
    const d = definition();
    const states = d.States as Record<string, Json>;
    expect(d.StartAt).toBe('Plan');
    expect(states.Plan).toMatchObject({ Type: 'Task', Next: 'Done?', ResultPath: '$.plan', Parameters: { action: 'plan', 'runPrefix.$': '$.runPrefix' } });
    const choice = states['Done?'] as { Choices: Json[]; Default: string };
    expect(choice.Choices).toEqual([{ Variable: '$.plan.done', BooleanEquals: true, Next: 'Report' }]);
    expect(choice.Default).toBe('Evaluate');
    const map = states.Evaluate as Json;
    expect(map).toMatchObject({
      Type: 'Map',
      Next: 'Plan',
      ResultPath: null,
      MaxConcurrency: MAX_WORKERS,
      ItemReader: { ReaderConfig: { InputType: 'JSON' }, Parameters: { 'Key.$': '$.plan.itemsKey' } },
      ItemBatcher: { MaxItemsPerBatch: BATCH_TRIALS, BatchInput: { 'runPrefix.$': '$.plan.batchInput.runPrefix', 'runId.$': '$.plan.batchInput.runId', 'data.$': '$.plan.batchInput.data', 'symbols.$': '$.plan.batchInput.symbols' } },
    });
    expect(JSON.stringify(map.ItemReader)).toContain('s3:getObject');
    expect(map.ToleratedFailurePercentage ?? 0).toBe(0);
    const processor = map.ItemProcessor as { ProcessorConfig: Json; StartAt: string; States: Record<string, Json> };
    expect(processor.ProcessorConfig).toMatchObject({ Mode: 'DISTRIBUTED' });
    const work = processor.States[processor.StartAt] as { Retry: Json[] };
    expect(work.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['States.TaskFailed', 'States.Timeout'], MaxAttempts: 2 }));
    // Bad input is not retried: a retrier before the catch-all States.TaskFailed one (the first that
    // matches applies) gives it no attempt.
    const at = (error: string): number => work.Retry.findIndex((r) => (r as { ErrorEquals: string[] }).ErrorEquals.includes(error));
    expect(work.Retry[at('EventValidationError')]).toEqual({ ErrorEquals: ['EventValidationError'], MaxAttempts: 0 });
    expect(at('EventValidationError')).toBeLessThan(at('States.TaskFailed'));
    expect(states.Report).toMatchObject({ Type: 'Task', Parameters: { action: 'report' }, Next: 'Reported' });
  });

  it('logs every event and traces with X-Ray', () => {
    const [, sm] = onlyResource(template, 'AWS::StepFunctions::StateMachine', (_p, id) => id === logicalIdOf(stack.research.stateMachine));
    const p = sm.Properties as Json;
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect((p.LoggingConfiguration as Json).Level).toBe('ALL');
  });

  it('grants the functions the research/ prefix read-write and the candle archive read-only, nothing else', () => {
    const bucket = logicalIdOf(stack.buckets.bucket);
    for (const fn of [stack.research.control, stack.research.worker]) {
      const s3 = statementsOfRole(template, logicalIdOf(fn.role)).filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
      const resources = s3.flatMap((s) => resourcesOfStatement(s)).map((r) => JSON.stringify(r));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).toMatch(new RegExp(`${bucket}.*(research/\\*|candles/\\*)|^\\{"Fn::GetAtt":\\["${bucket}","Arn"\\]\\}$`));
      const writes = s3.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:Put') || a.startsWith('s3:Delete')));
      // Objects written are under research/ only (the bare bucket ARN in the same grant serves List and GetBucket*).
      for (const w of writes) for (const r of resourcesOfStatement(w)) if (JSON.stringify(r) !== `{"Fn::GetAtt":["${bucket}","Arn"]}`) expect(JSON.stringify(r)).toContain('research/*');
    }
  });

  it('lets the state machine invoke exactly its two functions', () => {
    const role = logicalIdOf(stack.research.stateMachine.role);
    const invoke = statementsOfRole(template, role).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    const targets = new Set(invoke.flatMap((s) => resourcesOfStatement(s)).map((r) => JSON.stringify(r).match(/"(ResearchControl|ResearchWorker)[A-Za-z0-9]+"/)?.[1]));
    expect([...targets].sort()).toEqual(['ResearchControl', 'ResearchWorker']);
  });

  it('gives the handlers the environment they parse', () => {
    const envOf = (fn: typeof stack.research.worker): Record<string, string> => {
      const r = (template.toJSON().Resources as Record<string, { Properties: { Environment: { Variables: Record<string, unknown> } } }>)[logicalIdOf(fn.function)]!;
      return Object.fromEntries(Object.entries(r.Properties.Environment.Variables).map(([k, v]) => [k, typeof v === 'string' ? v : 'bucket-name']));
    };
    expect(parseOptimizeControlEnv(envOf(stack.research.control)).ARTIFACT_BUCKET).toBe('bucket-name');
    expect(parseOptimizeWorkerEnv(envOf(stack.research.worker)).ARTIFACT_BUCKET).toBe('bucket-name');
    expect(Object.keys(template.toJSON().Outputs as Json)).toContain('ResearchStateMachineArn');
  });
});
