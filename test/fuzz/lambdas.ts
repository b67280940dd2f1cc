/**
 * The ops Lambdas' events (alert dispatcher, retrain, emergency stop, reconcile, risk sweep, backtest,
 * through their middy and Powertools wrappers): SQS batches whose records are missing, malformed or
 * carry real event bodies (alerts, retrain and backtest requests) and junk; EventBridge events (the schedule, the SSM
 * parameter change with any detail); Function URL requests (payload 2.0: none of these six sits
 * behind a Function URL, so each must refuse one); and any JSON at all. The Lambdas that do sit
 * behind one (signal webhook, dashboard) and the report and review Lambdas are lambdaUrls.ts's. Rules: a handler never throws because of its event (the two jobs that
 * read no event fail only with their dependencies' marker, which proves the event got through to
 * their work); an SQS answer names only message ids it was given, never an empty one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Context } from 'aws-lambda';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { MemoryOnceStore } from '../../services/console/ports.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { DomainEvent } from '../../services/events/types.js';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

/** What the reconcile and risk-sweep dependencies fail with: the event reached the job itself. */
class DepsMarkerError extends Error {
  override readonly name = 'DepsMarkerError';
}

const alertBody = fc.record({ id: fc.oneof(fc.constantFrom('a-1', 'a-2'), nastyString), severity: fc.constantFrom('info', 'warning', 'critical', 'fatal'), title: nastyString, detail: nastyString, time: fc.oneof(fc.nat(), fc.double()) }).map((a) => JSON.stringify({ type: 'alert', ...a }));
const retrainBody = fc.record({ id: nastyString, reason: nastyString, symbol: fc.constantFrom('BTCUSDT', 'x'), time: fc.nat() }).map((r) => JSON.stringify({ type: 'retrain_request', ...r }));
const backtestBody = fc
  .record({ id: fc.oneof(fc.constantFrom('backtest_request:backtest-a-1'), nastyString), jobId: fc.oneof(fc.constantFrom('backtest-a-1', 'backtest-b-2', '..', '.'), nastyString), requestedBy: nastyString, time: fc.oneof(fc.nat(), fc.double()), days: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constant(undefined)) }, { requiredKeys: ['id', 'jobId'] })
  .map((b) => JSON.stringify({ type: 'backtest_request', ...b }));
// Requests the schema accepts, so the backtest job gets past validation to its work (an empty archive: answered, nothing runs).
const validBacktestBody = fc
  .record({ jobId: fc.constantFrom('backtest-a-1', 'backtest-b-2', 'backtest-c-3'), days: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }) })
  .map(({ jobId, days }) => JSON.stringify({ type: 'backtest_request', id: `backtest_request:${jobId}`, time: 1_700_000_000_000, jobId, requestedBy: 'telegram 1 @fuzz', ...(days !== undefined ? { days } : {}) }));
