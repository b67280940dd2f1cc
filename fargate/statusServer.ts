/**
 * The hot path's HTTP endpoints on localhost: `GET /health` (200 or 503 with the reasons, for the
 * container health check) and `GET /status` (the JSON document of services/live/status.ts).
 * Anything else is 404; only GET is served. The handlers never throw into the server: a failure
 * to build the document answers 500 with the error's message.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthVerdict, RuntimeStatus } from '../services/live/status.js';

export interface StatusServerOptions {
  /** Default 127.0.0.1: the endpoints are for the container and the operator, not the internet. */
  readonly host?: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly status: () => RuntimeStatus;
  readonly health: () => HealthVerdict;
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
      const path = (req.url ?? '/').split('?')[0];
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
