/**
 * The reviewer on Amazon Bedrock's Converse API: one tool (`submit_review`) whose input schema is
 * the answer's zod schema as JSON Schema, forced with `toolChoice`, temperature 0. The answer is
 * validated with the same schema (services/review/answer.ts); an invalid one (no tool call, a
 * refusal, text that is not JSON, a value off its grid, evidence that resolves nowhere) is sent back
 * once with what was wrong, then dropped with a note. Throttling and transient errors are retried
 * with backoff, at most `maxAttempts` calls per turn; access, validation and unknown-model errors
 * are not. Tokens and cost (the config's list prices) are counted over every call.
 *
 * The client is created once per process by the caller with the SDK's own retries off
 * (`maxAttempts: 1`), so these bounds are the only ones.
 */
import { ConverseCommand, type BedrockRuntimeClient, type ContentBlock, type ConverseCommandOutput, type Message } from '@aws-sdk/client-bedrock-runtime';
import { parseReviewAnswer, REVIEW_TOOL_NAME, reviewToolJsonSchema } from '../../review/answer.js';
import type { ReviewModel } from '../../review/config.js';
import { systemPrompt, userPrompt } from '../../review/prompt.js';
import { costOf, ReviewerFailedError, type Reviewer, type ReviewOutcome, type ReviewRequest, type ReviewUsage } from '../../review/reviewer.js';

const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'ModelNotReadyException', 'InternalServerException', 'ModelTimeoutException', 'TimeoutError']);

export interface BedrockReviewerOptions {
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  readonly models: Readonly<Record<'daily' | 'weekly' | 'monthly', ReviewModel>>;
  readonly sleep: (ms: number) => Promise<void>;
  /** Calls per turn for throttling and transient errors (default 3). */
  readonly maxAttempts?: number;
  /** First backoff (default 2 s), doubled per retry. */
  readonly backoffMs?: number;
  /** Bound on one call (default 120 s). */
  readonly timeoutMs?: number;
  readonly log?: (line: string, data?: Record<string, unknown>) => void;
}

type Turn = { readonly kind: 'tool'; readonly input: unknown; readonly toolUseId: string } | { readonly kind: 'text'; readonly text: string; readonly why: string };

function turnOf(out: ConverseCommandOutput): Turn {
  const content = out.output?.message?.content ?? [];
  const tool = content.find((c) => c.toolUse !== undefined)?.toolUse;
  if (tool && tool.name === REVIEW_TOOL_NAME) return { kind: 'tool', input: tool.input, toolUseId: tool.toolUseId ?? 'tool-0' };
  const text = content
    .map((c) => c.text ?? '')
    .join('')
    .trim();
  const why =
    out.stopReason === 'content_filtered' || out.stopReason === 'guardrail_intervened'
      ? `the answer was filtered (${out.stopReason})`
      : out.stopReason === 'max_tokens'
        ? 'the answer was cut at the token limit'
        : tool
          ? `it called ${tool.name ?? 'an unknown tool'} instead of ${REVIEW_TOOL_NAME}`
          : `it did not call ${REVIEW_TOOL_NAME} (stop reason ${out.stopReason ?? 'none'})`;
  return { kind: 'text', text: text.slice(0, 4000), why };
}

