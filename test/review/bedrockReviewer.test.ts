/**
 * The Bedrock reviewer against aws-sdk-client-mock, with responses in the shape Converse returns
 * them (output.message.content blocks, stopReason, usage): a valid tool call, text that is not
 * JSON, a refusal, and throttling. Costs are worked out by hand at the config's list prices.
 */
import { BedrockRuntimeClient, ConverseCommand, ThrottlingException, AccessDeniedException, type ConverseCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BedrockReviewer } from '../../services/adapters/bedrock/bedrockReviewer.js';
import { REVIEW_TOOL_NAME, reviewToolJsonSchema } from '../../services/review/answer.js';
import { DEFAULT_TUNABLES, parseReviewConfig } from '../../services/review/config.js';
import { ReviewerFailedError, type ReviewRequest } from '../../services/review/reviewer.js';
import { dayFacts, LIVE } from './helpers.js';

const bedrock = mockClient(BedrockRuntimeClient);
const settings = parseReviewConfig({});
const sleeps: number[] = [];
const reviewer = () => new BedrockReviewer({ client: new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }), models: settings.models, sleep: (ms) => {
  sleeps.push(ms);
  return Promise.resolve();
},  backoffMs: 100 });
const req = (): ReviewRequest => ({ period: 'daily', facts: dayFacts(), live: LIVE, tunables: DEFAULT_TUNABLES, maxRecommendations: 3 });

const VALID = {
  narrative: 'Three trades, two of them stop losses; the target trade did not make up for them.',
  findings: [{ title: 'Stops dominate', detail: 'Two of three exits were stops.', evidence: ['trades.byExitReason.stop.trades', 'figures.trades'] }],
  recommendations: [{ title: 'Wider stop', rationale: 'Stops lost more than the target won.', evidence: ['trades.byExitReason.stop.netPnl'], changes: [{ key: 'exit.stopBeyondLevelPct', value: 1 }] }],
};

function toolAnswer(input: unknown, usage = { inputTokens: 4000, outputTokens: 500, totalTokens: 4500 }): ConverseCommandOutput {
  return {
    $metadata: {},
    output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 'tooluse_1', name: REVIEW_TOOL_NAME, input: input as never } }] } },
    stopReason: 'tool_use',
    usage,
    metrics: { latencyMs: 1200 },
  };
}
function textAnswer(text: string, stopReason: ConverseCommandOutput['stopReason'] = 'end_turn'): ConverseCommandOutput {
  return { $metadata: {}, output: { message: { role: 'assistant', content: [{ text }] } }, stopReason, usage: { inputTokens: 4000, outputTokens: 60, totalTokens: 4060 }, metrics: { latencyMs: 800 } };
}

beforeEach(() => {
  bedrock.reset();
  sleeps.length = 0;
});

