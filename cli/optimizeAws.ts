/**
 * `npm run optimize -- --on aws --bucket <artifact bucket> --state-machine <arn> ...`: the same
 * optimisation on AWS (lib/researchRunner.ts). The candle files are uploaded once under
 * research/data/<content digest>/<SYMBOL>/ (the same file is never uploaded twice), the job is
 * written and an execution started (startOptimizationRun, the function the Telegram bot's
 * /optimize calls too); unless --no-wait, the command follows the execution and downloads
 * report.json and report.html into --out. A failed execution is resumed by running the same
 * command again: the trial log in the bucket is kept, and the next attempt starts from it.
 *
 * The bucket and the state machine are the stack's outputs ArtifactBucketName and
 * ResearchStateMachineArn (also read from OPTIMIZE_BUCKET and OPTIMIZE_STATE_MACHINE_ARN).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { S3ObjectStore } from '../services/adapters/s3/s3ObjectStore.js';
import { executionStatus, sfnStarter } from '../services/adapters/stepfunctions/sfnExecutions.js';
import { expandDataPaths, symbolFromPath } from '../services/adapters/candleFiles.js';
import type { ObjectStore } from '../services/ml/archive.js';
import { digest } from '../services/research/runSpec.js';
import { startOptimizationRun, type CloudJob } from '../services/research/cloudRun.js';
import type { OptimizeReport } from '../services/research/analysis.js';
import { UsageError } from './args.js';
import { formatOptimizeSummary, type OptimizeIo, type ParsedOptimize } from './optimize.js';

export interface AwsDeps {
  readonly store: ObjectStore;
  readonly start: (name: string, input: unknown) => Promise<string | null>;
  readonly status: (executionArn: string) => Promise<{ status: string; error?: string; cause?: string }>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly pollMs: number;
}

/** Most attempts (execution names) one job may use. */
const MAX_ATTEMPTS = 50;
/** Most polls while waiting (with 15 s between them: over a day, the state machine's own timeout). */
const MAX_POLLS = 6000;

/** Uploads the data (content-addressed), starts the run and, with wait, follows it to its report. */
export async function runOnAws(a: ParsedOptimize, io: OptimizeIo, deps?: AwsDeps): Promise<OptimizeReport | undefined> {
  const bucket = a.aws.bucket ?? process.env.OPTIMIZE_BUCKET;
  const arn = a.aws.stateMachineArn ?? process.env.OPTIMIZE_STATE_MACHINE_ARN;
  if (!bucket) throw new UsageError('--on aws needs --bucket <the stack output ArtifactBucketName> (or OPTIMIZE_BUCKET)');
  if (!arn) throw new UsageError('--on aws needs --state-machine <the stack output ResearchStateMachineArn> (or OPTIMIZE_STATE_MACHINE_ARN)');
  const d: AwsDeps =
    deps ??
    (() => {
      const sfn = new SFNClient({});
      return {
        store: new S3ObjectStore(new S3Client({}), bucket),
        start: sfnStarter(sfn, arn),
        status: (x: string) => executionStatus(sfn, x),
        sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
        pollMs: 15_000,
      };
    })();
  const keys: string[] = [];
  for (const file of expandDataPaths(a.data)) {
    const body = readFileSync(file);
    const key = `research/data/${digest(body.toString('latin1'))}/${symbolFromPath(file)}/${basename(file)}`;
    if ((await d.store.get(key)) === null) await d.store.put(key, body, 'application/gzip');
    keys.push(key);
  }
  const job: CloudJob = { job: { ...a.job, ...(a.job.spaceSource ? { spaceSource: basename(a.job.spaceSource) } : {}) }, data: keys, symbols: a.symbols };
  let started: { runId: string; runPrefix: string; executionArn: string } | null = null;
  for (let attempt = 0; attempt < MAX_ATTEMPTS && !started; attempt++) {
    const r = await startOptimizationRun({ store: d.store, startExecution: async (name, input) => (await d.start(name, input)) ?? '' }, job, attempt);
    if (r.executionArn) started = r;
  }
  if (!started) throw new UsageError(`--on aws: ${MAX_ATTEMPTS} executions of this job exist already; change the job (e.g. --seed) or wait`);
  io.err(`run ${started.runId} started on AWS: ${started.executionArn} (s3://${bucket}/${started.runPrefix})`);
  if (!a.aws.wait) return undefined;
  for (let i = 0; i < MAX_POLLS; i++) {
    const s = await d.status(started.executionArn);
    if (s.status === 'RUNNING') {
      if (!a.quiet) io.err(`optimize on aws  ${(await d.store.list(`${started.runPrefix}trials/`)).length} trial log parts written  still running`);
      await d.sleep(d.pollMs);
      continue;
    }
    if (s.status !== 'SUCCEEDED') throw new UsageError(`the execution ended ${s.status}${s.error ? `: ${s.error}` : ''}${s.cause ? ` (${s.cause.slice(0, 300)})` : ''}; run the same command again to resume from the trial log`);
    mkdirSync(a.outDir, { recursive: true });
    const report = await d.store.get(`${started.runPrefix}report.json`);
    const html = await d.store.get(`${started.runPrefix}report.html`);
    if (!report || !html) throw new UsageError(`the execution succeeded but ${started.runPrefix}report.json is missing`);
    writeFileSync(join(a.outDir, 'report.json'), report);
    writeFileSync(join(a.outDir, 'report.html'), html);
    const parsed = JSON.parse(Buffer.from(report).toString('utf8')) as OptimizeReport;
    io.log(formatOptimizeSummary(parsed, a.outDir));
    return parsed;
  }
  throw new UsageError(`stopped waiting after ${MAX_POLLS} polls; the run goes on: ${started.executionArn}`);
}