const body = fc.oneof(alertBody, retrainBody, backtestBody, validBacktestBody, nastyString, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)));
const record = fc.oneof(
  { weight: 5, arbitrary: fc.record({ messageId: fc.oneof(fc.uuid(), fc.constantFrom('', 'm-1')), body, receiptHandle: fc.string(), attributes: fc.constant({}), eventSource: fc.constant('aws:sqs') }, { requiredKeys: ['messageId', 'body'] }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 2 }), fc.record({ body }, { requiredKeys: [] })) },
);
const sqsEvent = fc.record({ Records: fc.oneof({ weight: 8, arbitrary: fc.array(record, { maxLength: 6 }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }) });
const scheduled = fc.record({ version: fc.constant('0'), id: fc.uuid(), source: fc.constantFrom('aws.events', 'aws.ssm', 'custom'), 'detail-type': fc.constantFrom('Scheduled Event', 'Parameter Store Change', 'x'), time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nastyString), detail: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] });
const ssmChange = fc.record({ source: fc.constant('aws.ssm'), id: fc.oneof(fc.uuid(), fc.constant('')), time: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), nastyString), detail: fc.record({ name: fc.constantFrom('/k', '/other', ''), operation: fc.constantFrom('Update', 'Create', 'Delete') }, { requiredKeys: [] }) }, { requiredKeys: ['source', 'id', 'time', 'detail'] });
const onDemand = fc.record({ action: fc.constantFrom('emergency-stop', 'stop'), reason: fc.oneof(nastyString, fc.string({ maxLength: 600 })) }, { requiredKeys: ['action'] });
const functionUrl = fc.record({
  version: fc.constant('2.0'),
  routeKey: fc.constant('$default'),
  rawPath: fc.oneof(fc.webPath(), nastyString),
  rawQueryString: nastyString,
  headers: fc.dictionary(fc.string({ maxLength: 20 }), nastyString, { maxKeys: 4 }),
  requestContext: fc.record({ http: fc.record({ method: fc.constantFrom('GET', 'POST', 'PUT'), path: fc.webPath(), sourceIp: fc.ipV4() }), requestId: fc.uuid() }),
  body: fc.oneof(nastyString, fc.jsonValue().map((v) => JSON.stringify(v))),
  isBase64Encoded: fc.boolean(),
});
const event = fc.oneof(sqsEvent, scheduled, ssmChange, onDemand, functionUrl, fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(null, undefined, 0, '', [], {}, { Records: [null] }));
const JOBS = ['alert-dispatcher', 'retrain', 'emergency-stop', 'reconcile', 'risk-sweep', 'backtest'] as const;
type Job = (typeof JOBS)[number];

type Invoke = (event: unknown, context: Context) => Promise<unknown>;

