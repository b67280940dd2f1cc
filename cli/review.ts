/**
 * `npm run review -- --period daily|weekly|monthly [--date <yyyy-mm-dd>] [--data-dir <dir>] [--out <dir>]`
 *
 * The AI review, locally, over the state and candle archive of `npm start`: Amazon Bedrock when a
 * model id is given (`--model-id` or REVIEW_MODEL_ID) and AWS credentials are in the environment
 * (AWS_ACCESS_KEY_ID, AWS_PROFILE or a web identity), otherwise the built-in deterministic
 * reviewer, labelled as such. Files go under `<out>/reviews/<period>/<day>/` (default: the local
 * artifact store, `<data-dir>/artifacts`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { BedrockReviewer } from '../services/adapters/bedrock/bedrockReviewer.js';
import { LocalFolderStore } from '../services/adapters/s3/localFolderStore.js';
import { FileLinks } from '../services/adapters/s3/presignedLinks.js';
import { ConfigError } from '../services/core/errors.js';
import { CandleArchive } from '../services/ml/archive.js';
import { REPORT_PERIODS, reportWindow, type ReportPeriod } from '../services/reporting/period.js';
import { parseReviewConfig, type ReviewConfig } from '../services/review/config.js';
import { runReview, type ReviewRunResult } from '../services/review/run.js';
import { KernelRollingOosTester } from '../services/review/tester.js';
import { UsageError } from './args.js';
import { DEFAULT_DATA_DIR } from './control.js';
import { openLocalState } from './localState.js';
import { parseCommon, type CliIo } from './report.js';

export const REVIEW_USAGE = `usage: npm run review -- --period daily|weekly|monthly
         [--date <yyyy-mm-dd>] [--data-dir <dir>] [--out <dir>] [--state-endpoint <url>]
         [--model-id <bedrock id>] [--region <aws region>] [--review-config <file.json>]
         [--config <file.json>] [--mode standard|hf] [--profile conservative|moderate|aggressive]

  --period         the period reviewed (UTC days; ISO weeks start Monday 00:00 UTC)
  --date           a day inside it; default: the last complete period
  --data-dir       the data folder of npm start (default ${DEFAULT_DATA_DIR}): its state and candle archive
  --out            where reviews/<period>/<day>/ goes (default <data-dir>/artifacts)
  --model-id       a Bedrock model or inference profile id (or REVIEW_MODEL_ID); with AWS credentials
                   in the environment the review uses Bedrock, otherwise the deterministic reviewer
  --review-config  JSON overrides of the review config (models, prices, tunables, the test's rule)`;

/** AWS credentials in the environment, without asking any endpoint (no instance metadata lookups). */
export function hasAwsCredentials(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean((env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
}

function loadReviewConfig(file: string | undefined): ReviewConfig {
  if (!file) return parseReviewConfig({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--review-config ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return parseReviewConfig(raw, `review config (${file})`);
}

export async function reviewCommand(argv: readonly string[], io: CliIo & { env?: Readonly<Record<string, string | undefined>> }): Promise<ReviewRunResult> {
  const { str, config, dataDir } = parseCommon(argv, { period: { type: 'string' }, date: { type: 'string' }, 'model-id': { type: 'string' }, region: { type: 'string' }, 'review-config': { type: 'string' } }, REVIEW_USAGE, io.log);
  const period = str('period');
  if (!period || !(REPORT_PERIODS as readonly string[]).includes(period)) throw new UsageError(`--period must be daily, weekly or monthly${period ? `, got "${period}"` : ''}`);
  const env = io.env ?? process.env;
  const now = io.now ?? Date.now;
  const window = reportWindow(period as ReportPeriod, str('date'), now());
  let settings = loadReviewConfig(str('review-config'));
  const modelId = str('model-id') ?? env.REVIEW_MODEL_ID;
  const useBedrock = Boolean(modelId) && hasAwsCredentials(env);
  if (modelId && useBedrock) {
    const p = period as ReportPeriod;
    const known = Object.values(settings.models).find((m) => m.invokeId === modelId || m.modelId === modelId);
    if (!known) io.err(`note: ${modelId} is not one of the configured models; costs are logged at the ${p} model's prices`);
    settings = { ...settings, models: { ...settings.models, [p]: { ...(known ?? settings.models[p]), invokeId: modelId } } };
  }
  if (modelId && !useBedrock) io.err('note: a model id but no AWS credentials in the environment: the deterministic reviewer writes the review');
  const out = str('out') ?? join(dataDir, 'artifacts');
  const archive = new CandleArchive(new LocalFolderStore(join(dataDir, 'artifacts')));
  const state = await openLocalState({ dataDir, ...(str('state-endpoint') ? { stateEndpoint: str('state-endpoint')! } : {}), now });
  const client = useBedrock ? new BedrockRuntimeClient({ region: str('region') ?? env.AWS_REGION ?? 'us-east-1', maxAttempts: 1 }) : undefined;
  try {
    const symbols = config.symbols.length ? config.symbols : await archive.symbols();
    const result = await runReview(
      {
        store: state.store,
        archive,
        live: config,
        settings,
        ...(client ? { reviewer: new BedrockReviewer({ client, models: settings.models, sleep: (ms) => sleep(ms) }) } : {}),
        tester: new KernelRollingOosTester({ archive, symbols, settings: settings.tester }),
        channels: { archive: new LocalFolderStore(out), signer: new FileLinks(out) },
        symbols,
        now,
        log: (line, data) => io.err(`${line} ${JSON.stringify(data ?? {})}`),
      },
      window,
    );
    const o = result.outcome;
    io.log(`${window.period} review ${window.label}, written by: ${o.label}`);
    for (const n of o.notes) io.log(`  note: ${n}`);
    io.log(`  ${o.answer.narrative}`);
    for (const r of result.recommendations) io.log(`  - ${r.title}: ${r.changes.map((c) => `${c.key} ${c.from} -> ${c.to}`).join(', ')}: ${r.test.verdict === 'supported' ? 'SUPPORTED' : 'not supported'} (${r.test.reasons.join('; ')})`);
    if (o.usage) io.log(`  tokens ${o.usage.inputTokens} in / ${o.usage.outputTokens} out, $${o.usage.costUsd.toFixed(4)}`);
    io.log(`  divergence: ${result.facts.divergence.status === 'ok' ? `${result.facts.divergence.matched} matched, ${result.facts.divergence.liveOnlyCount} live only, ${result.facts.divergence.replayOnlyCount} replay only` : (result.facts.divergence.detail ?? result.facts.divergence.status)}`);
    for (const f of result.files) io.log(`  ${out}/${f.key}`);
    return result;
  } finally {
    client?.destroy();
    await state.close();
  }
}