describe('BedrockReviewer', () => {
  it('a valid tool call: one forced tool whose schema is the zod schema, temperature 0, the daily model; tokens and cost counted', async () => {
    bedrock.on(ConverseCommand).resolves(toolAnswer(VALID));
    const out = await reviewer().review(req());
    expect(out.answer.recommendations[0]!.changes).toEqual([{ key: 'exit.stopBeyondLevelPct', value: 1 }]);
    expect(out.model).toBe('anthropic.claude-haiku-4-5-20251001-v1:0');
    const input = bedrock.commandCalls(ConverseCommand)[0]!.args[0].input;
    expect(input.modelId).toBe('us.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(input.toolConfig?.toolChoice).toEqual({ tool: { name: REVIEW_TOOL_NAME } });
    expect(input.toolConfig?.tools?.[0]?.toolSpec?.inputSchema?.json).toEqual(reviewToolJsonSchema(DEFAULT_TUNABLES, 3));
    expect(input.inferenceConfig).toEqual({ maxTokens: 3000, temperature: 0 });
    // 4000 x $1/M + 500 x $5/M = $0.004 + $0.0025.
    expect(out.usage).toEqual({ attempts: 1, inputTokens: 4000, outputTokens: 500, costUsd: 0.0065 });
  });

  it('text that is not JSON is sent back once with what was wrong; a valid second answer is taken, both calls counted', async () => {
    bedrock.on(ConverseCommand).resolvesOnce(textAnswer('Here is the review: {"narrative": "Three trades", "findings": [}')).resolvesOnce(toolAnswer(VALID));
    const out = await reviewer().review(req());
    expect(out.answer.narrative).toBe(VALID.narrative);
    expect(out.usage?.attempts).toBe(2);
    expect(out.usage?.inputTokens).toBe(8000);
    expect(out.notes.join(' ')).toContain('invalid JSON');
    const second = bedrock.commandCalls(ConverseCommand)[1]!.args[0].input;
    expect(second.messages).toHaveLength(3);
    expect(second.messages?.[2]?.content?.[0]?.text).toContain('not usable');
  });

  it('a tool call that breaks the rules (off the step grid, evidence into nothing) gets its tool result as an error, then is dropped with a note', async () => {
    const bad = { ...VALID, recommendations: [{ ...VALID.recommendations[0]!, evidence: ['figures.noSuchFigure'], changes: [{ key: 'exit.stopBeyondLevelPct', value: 1.05 }] }] };
    bedrock.on(ConverseCommand).resolves(toolAnswer(bad));
    const err = await reviewer().review(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReviewerFailedError);
    expect((err as ReviewerFailedError).kind).toBe('dropped');
    const notes = (err as ReviewerFailedError).details.notes!.join(' ');
    expect(notes).toContain('1.05 is not 0.3 + a multiple of 0.1');
    expect(notes).toContain('"figures.noSuchFigure" is not a path in the facts pack');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(2);
    const retry = bedrock.commandCalls(ConverseCommand)[1]!.args[0].input.messages!;
    expect(retry[2]!.content![0]!.toolResult).toMatchObject({ toolUseId: 'tooluse_1', status: 'error' });
    expect((err as ReviewerFailedError).details.usage).toEqual({ attempts: 2, inputTokens: 8000, outputTokens: 1000, costUsd: 0.013 });
  });

  it('a refusal (no tool call, a polite no) twice: dropped, the prompt and both responses kept for the bucket', async () => {
    bedrock.on(ConverseCommand).resolves(textAnswer("I can't provide trading advice."));
    const err = (await reviewer().review(req()).catch((e: unknown) => e)) as ReviewerFailedError;
    expect(err.kind).toBe('dropped');
    expect(err.details.notes!.join(' ')).toContain(`did not call ${REVIEW_TOOL_NAME}`);
    expect(err.details.responses).toHaveLength(2);
    expect(JSON.stringify(err.details.prompt)).toContain('Facts pack');
  });

  it('a filtered answer says so', async () => {
    bedrock.on(ConverseCommand).resolves(textAnswer('', 'content_filtered'));
    const err = (await reviewer().review(req()).catch((e: unknown) => e)) as ReviewerFailedError;
    expect(err.details.notes!.join(' ')).toContain('filtered (content_filtered)');
  });

  it('throttling is retried with a doubling backoff and then succeeds', async () => {
    const throttled = new ThrottlingException({ message: 'Too many requests, please wait before trying again.', $metadata: {} });
    bedrock.on(ConverseCommand).rejectsOnce(throttled).rejectsOnce(throttled).resolves(toolAnswer(VALID));
    const out = await reviewer().review(req());
    expect(out.answer.recommendations).toHaveLength(1);
    expect(sleeps).toEqual([100, 200]);
    expect(out.notes).toEqual(['Bedrock ThrottlingException on call 1', 'Bedrock ThrottlingException on call 2']);
    expect(out.usage?.attempts).toBe(1);
  });

  it('throttling that does not stop: a throttled failure after 3 calls; access denied fails at once', async () => {
    bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
    const err = (await reviewer().review(req()).catch((e: unknown) => e)) as ReviewerFailedError;
    expect(err.kind).toBe('throttled');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(3);
    bedrock.reset();
    bedrock.on(ConverseCommand).rejects(new AccessDeniedException({ message: 'no access to the model', $metadata: {} }));
    const denied = (await reviewer().review(req()).catch((e: unknown) => e)) as ReviewerFailedError;
    expect(denied.kind).toBe('unavailable');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });
});
