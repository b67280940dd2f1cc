/**
 * Every Lambda handler given an event it cannot use (issue 15, defect 9): `null`, a number, a
 * string, an array, `{}`, `{"Records": null}`, `{"Records": [null]}`, a record without a messageId.
 * None throws because of the event; a batch answer never holds an entry without an itemIdentifier
 * (SQS would fail the whole batch on it); a well-formed record next to bad ones is still reported.
 *
 * The Function URL handlers (signal webhook, dashboard) answer such an event 400 JSON, or a refusal
 * of their own (the dashboard's 401 without a link); the Step Functions tasks (optimize control and
 * worker) throw, as a task fails, an EventValidationError naming the bad field.
 *
 * The jobs that ignore their event (reconcile, risk sweep) get dependencies that fail with a marker:
 * the marker coming back proves the event went through the middleware to the handler's own work.
 */
import { describe, expect, it } from 'vitest';
import { createAlertDispatcherHandler, type AlertDispatcherDeps } from '../../lambdas/alert-dispatcher/handler.js';
import { createDashboardHandler } from '../../lambdas/dashboard/handler.js';
import { createControlHandler } from '../../lambdas/optimize-control/handler.js';
import { createWorkerHandler } from '../../lambdas/optimize-worker/handler.js';
import { EventValidationError } from '../../lambdas/shared/events.js';
import { createSignalWebhookHandler } from '../../lambdas/signal-webhook/handler.js';
import { createEmergencyStopHandler, parseEmergencyStopEnv, type EmergencyStopHandlerDeps } from '../../lambdas/emergency-stop/handler.js';
import { createReconcileHandler } from '../../lambdas/reconcile/handler.js';
import { createRetrainHandler, type RetrainHandlerDeps } from '../../lambdas/retrain/handler.js';
import { createRiskSweepHandler } from '../../lambdas/risk-sweep/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';

const BAD: readonly [string, unknown][] = [
  ['null', null],
  ['a number', 42],
  ['a string', 'hello'],
  ['an array', [1, 2]],
  ['an empty object', {}],
  ['Records: null', { Records: null }],
  ['Records: [null]', { Records: [null] }],
  ['a record without messageId', { Records: [{ body: '{}' }] }],
  ['a record with an empty messageId', { Records: [{ messageId: '', body: '{}' }] }],
];

const ctx = (id: string) => localContext('test', id);
type Invoke = (event: unknown, context: ReturnType<typeof ctx>) => Promise<unknown>;

class Marker extends Error {
  override readonly name = 'MarkerError';
}

describe.each(BAD)('an event that is %s', (_label, event) => {
  it('alert dispatcher: answers with no failure entry and sends nothing', async () => {
    let built = 0;
    const h = createAlertDispatcherHandler(() => {
      built++;
      return Promise.resolve({ stage: 't', channels: [], ledger: {} } as unknown as AlertDispatcherDeps);
    }) as unknown as Invoke;
    expect(await h(event, ctx('a'))).toEqual({ batchItemFailures: [] });
    expect(built).toBe(0);
  });

  it('retrain: trains nothing and does not throw', async () => {
    let runs = 0;
    const h = createRetrainHandler(() => Promise.resolve({ run: () => Promise.resolve((runs++, { status: 'skipped', reason: 'x' })) } as unknown as RetrainHandlerDeps)) as unknown as Invoke;
    const out = (await h(event, ctx('r'))) as { batchItemFailures?: unknown[]; status?: string };
    expect(out.batchItemFailures ?? []).toEqual([]);
    if (out.status !== undefined) expect(out.status).toBe('rejected');
    expect(runs).toBe(0);
  });

  it('emergency stop: refuses it without throwing and without reading anything', async () => {
    const env = parseEmergencyStopEnv({ STAGE: 'dev', STATE_TABLE: 't', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'm' });
    const h = createEmergencyStopHandler(() => Promise.resolve({ env } as unknown as EmergencyStopHandlerDeps)) as unknown as Invoke;
    expect(await h(event, ctx('e'))).toMatchObject({ acted: false, rejected: expect.stringMatching(/^expected an SSM "Parameter Store Change" event/) as unknown });
  });

  it('reconcile and risk sweep: the event reaches their own work (they take no input from it)', async () => {
    const handlers = [createReconcileHandler(() => Promise.reject(new Marker('deps'))), createRiskSweepHandler(() => Promise.reject(new Marker('deps')))] as unknown as Invoke[];
    for (const h of handlers) await expect(h(event, ctx('j'))).rejects.toBeInstanceOf(Marker);
  });
});

