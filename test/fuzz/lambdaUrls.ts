/**
 * The Lambdas the five-job target (lambdas.ts) leaves out: the two behind a Function URL (signal
 * webhook, dashboard), fed Function URL requests (payload 2.0) with fuzzed paths, methods,
 * headers, bodies, secrets and tokens, and anything else; and the report and review Lambdas, fed
 * their schedules' constant input, near misses of it, and any JSON.
 *
 * Rules: no handler throws because of its event. A Function URL answer is a 2xx or a 4xx, never a
 * 5xx; an event that is not a Function URL request at all is a 400; the dashboard serves nothing
 * (200) without the valid link token; the webhook queues (202) only a signal that came with the
 * secret. The report and review Lambdas refuse (`status: refused`) exactly the events their
 * documented shape does not allow (checked here by hand from the handlers' doc comments, not with
 * their own schemas) and hand every other one to their work, which the test's dependencies answer
 * with a marker.
 */
import fc from 'fast-check';
import type { Context } from 'aws-lambda';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

class DepsMarkerError extends Error {
  override readonly name = 'DepsMarkerError';
}

type Invoke = (event: unknown, context: Context) => Promise<unknown>;
type UrlAnswer = { statusCode?: unknown; body?: unknown };

const SIGNAL_SECRET = 'fuzz-signal-secret';
const OPERATOR_TOKEN = 'fuzz-operator-token';
const NOW = 1_767_614_400_000;

function quietPowertools(): void {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
  process.env['POWERTOOLS_TRACE_ENABLED'] = 'false';
  process.env['POWERTOOLS_DEV'] = 'true';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const signalBody = fc
  .record(
    {
      symbol: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('BTCUSDT', 'btc/usdt', 'MEXC:ETHUSDT') }, { weight: 1, arbitrary: fc.oneof(fc.constant(''), nastyString) }),
      side: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('buy', 'SELL', 'long', 'short') }, { weight: 1, arbitrary: fc.oneof(fc.constant('hold'), nastyString) }),
      confidence: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double(), fc.constantFrom('0.8', 'x')),
      id: fc.oneof(fc.constantFrom('s-1', 's-2', 's 3'), nastyString),
      secret: fc.constantFrom(SIGNAL_SECRET, 'wrong'),
    },
    { requiredKeys: ['symbol', 'side'] },
  )
  .map((o) => JSON.stringify(o));

/** Usually right, sometimes anything: most inputs must get past the first check to test the rest. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: bad });

/** A Function URL request as Lambda sends it, most fields fuzzed, some with the right secrets. */
const urlRequest = fc.record(
  {
    version: fc.constant('2.0'),
    rawPath: mostly(fc.constantFrom('/signals', '/signals', '/exchange/ping', '/exchange/order', '/', '/index.html', '/app.js', '/vendor/lightweight-charts.js', '/api/dashboard', '/nope'), fc.oneof(fc.webPath(), nastyString, fc.jsonValue({ maxDepth: 0 }))),
    rawQueryString: mostly(fc.constantFrom('symbol=BTCUSDT', ''), fc.oneof(nastyString, fc.jsonValue({ maxDepth: 0 }))),
    headers: mostly(
      fc.dictionary(fc.constantFrom('x-signal-secret', 'authorization', 'content-type', 'X-Signal-Secret'), fc.oneof(fc.constantFrom(SIGNAL_SECRET, `Bearer ${SIGNAL_SECRET}`, `Bearer ${OPERATOR_TOKEN}`, 'application/json'), nastyString), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    queryStringParameters: mostly(fc.record({ t: fc.oneof(fc.constant('VALID'), nastyString) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 1 })),
    requestContext: mostly(
      fc.record({ http: fc.record({ method: mostly(fc.constantFrom('GET', 'POST', 'POST', 'PUT'), fc.oneof(nastyString, fc.jsonValue({ maxDepth: 0 }))), path: fc.webPath(), sourceIp: fc.ipV4() }, { requiredKeys: ['method'] }), requestId: fc.uuid() }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    body: mostly(signalBody, fc.oneof(nastyString, fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.jsonValue({ maxDepth: 1 }))),
    isBase64Encoded: mostly(fc.constant(false), fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 0 }))),
  },
  { requiredKeys: ['rawPath', 'requestContext', 'headers', 'body'] },
);
/** Requests that are right but for one detail or none: a signal posted with the secret, a page asked for with the link. */
const nearRequest = fc
  .record({
    secretIn: fc.constantFrom('header', 'bearer', 'body', 'none'),
    signal: signalBody,
    path: fc.constantFrom('/signals', '/', '/app.js', '/api/dashboard', '/exchange/ping'),
    method: fc.constantFrom('POST', 'GET'),
    t: fc.constantFrom('VALID', 'VALID', 'forged'),
  })
  .map(({ secretIn, signal, path, method, t }) => {
    const body = secretIn === 'body' ? JSON.stringify({ ...(JSON.parse(signal) as object), secret: SIGNAL_SECRET }) : signal;
    const headers: Record<string, string> = secretIn === 'header' ? { 'x-signal-secret': SIGNAL_SECRET } : secretIn === 'bearer' ? { authorization: `Bearer ${path.startsWith('/exchange/') ? OPERATOR_TOKEN : SIGNAL_SECRET}` } : {};
    return { version: '2.0', rawPath: path, rawQueryString: '', headers, queryStringParameters: { t }, requestContext: { http: { method, path, sourceIp: '203.0.113.9' } }, body, isBase64Encoded: false };
  });
const urlEvent = fc.oneof({ weight: 4, arbitrary: nearRequest }, { weight: 6, arbitrary: urlRequest }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(null, undefined, 0, '', [], {}, { Records: [null] }, { rawPath: 7 }) });

