/**
 * Dashboard Lambda (behind a Function URL): the web dashboard on AWS, read-only, from the hot
 * path's status snapshot in the state table.
 *
 * There is no public page: every path (the page, its script, the chart library, the data) needs the
 * token of a signed link that `/dashboard` in Telegram hands to an allowlisted operator (HMAC,
 * 15 minutes; services/console/signing.ts). Without a valid one the answer is 401 and nothing
 * else. The page polls `/api/dashboard` every 10 s (bounded; a Function URL does not stream
 * server-sent events without response streaming, which this read-only page does not need).
 * Security headers: a strict content security policy (own scripts only), no referrer (the token is
 * in the URL), no framing, no caching.
 *
 * Environment: see lambdas/README.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { APP_PATH, CHARTS_PATH, DASHBOARD_APP_JS, dashboardHtml } from '../../services/console/dashboardPage.js';
import { deriveKey, verifyDashboardToken } from '../../services/console/signing.js';
import { dashboardReports } from '../../services/console/dashboardData.js';
import type { StateStore } from '../../services/state/types.js';
import { commonEnv, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient } from '../shared/clients.js';
import { functionUrlRequest } from '../shared/events.js';
import { observability } from '../shared/powertools.js';
import { stateStore } from '../shared/wiring.js';

export const dashboardEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table holding the status snapshot'),
  DASHBOARD_LINK_SECRET_ID: required('Secrets Manager id of the dashboard link key'),
};
export const parseDashboardEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(dashboardEnv, env, 'dashboard');

/** The chart library's file name beside the bundle (lib/webDashboard.ts copies it there). */
export const CHARTS_BUNDLE_FILE = 'lightweight-charts.standalone.production.js';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'strict-transport-security': 'max-age=31536000' };

export interface DashboardDeps {
  readonly store: Pick<StateStore, 'getStatusSnapshot' | 'listPublications'>;
  readonly linkKey: Uint8Array;
  readonly chartsJs: () => string;
  readonly now: () => number;
}

const obs = observability('dashboard');

export function createDashboardHandler(getDeps: () => Promise<DashboardDeps>) {
  return async (event: LambdaFunctionURLEvent): Promise<APIGatewayProxyResultV2> => {
    // Checked before anything reads it: invoked by hand with `null` or garbage, this is a 400, not a TypeError.
    const req = functionUrlRequest(event);
    if (!req.ok) {
      obs.metrics.addMetric('EventsRejected', 'Count', 1);
      obs.metrics.publishStoredMetrics();
      obs.logger.warn('event refused: not a Function URL request', { why: req.why });
      return { statusCode: 400, headers: { ...HEADERS, 'content-type': 'application/json' }, body: JSON.stringify({ error: `bad request: ${req.why}` }) };
    }
    const deps = await getDeps();
    const path = req.request.path || '/';
    const token = req.request.query.t;
    const method = req.request.method ?? 'GET';
    if (method !== 'GET') return { statusCode: 405, headers: HEADERS, body: 'only GET' };
    const check = verifyDashboardToken(deps.linkKey, token, deps.now());
    if (!check.ok) {
      obs.metrics.addMetric('DashboardRefused', 'Count', 1);
      obs.metrics.publishStoredMetrics();
      // One answer for every refusal, whatever the path: nothing is served without a valid link.
      return { statusCode: 401, headers: { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: `This dashboard link is ${check.why === 'expired' ? 'expired' : 'not valid'}. Ask /dashboard in Telegram for a new one.` };
    }
    if (path === '/' || path === '/index.html') {
      return { statusCode: 200, headers: { ...HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }, body: dashboardHtml({ mode: 'aws', token: token!, pollMs: 10_000 }) };
    }
    if (path === APP_PATH) return { statusCode: 200, headers: { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' }, body: DASHBOARD_APP_JS };
    if (path === CHARTS_PATH) return { statusCode: 200, headers: { ...HEADERS, 'content-type': 'text/javascript; charset=utf-8' }, body: deps.chartsJs() };
    if (path === '/api/dashboard') {
      const snap = await deps.store.getStatusSnapshot();
      if (!snap) return { statusCode: 503, headers: { ...HEADERS, 'content-type': 'application/json' }, body: JSON.stringify({ error: 'no status snapshot: the hot path is not running or has not written one yet' }) };
      // The reports and reviews from their own records, fresher than the snapshot's copy.
      const reports = dashboardReports(await deps.store.listPublications());
      return { statusCode: 200, headers: { ...HEADERS, 'content-type': 'application/json' }, body: JSON.stringify({ ...snap.data, reports, generatedAt: snap.at, generatedAtIso: new Date(snap.at).toISOString(), controls: false }) };
    }
    return { statusCode: 404, headers: HEADERS, body: 'not found' };
  };
}

let defaults: Promise<DashboardDeps> | undefined;
let charts: string | undefined;

function defaultDeps(): Promise<DashboardDeps> {
  defaults ??= Promise.resolve()
    .then(async () => {
      const env = parseDashboardEnv(process.env);
      const secret = await new SecretsManagerSecretSource(secretsClient()).getSecret(env.DASHBOARD_LINK_SECRET_ID);
      return {
        store: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger),
        linkKey: deriveKey(secret, 'dashboard-link'),
        // The bundle is CommonJS, so __dirname is its folder (Lambda's task root).
        chartsJs: () => (charts ??= readFileSync(join(__dirname, CHARTS_BUNDLE_FILE), 'utf8')),
        now: () => Date.now(),
      };
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createDashboardHandler(defaultDeps);