describe('a batch mixing good and bad records', () => {
  it('alert dispatcher and retrain report only the well-formed record that failed, by its id', async () => {
    const event = { Records: [null, { body: 'x' }, { messageId: 'm-1', body: 'not json' }] };
    const ad = createAlertDispatcherHandler(() => Promise.resolve({ stage: 't', channels: [], ledger: {} } as unknown as AlertDispatcherDeps)) as unknown as Invoke;
    expect(await ad(event, ctx('a'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    const rt = createRetrainHandler(() => Promise.resolve({ run: () => Promise.reject(new Error('not reached')) } as unknown as RetrainHandlerDeps)) as unknown as Invoke;
    expect(await rt(event, ctx('r'))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

/** Garbage shaped like a Function URL request, one field wrong at a time, and the dashboard's answer. */
const BAD_URL_EVENTS: readonly [string, unknown, number][] = [
  ['rawPath a number', { rawPath: 7, requestContext: { http: { method: 'POST' } } }, 400],
  ['requestContext a string', { rawPath: '/signals', requestContext: 'x' }, 400],
  // The dashboard takes a missing method as GET (and then wants its link); the webhook needs one.
  ['a request without a method', { rawPath: '/signals', requestContext: {} }, 401],
  ['method a number', { rawPath: '/signals', requestContext: { http: { method: 1 } } }, 400],
  ['headers a number', { rawPath: '/signals', headers: 5, requestContext: { http: { method: 'POST' } } }, 400],
  ['body an object', { rawPath: '/signals', body: { a: 1 }, requestContext: { http: { method: 'POST' } } }, 400],
  ['isBase64Encoded a string', { rawPath: '/signals', body: 'e30=', isBase64Encoded: 'yes', requestContext: { http: { method: 'POST' } } }, 400],
  ['queryStringParameters an array', { rawPath: '/', queryStringParameters: ['t'], requestContext: { http: { method: 'GET' } } }, 400],
];

type UrlAnswer = { statusCode: number; headers?: Record<string, string>; body: string };
const isObj = (e: unknown): boolean => typeof e === 'object' && e !== null && !Array.isArray(e);

describe.each([...BAD.map(([l, e]): [string, unknown, number] => [l, e, isObj(e) ? 401 : 400]), ...BAD_URL_EVENTS])('a Function URL handler given %s', (_label, event, dashboardStatus) => {
  it('signal webhook: 400 JSON, without reading a secret', async () => {
    let built = 0;
    const h = createSignalWebhookHandler(() => {
      built++;
      return Promise.reject(new Error('deps must not be needed'));
    }) as unknown as Invoke;
    const r = (await h(event, ctx('s'))) as UrlAnswer;
    expect(r.statusCode).toBe(400);
    expect(r.headers?.['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: expect.stringMatching(/^bad request: /) as unknown });
    expect(built).toBe(0);
  });

  it('dashboard: 400 JSON for a wrong field, else its 401 without a link; never a throw, nothing served', async () => {
    const h = createDashboardHandler(() => Promise.resolve({ store: { getStatusSnapshot: () => Promise.reject(new Error('not reached')), listPublications: () => Promise.reject(new Error('not reached')) }, linkKey: new Uint8Array(32), chartsJs: () => '', now: () => 0 })) as unknown as (e: unknown) => Promise<UrlAnswer>;
    const r = await h(event);
    expect(r.statusCode).toBe(dashboardStatus);
    if (r.statusCode === 400) {
      expect(r.headers?.['content-type']).toBe('application/json');
      expect(JSON.parse(r.body)).toMatchObject({ error: expect.stringMatching(/^bad request: /) as unknown });
    }
  });
});

describe('the Step Functions tasks given bad input throw a validation error naming the field', () => {
  const control = createControlHandler(() => {
    throw new Error('deps must not be needed');
  }) as unknown as Invoke;
  const worker = createWorkerHandler(() => {
    throw new Error('deps must not be needed');
  }) as unknown as Invoke;

  it.each([
    ['null', null, ['(the input)']],
    ['a bad action', { action: 'launch', runPrefix: 'research/0123456789ab/' }, ['action']],
    ['a bad prefix', { action: 'plan', runPrefix: '../x' }, ['runPrefix']],
    ['an unknown key', { action: 'plan', runPrefix: 'research/0123456789ab/', extra: 1 }, ['(the input)']],
  ] as const)('optimize control: %s', async (_l, event, fields) => {
    const err = (await control(event, ctx('c')).then(
      () => undefined,
      (e: unknown) => e,
    )) as EventValidationError;
    expect(err).toBeInstanceOf(EventValidationError);
    expect(err.name).toBe('EventValidationError');
    expect(err.fields).toEqual(fields);
    expect(err.message).toMatch(/^optimize-control: task input refused \(/);
    for (const f of fields) expect(err.message).toContain(`${f}: `);
    // One line, not zod's pretty-printed JSON array of issues.
    expect(err.message).not.toMatch(/\n|"code"|^\[/);
  });

  it.each([
    ['null', null, ['(the input)']],
    ['no items', { Items: [], BatchInput: { runPrefix: 'research/0123456789ab/', runId: 'r', data: ['d'], symbols: [] } }, ['Items']],
    ['a batch input without run id', { Items: [{}], BatchInput: { runPrefix: 'research/0123456789ab/', data: ['d'], symbols: [] } }, ['BatchInput.runId']],
  ] as const)('optimize worker: %s', async (_l, event, fields) => {
    const err = (await worker(event, ctx('w')).then(
      () => undefined,
      (e: unknown) => e,
    )) as EventValidationError;
    expect(err).toBeInstanceOf(EventValidationError);
    expect(err.fields).toEqual(fields);
    expect(err.message).toMatch(/^optimize-worker: task input refused/);
    for (const f of fields) expect(err.message).toContain(`${f}: `);
    expect(err.message).not.toMatch(/\n|"code"/);
  });
});