/** A text answer may still hold the JSON (some models ignore a forced tool): try it, or say why not. */
function jsonOfText(text: string): { ok: true; value: unknown } | { ok: false; why: string } {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, why: 'no JSON object in the text' };
  try {
    return { ok: true, value: JSON.parse(text.slice(start, end + 1)) as unknown };
  } catch (e) {
    return { ok: false, why: `invalid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
}

function errName(e: unknown): string {
  return typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : 'Error';
}

export class BedrockReviewer implements Reviewer {
  readonly name = 'bedrock';
  constructor(private readonly o: BedrockReviewerOptions) {}

  async review(req: ReviewRequest): Promise<ReviewOutcome> {
    const model = this.o.models[req.period];
    const schema = reviewToolJsonSchema(req.tunables, req.maxRecommendations);
    const system = systemPrompt(req);
    const messages: Message[] = [{ role: 'user', content: [{ text: userPrompt(req) }] }];
    const toolConfig = {
      tools: [{ toolSpec: { name: REVIEW_TOOL_NAME, description: 'Submit the review: narrative, findings with evidence, and tested-later recommendations.', inputSchema: { json: schema as never } } }],
      toolChoice: { tool: { name: REVIEW_TOOL_NAME } },
    };
    const prompt = { modelId: model.invokeId, system, messages: structuredClone(messages), toolConfig, inferenceConfig: { maxTokens: model.maxTokens, temperature: 0 } };
    const responses: unknown[] = [];
    const notes: string[] = [];
    let usage: ReviewUsage = { attempts: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const count = (out: ConverseCommandOutput) => {
      const i = usage.inputTokens + (out.usage?.inputTokens ?? 0);
      const o = usage.outputTokens + (out.usage?.outputTokens ?? 0);
      usage = { attempts: usage.attempts + 1, inputTokens: i, outputTokens: o, costUsd: costOf(model, i, o) };
    };

    for (let turn = 0; turn < 2; turn++) {
      const out = await this.call({ ...prompt, messages }, { usage: () => usage, prompt, responses, notes });
      count(out);
      responses.push({ stopReason: out.stopReason, usage: out.usage, output: out.output });
      const t = turnOf(out);
      let raw: unknown;
      let problem: string | undefined;
      if (t.kind === 'tool') raw = t.input;
      else {
        const j = jsonOfText(t.text);
        if (j.ok) raw = j.value;
        else problem = `${t.why}; ${j.why}`;
      }
      if (problem === undefined) {
        const check = parseReviewAnswer(raw, { tunables: req.tunables, maxRecommendations: req.maxRecommendations, live: req.live, facts: req.facts });
        if (check.ok) {
          if (turn > 0) notes.push('the first answer was invalid and was corrected on the retry');
          this.o.log?.('bedrock review', { model: model.invokeId, ...usage });
          return { reviewer: this.name, label: `Amazon Bedrock, ${model.modelId}`, model: model.modelId, answer: check.answer, notes, usage, prompt, responses };
        }
        problem = check.issues.join('; ');
      }
      notes.push(`answer ${turn + 1} invalid: ${problem.slice(0, 600)}`);
      if (turn === 1) break;
      // Tell the model what was wrong, once. A tool call must be answered with its tool result.
      const reply: ContentBlock[] =
        t.kind === 'tool'
          ? [{ toolResult: { toolUseId: t.toolUseId, status: 'error', content: [{ text: `Invalid: ${problem.slice(0, 2000)}` }] } }, { text: `Call ${REVIEW_TOOL_NAME} again with a corrected answer.` }]
          : [{ text: `Your answer was not usable: ${problem.slice(0, 2000)}. Call ${REVIEW_TOOL_NAME} with the review.` }];
      if (out.output?.message) messages.push(out.output.message);
      messages.push({ role: 'user', content: reply });
    }
    this.o.log?.('bedrock review dropped', { model: model.invokeId, ...usage });
    throw new ReviewerFailedError(`Bedrock answer dropped after a retry: ${notes[notes.length - 1] ?? ''}`, 'dropped', { usage, prompt, responses, notes });
  }

  /** One Converse call with bounded retries of throttling and transient errors. */
  private async call(input: Record<string, unknown>, ctx: { usage: () => ReviewUsage; prompt: unknown; responses: unknown[]; notes: string[] }): Promise<ConverseCommandOutput> {
    const max = this.o.maxAttempts ?? 3;
    let delay = this.o.backoffMs ?? 2000;
    for (let attempt = 1; ; attempt++) {
      try {
        const out: ConverseCommandOutput = await this.o.client.send(new ConverseCommand(input as never), { abortSignal: AbortSignal.timeout(this.o.timeoutMs ?? 120_000) });
        return out;
      } catch (e) {
        const name = errName(e);
        const retryable = RETRYABLE.has(name);
        ctx.notes.push(`Bedrock ${name} on call ${attempt}`);
        if (!retryable || attempt >= max) {
          throw new ReviewerFailedError(`Bedrock ${name}${retryable ? ` after ${attempt} calls` : ''}`, name === 'ThrottlingException' ? 'throttled' : 'unavailable', { usage: ctx.usage(), prompt: ctx.prompt, responses: ctx.responses, notes: ctx.notes }, { cause: e });
        }
        await this.o.sleep(delay);
        delay *= 2;
      }
    }
  }
}