/** Whether a Function URL handler can read the event at all (an object, its fields of their types). */
function readable(e: unknown): boolean {
  if (!isObject(e)) return false;
  const rc = e.requestContext;
  if (rc !== undefined && rc !== null && !isObject(rc)) return false;
  const http = isObject(rc) ? rc.http : undefined;
  if (http !== undefined && http !== null && !isObject(http)) return false;
  const str = (v: unknown) => v === undefined || v === null || typeof v === 'string';
  const dict = (v: unknown) => v === undefined || v === null || isObject(v);
  return str(isObject(http) ? http.method : undefined) && str(e.rawPath) && str(e.rawQueryString) && str(e.body) && dict(e.headers) && dict(e.queryStringParameters) && (e.isBase64Encoded === undefined || e.isBase64Encoded === null || typeof e.isBase64Encoded === 'boolean');
}

export async function fuzzFunctionUrlLambdas(opts: FuzzOptions): Promise<FuzzResult> {
  quietPowertools();
  const [{ createSignalWebhookHandler }, { createDashboardHandler }, { localContext }, { deriveKey, signDashboardToken }] = await Promise.all([
    import('../../lambdas/signal-webhook/handler.js'),
    import('../../lambdas/dashboard/handler.js'),
    import('../../lambdas/shared/powertools.js'),
    import('../../services/console/signing.js'),
  ]);
  const linkKey = deriveKey('fuzz-link-secret', 'dashboard-link');
  const validToken = signDashboardToken(linkKey, 42, NOW);
  const queued: string[] = [];
  const webhook = createSignalWebhookHandler(() =>
    Promise.resolve({
      signalSecret: () => Promise.resolve(SIGNAL_SECRET),
      operatorToken: () => Promise.resolve(OPERATOR_TOKEN),
      send: (b: string) => Promise.resolve(void queued.push(b.slice(0, 40))),
      audit: () => Promise.resolve(),
      endpoints: () => Promise.resolve({ handle: () => Promise.resolve({ status: 200, body: { ok: true } }) } as never),
      now: () => NOW,
    }),
  ) as unknown as Invoke;
  const dashboard = createDashboardHandler(() => Promise.resolve({ store: { getStatusSnapshot: () => Promise.resolve({ owner: 'task', at: NOW - 5_000, data: { status: { equity: '1' } } } as never), listPublications: () => Promise.resolve([]) }, linkKey, chartsJs: () => '/* charts */', now: () => NOW })) as unknown as (e: unknown) => Promise<unknown>;
  let n = 0;
  const warn = console.warn;
  let notices = 0;
  console.warn = () => void notices++;
  const input = fc.record({ job: fc.constantFrom('signal-webhook', 'dashboard'), event: urlEvent });
  return fuzz(
    'Function URL Lambdas (signal webhook, dashboard)',
    input,
    async ({ job, event }, tally: Tally) => {
      // The placeholder stands for the one valid link token (fast-check cannot sign one).
      const ev = structuredClone<unknown>(event);
      const q = isObject(ev) && isObject(ev.queryStringParameters) ? ev.queryStringParameters : undefined;
      if (q?.t === 'VALID') q.t = validToken;
      let out: UrlAnswer;
      const before = queued.length;
      try {
        out = (await (job === 'dashboard' ? dashboard(ev) : webhook(ev, localContext(job, `fuzz-${++n}`)))) as UrlAnswer;
      } catch (e) {
        throw new FuzzInvariantError(`${job} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      const status = out?.statusCode;
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status >= 500) throw new FuzzInvariantError(`${job} answered status ${String(status)}`);
      if (typeof out.body !== 'string') throw new FuzzInvariantError(`${job} answered a body of type ${typeof out.body}`);
      if (!readable(ev) && status !== 400) throw new FuzzInvariantError(`${job} answered ${status} to an event it cannot read`);
      if (job === 'dashboard' && status === 200 && q?.t !== validToken) throw new FuzzInvariantError('dashboard served without the valid link token');
      if (job === 'signal-webhook') {
        const sent = queued.length - before;
        if ((status === 202) !== (sent === 1) || sent > 1) throw new FuzzInvariantError(`signal webhook answered ${status} with ${sent} signal(s) queued`);
        if (status === 202 && !JSON.stringify(ev).includes(SIGNAL_SECRET)) throw new FuzzInvariantError('signal webhook queued a signal sent without the secret');
      }
      tally.count(status < 400 ? `accepted:${job} ${status}` : `rejected:${job} ${status}`);
    },
    opts,
  )
    .then((r) => ({ ...r, outcomes: { ...r.outcomes, 'signals queued': queued.length, 'powertools notices held back': notices } }))
    .finally(() => {
      console.warn = warn;
    });
}

const PERIODS = ['daily', 'weekly', 'monthly'] as const;
const goodDate = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const date = fc.oneof(goodDate, fc.constantFrom('2026-1-5', '', '05/01/2026'), nastyString, fc.nat());
const reportEvent = fc.oneof(
  // The schedules' constant inputs, and the same with a field given or wrong.
  fc.record({ job: fc.constant('report'), period: fc.constantFrom(...PERIODS), date: goodDate }, { requiredKeys: ['job', 'period'] }),
  fc.record({ job: fc.constant('tax'), year: fc.integer({ min: 2000, max: 2200 }) }, { requiredKeys: ['job'] }),
  fc.record({ period: fc.constantFrom(...PERIODS), date: goodDate }, { requiredKeys: ['period'] }),
  fc.record({ job: fc.constantFrom('report', 'tax', 'Report', ''), period: fc.oneof(fc.constantFrom(...PERIODS, 'yearly'), nastyString), date, year: fc.oneof(fc.integer({ min: 1990, max: 2300 }), fc.double(), fc.constant('2025')), extra: fc.jsonValue({ maxDepth: 0 }) }, { requiredKeys: [] }),
  fc.record({ period: fc.oneof(fc.constantFrom(...PERIODS, 'hourly'), nastyString), date, extra: fc.jsonValue({ maxDepth: 0 }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, undefined, 0, '', [], {}, { Records: [null] }),
);

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const keysWithin = (e: Record<string, unknown>, allowed: readonly string[]) => Object.keys(e).every((k) => allowed.includes(k));
const optDate = (v: unknown) => v === undefined || (typeof v === 'string' && DATE.test(v));

/** The report Lambda's documented events: {"job":"report","period",date?} or {"job":"tax",year?}. */
function reportAllows(e: unknown): boolean {
  if (!isObject(e)) return false;
  if (e.job === 'report') return keysWithin(e, ['job', 'period', 'date']) && (PERIODS as readonly unknown[]).includes(e.period) && optDate(e.date);
  if (e.job === 'tax') return keysWithin(e, ['job', 'year']) && (e.year === undefined || (typeof e.year === 'number' && Number.isInteger(e.year) && e.year >= 2000 && e.year <= 2200));
  return false;
}

/** The review Lambda's documented event: {"period", date?}. */
function reviewAllows(e: unknown): boolean {
  return isObject(e) && keysWithin(e, ['period', 'date']) && (PERIODS as readonly unknown[]).includes(e.period) && optDate(e.date);
}

export async function fuzzReportEvents(opts: FuzzOptions): Promise<FuzzResult> {
  quietPowertools();
  const [{ createReportHandler }, { createReviewHandler }, { localContext }] = await Promise.all([import('../../lambdas/report/handler.js'), import('../../lambdas/review/handler.js'), import('../../lambdas/shared/powertools.js')]);
  const handlers = {
    report: createReportHandler(() => Promise.reject(new DepsMarkerError('deps'))) as unknown as Invoke,
    review: createReviewHandler(() => Promise.reject(new DepsMarkerError('deps'))) as unknown as Invoke,
  };
  const allows = { report: reportAllows, review: reviewAllows };
  let n = 0;
  const warn = console.warn;
  let notices = 0;
  console.warn = () => void notices++;
  const input = fc.record({ job: fc.constantFrom('report', 'review'), event: reportEvent });
  return fuzz(
    'report and review Lambda events',
    input,
    async ({ job, event }, tally: Tally) => {
      const ev = structuredClone<unknown>(event);
      let out: unknown;
      try {
        out = await handlers[job](ev, localContext(job, `fuzz-${++n}`));
      } catch (e) {
        if (!(e instanceof DepsMarkerError)) throw new FuzzInvariantError(`${job} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        if (!allows[job](ev)) throw new FuzzInvariantError(`${job} took ${JSON.stringify(ev)} to its work, which its documented event does not allow`);
        tally.count(`accepted:${job} (reached its work)`);
        return;
      }
      const status = (out as { status?: unknown } | null)?.status;
      if (status !== 'refused') throw new FuzzInvariantError(`${job} answered ${JSON.stringify(out)} without its dependencies`);
      if (allows[job](ev)) throw new FuzzInvariantError(`${job} refused ${JSON.stringify(ev)}, a documented event`);
      tally.count(`rejected:${job} refused`);
    },
    opts,
  )
    .then((r) => ({ ...r, outcomes: { ...r.outcomes, 'powertools notices held back': notices } }))
    .finally(() => {
      console.warn = warn;
    });
}
