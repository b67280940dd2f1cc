/**
 * The hot path's HTTP endpoints on localhost:
 *
 * - `GET /health`: the health verdict (services/live/status.ts); 200 while live, 503 when not (the
 *   container health check restarts the task) or while starting.
 * - `GET /status`: the JSON status document; 503 `{"starting": true}` until the runtime trades.
 * - the dashboard, when given: `GET /` (the page), its script and chart library, `GET /api/dashboard`
 *   (the page's data), `GET /api/stream` (the same data as server-sent events, every
 *   `pushEveryMs`, to at most MAX_STREAMS pages at once) and `POST /api/kill-switch` (the page's
 *   pause and resume buttons).
 *
 * The buttons change the kill switch, so the POST is guarded against other web pages the
 * operator's browser has open: it must carry the `x-console-request` header and a JSON body (a
 * cross-site page cannot send either without a CORS preflight, which this server never grants),
 * and its Host and Origin must be this server's own loopback address (DNS rebinding). The handlers
 * never throw into the server: a failure answers 500 with the error's message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthVerdict, RuntimeStatus } from '../services/live/status.js';

/** Pages streaming at once; a further one is refused (503) rather than slowing the hot path. */
export const MAX_STREAMS = 8;
/** Largest POST body read. */
const MAX_BODY = 1024;

/** The dashboard's part of the server (fargate/console.ts builds it). */
export interface DashboardRoutes {
  /** The page for `GET /`. */
  page(): string;
  /** A static asset by path (`/app.js`, `/vendor/lightweight-charts.js`), or undefined. */
  asset(path: string): { readonly type: string; readonly body: string } | undefined;
  /** The page's data; undefined while the runtime starts. */
  data(): Promise<unknown>;
  /** Milliseconds between pushes on `/api/stream` (default 2000). */
  readonly pushEveryMs?: number;
  /** The pause and resume buttons: writes the kill switch, resolves with what changed. */
  setKillSwitch?(state: 'PAUSED' | 'RUNNING'): Promise<string>;
}

export interface StatusServerOptions {
  /** Default 127.0.0.1: the endpoints are for the container and the operator, not the internet. */
  readonly host?: string;
  /** 0 = any free port. */
  readonly port: number;
  /** The document; undefined while starting (503). */
  readonly status: () => RuntimeStatus | undefined;
  /** The verdict; undefined while starting (503). */
  readonly health: () => HealthVerdict | undefined;
  readonly dashboard?: DashboardRoutes;
}

export interface StatusServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The port is taken by another process. */
export class StatusPortInUseError extends Error {
  constructor(
    message: string,
    readonly port: number,
  ) {
    super(message);
    this.name = 'StatusPortInUseError';
  }
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const;

/** The page's content security policy: its own scripts and data only, nothing from elsewhere. */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Starts the endpoints; resolves once listening; rejects with StatusPortInUseError for a taken port. */
export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const host = opts.host ?? '127.0.0.1';
  const streams = new Set<ServerResponse>();
  let port = opts.port;
  const send = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json', ...SECURITY_HEADERS });
    res.end(JSON.stringify(body, null, 2) + '\n');
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const d = opts.dashboard;
    if (req.method === 'POST' && path === '/api/kill-switch' && d?.setKillSwitch) return killSwitchPost(req, res, d, host, port, send);
    if (req.method !== 'GET') return send(res, 405, { error: 'only GET is served here' });
    if (path === '/health') {
      const h = opts.health();
      if (h === undefined) return send(res, 503, { ok: false, live: false, reasons: ['starting'], starting: true });
      return send(res, h.live ? 200 : 503, h);
    }
    if (path === '/status') {
      const st = opts.status();
      return st === undefined ? send(res, 503, { starting: true }) : send(res, 200, st);
    }
    if (d) {
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP, ...SECURITY_HEADERS });
        return void res.end(d.page());
      }
      const asset = d.asset(path);
      if (asset) {
        res.writeHead(200, { 'content-type': asset.type, ...SECURITY_HEADERS });
        return void res.end(asset.body);
      }
      if (path === '/api/dashboard') {
        const data = await d.data();
        return data === undefined ? send(res, 503, { starting: true }) : send(res, 200, data);
      }
      if (path === '/api/stream') return stream(res, d, streams);
    }
    return send(res, 404, { error: `no such endpoint: ${path}; try ${d ? '/, ' : ''}/health or /status` });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { error: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new StatusPortInUseError(`the status port ${opts.port} on ${host} is already in use (another npm start?)`, opts.port));
      else reject(e);
    });
    server.listen(opts.port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        streams.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Server-sent events: the data now, then every pushEveryMs, until the page goes away. */
function stream(res: ServerResponse, d: DashboardRoutes, streams: Set<ServerResponse>): void {
  if (streams.size >= MAX_STREAMS) {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10', ...SECURITY_HEADERS });
    return void res.end(JSON.stringify({ error: `at most ${MAX_STREAMS} pages may stream at once; the page falls back to polling` }));
  }
  streams.add(res);
  res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive', ...SECURITY_HEADERS });
  let sending = false;
  const push = (): void => {
    // A slow reader never gets a second push queued behind the first.
    if (sending || res.writableNeedDrain) return;
    sending = true;
    d.data()
      .then((data) => {
        if (data !== undefined && !res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
      })
      .catch((e: unknown) => {
        if (!res.writableEnded) res.write(`event: problem\ndata: ${JSON.stringify({ error: e instanceof Error ? e.message : String(e) })}\n\n`);
      })
      .finally(() => (sending = false));
  };
  push();
  const timer = setInterval(push, d.pushEveryMs ?? 2000);
  res.on('close', () => {
    clearInterval(timer);
    streams.delete(res);
  });
}

async function killSwitchPost(
  req: IncomingMessage,
  res: ServerResponse,
  d: DashboardRoutes,
  host: string,
  port: number,
  send: (res: ServerResponse, code: number, body: unknown) => void,
): Promise<void> {
  const own = new Set([`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);
  const origin = req.headers.origin;
  if (!own.has(req.headers.host ?? '') || (origin !== undefined && !own.has(origin.replace(/^https?:\/\//, '')))) {
    return send(res, 403, { error: 'the kill switch answers only pages served by this server' });
  }
  if (req.headers['x-console-request'] !== '1' || !(req.headers['content-type'] ?? '').startsWith('application/json')) {
    return send(res, 403, { error: 'a kill-switch change needs the x-console-request header and a JSON body' });
  }
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BODY) return send(res, 413, { error: 'body too large' });
  }
  let state: unknown;
  try {
    state = (JSON.parse(body) as { state?: unknown }).state;
  } catch {
    return send(res, 400, { error: 'the body is not JSON' });
  }
  if (state !== 'PAUSED' && state !== 'RUNNING') return send(res, 400, { error: 'state must be PAUSED or RUNNING (the emergency stop is npm run stop or /emergency_stop)' });
  return send(res, 200, { ok: true, result: await d.setKillSwitch!(state) });
}
