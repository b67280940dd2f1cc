/**
 * Every Lambda handler given an event it cannot use (issue 15, defect 9): `null`, a number, a
 * string, an array, `{}`, `{"Records": null}`, `{"Records": [null]}`, a record without a messageId.
 * None throws because of the event; a batch answer never holds an entry without an itemIdentifier
 * (SQS would fail the whole batch on it); a well-formed record next to bad ones is still reported.
 *
 * The jobs that ignore their event (reconcile, risk sweep) get dependencies that fail with a marker:
 * the marker coming back proves the event went through the middleware to the handler's own work.
 */
import { describe, expect, it } from 'vitest';
import { createAlertDispatcherHandler, type AlertDispatcherDeps } from '../../lambdas/alert-dispatcher/handler.js';
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