export async function fuzzLambdaEvents(opts: FuzzOptions): Promise<FuzzResult> {
  // Quiet and offline Powertools, before the handlers' modules create their loggers.
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_TRACE_ENABLED'] = 'false';
  // Dev mode: Powertools writes through the global console, which the run below holds back.
  process.env['POWERTOOLS_DEV'] = 'true';
  const [{ createAlertDispatcherHandler }, { createRetrainHandler }, { createEmergencyStopHandler, parseEmergencyStopEnv }, { createReconcileHandler }, { createRiskSweepHandler }, { localContext }, { MemoryDeliveryLedger }, { createBacktestHandler, backtestSettings, parseBacktestEnv }] = await Promise.all([
    import('../../lambdas/alert-dispatcher/handler.js'),
    import('../../lambdas/retrain/handler.js'),
    import('../../lambdas/emergency-stop/handler.js'),
    import('../../lambdas/reconcile/handler.js'),
    import('../../lambdas/risk-sweep/handler.js'),
    import('../../lambdas/shared/powertools.js'),
    import('../../services/ops/alertDispatch.js'),
    import('../../lambdas/backtest/handler.js'),
  ]);
  let now = 1_700_000_000_000;
  const sent: string[] = [];
  const published: DomainEvent[] = [];
  let switchValue = 'RUNNING';
  const alertDeps = { stage: 'fuzz', channels: [{ name: 'rec', send: (m: { text: string }) => Promise.resolve(void sent.push(m.text.slice(0, 20))) }], ledger: new MemoryDeliveryLedger(60_000, () => now) };
  const retrainRuns: string[] = [];
  const env = parseEmergencyStopEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'm' });
  const { store } = createMemoryStore({ clock: () => now });
  const esDeps = {
    env,
    store,
    killSwitch: { read: () => Promise.resolve({ value: switchValue }), write: () => Promise.resolve() },
    alerts: { publish: (e: DomainEvent) => Promise.resolve(void published.push(e)) },
    venue: () => Promise.reject(new DepsMarkerError('venue')),
    now: () => now,
    sleep: () => Promise.resolve(),
  };
  // The backtest job over an empty archive in a scratch folder: a valid request is answered (too
  // short) through the same path as a real one, and its files land in the folder.
  const btRoot = mkdtempSync(join(tmpdir(), 'fuzz-backtest-'));
  const backtestAnswers: string[] = [];
  const btEnv = parseBacktestEnv({ STAGE: 'dev', ARTIFACT_BUCKET: 'b', IDEMPOTENCY_TABLE: 'i', ALERTS_QUEUE_URL: 'q', SCRATCH_DIR: join(btRoot, 'scratch') });
  const btDeps = { store: new LocalFolderStore(join(btRoot, 'bucket')), lock: new MemoryOnceStore(() => now), alert: (e: DomainEvent) => Promise.resolve(void backtestAnswers.push(e.id)), now: () => now, settings: backtestSettings(btEnv) };
  const handlers: Record<Job, Invoke> = {
    'alert-dispatcher': createAlertDispatcherHandler(() => Promise.resolve(alertDeps as never)),
    retrain: createRetrainHandler(() => Promise.resolve({ run: (t: { kind?: string }) => Promise.resolve((retrainRuns.push(String(t.kind)), { status: 'skipped', reason: 'fuzz' })) } as never)),
    'emergency-stop': createEmergencyStopHandler(() => Promise.resolve(esDeps as never)),
    reconcile: createReconcileHandler(() => Promise.reject(new DepsMarkerError('deps'))),
    'risk-sweep': createRiskSweepHandler(() => Promise.reject(new DepsMarkerError('deps'))),
    backtest: createBacktestHandler(() => Promise.resolve(btDeps as never)),
  };
  let n = 0;
  // Powertools' metrics middleware warns on stderr for every invocation without a metric; ten
  // thousand of those would bury the soak's output. Held back during the run, counted.
  const warn = console.warn;
  let notices = 0;
  console.warn = () => void notices++;
  const input = fc.record({ job: fc.constantFrom(...JOBS), event, switchValue: fc.constantFrom('RUNNING', 'PAUSED', 'EMERGENCY_STOP', 'emergency_stop', '') });
  return fuzz(
    'Lambda events (SQS bodies, EventBridge details, Function URL requests)',
    input,
    async ({ job, event: ev, switchValue: sv }, tally: Tally) => {
      switchValue = sv;
      now += 1000;
      let out: unknown;
      try {
        // structuredClone: Powertools' batch processor may annotate the records it is given.
        out = await handlers[job](ev === undefined ? undefined : structuredClone(ev), localContext(job, `fuzz-${++n}`));
      } catch (e) {
        if (e instanceof DepsMarkerError) {
          tally.count(`${job}:reached its work (deps marker)`);
          return;
        }
        throw new FuzzInvariantError(`${job} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      const answer = out as { batchItemFailures?: { itemIdentifier?: unknown }[]; rejected?: unknown; acted?: unknown; status?: unknown };
      if (answer?.batchItemFailures) {
        const recs = (ev as { Records?: unknown } | null)?.Records;
        const ids = new Set(Array.isArray(recs) ? recs.flatMap((r: { messageId?: unknown } | null) => (typeof r?.messageId === 'string' ? [r.messageId] : [])) : []);
        for (const f of answer.batchItemFailures) {
          if (typeof f.itemIdentifier !== 'string' || f.itemIdentifier === '' || !ids.has(f.itemIdentifier)) throw new FuzzInvariantError(`${job} answered a failure entry ${JSON.stringify(f)} for ids ${[...ids].join(',')}`);
        }
        tally.count(`${job}:batch answered (${answer.batchItemFailures.length ? 'some records failed' : 'no failures'})`);
        if (answer.batchItemFailures.length) tally.count('rejected:sqs record', answer.batchItemFailures.length);
        return;
      }
      if (answer?.rejected !== undefined) {
        tally.count(`rejected:${job} event`);
        return;
      }
      tally.count(`${job}:answered ${answer?.acted === false ? 'acted false' : typeof answer?.status === 'string' ? `status ${answer.status}` : 'ok'}`);
    },
    opts,
  )
    .then((r) => ({ ...r, outcomes: { ...r.outcomes, 'alerts delivered by the dispatcher': sent.length, 'emergency-stop alerts published': published.length, 'retrain runs': retrainRuns.length, 'backtest jobs answered': backtestAnswers.length, 'powertools notices held back': notices } }))
    .finally(() => {
      console.warn = warn;
      rmSync(btRoot, { recursive: true, force: true });
    });
}
