/**
 * The hot path's HTTP endpoints on localhost: `GET /health` (200 or 503 with the reasons, for the
 * container health check) and `GET /status` (the JSON document of services/live/status.ts).
 * Anything else is 404; only GET is served. The handlers never throw into the server: a failure
 * to build the document answers 500 with the error's message.
 *
 * More routes are registered through `routes` (fargate/signalRoutes.ts: `POST /signals`, the
 * `/exchange/*` endpoints, `GET /metrics`): each names its method and path (or path prefix), gets
 * the request with its body (read up to MAX_ROUTE_BODY bytes, else 413) and answers JSON or text.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthVerdict, RuntimeStatus } from '../services/live/status.js';

export interface StatusServerOptions {
  /** Default 127.0.0.1: the endpoints are for the container and the operator, not the internet. */
  readonly host?: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly status: () => RuntimeStatus;
  readonly health: () => HealthVerdict;
  /** Extra routes (see the file comment), tried before the built-in ones. */
  readonly routes?: readonly HttpRoute[];
}

/** Largest request body a route is given. */
export const MAX_ROUTE_BODY = 16 * 1024;

/** A request as a route sees it. */
export interface RouteRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The peer's address (loopback checks). */
  readonly remoteAddress: string | undefined;
}

/** A route's answer: JSON unless `contentType` says otherwise (then `body` is the text). */
export interface RouteAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

/** An extra endpoint: `path` exact, or a prefix when it ends with `/`. */
export interface HttpRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(req: RouteRequest): Promise<RouteAnswer> | RouteAnswer;
}

function routeFor(routes: readonly HttpRoute[] | undefined, path: string): HttpRoute[] {
  return (routes ?? []).filter((r) => (r.path.endsWith('/') ? path.startsWith(r.path) : path === r.path));
}

/** Reads a request body, at most `max` bytes; undefined when it is longer. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface StatusServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the endpoints; resolves once listening. */
export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body, null, 2) + '\n');
    };
    try {
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      const matched = routeFor(opts.routes, path);
      if (matched.length > 0) {
        const route = matched.find((r) => r.method === req.method);
        if (!route) return send(405, { ok: false, error: `${req.method ?? '?'} is not served on ${path}; ${matched.map((r) => r.method).join(' or ')} is` });
        void readBody(req, MAX_ROUTE_BODY)
          .then(async (body) => {
            if (body === undefined) return send(413, { ok: false, error: `body larger than ${MAX_ROUTE_BODY} bytes` });
            const q = url.indexOf('?');
            const answer = await route.handle({ method: req.method ?? 'GET', path, query: new URLSearchParams(q >= 0 ? url.slice(q + 1) : ''), headers: req.headers, body, remoteAddress: req.socket.remoteAddress });
            if (answer.contentType) {
              res.writeHead(answer.status, { 'content-type': answer.contentType, 'cache-control': 'no-store' });
              res.end(String(answer.body));
            } else send(answer.status, answer.body);
          })
          .catch((e: unknown) => send(500, { ok: false, error: e instanceof Error ? e.message : String(e) }));
        return;
      }
      if (req.method !== 'GET') return send(405, { error: 'only GET is served' });
      if (path === '/health') {
        const h = opts.health();
        return send(h.ok ? 200 : 503, h);
      }
      if (path === '/status') return send(200, opts.status());
      return send(404, { error: `no such endpoint: ${path}; try /health or /status` });
    } catch (e) {
      return send(500, { error: e instanceof Error ? e.message : String(e) });
    }
  });
  server.keepAliveTimeout = 2_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
