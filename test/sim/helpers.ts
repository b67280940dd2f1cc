/** Shared helpers of the simulator tests: fixture data, a raw MEXC signer, a WebSocket message queue. */
import { createHmac } from 'node:crypto';
import { WebSocket } from 'ws';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import type { Candle } from '../../services/core/types.js';

export const BTC_FILE = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
export const PEPE_FILE = 'test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz';

/** The first `n` candles of a fixture file. */
export function fixtureCandles(file: string, n: number): Candle[] {
  return loadCandleFile(file).candles.slice(0, n);
}

/** Lowercase hex HMAC-SHA256, as MEXC documents the signature. */
export function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export interface SignedOptions {
  readonly apiKey?: string;
  readonly secret: string;
  readonly timestamp: number;
  readonly recvWindow?: number;
  /** Replace the computed signature. */
  readonly signature?: string;
}

/** Sends a signed request the way MEXC documents it: params in the query, signature last. */
export async function signedFetch(base: string, method: string, path: string, params: Record<string, string>, o: SignedOptions): Promise<{ status: number; body: unknown; headers: Headers }> {
  const q = new URLSearchParams(params);
  q.set('timestamp', String(o.timestamp));
  if (o.recvWindow !== undefined) q.set('recvWindow', String(o.recvWindow));
  const query = q.toString();
  const sig = o.signature ?? hmacHex(o.secret, query);
  const res = await fetch(`${base}${path}?${query}&signature=${sig}`, { method, headers: o.apiKey !== undefined ? { 'X-MEXC-APIKEY': o.apiKey } : {} });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (a 5xx page)
  }
  return { status: res.status, body, headers: res.headers };
}

/** A WebSocket client that queues every message, text as parsed JSON (or the raw string) and binary as bytes. */
export class WsProbe {
  /** Text frames (parsed JSON, or the raw string) and binary frames (Uint8Array), in arrival order. */
  readonly messages: unknown[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.messages.push(new Uint8Array(data));
      else {
        const s = data.toString('utf8');
        try {
          this.messages.push(JSON.parse(s));
        } catch {
          this.messages.push(s);
        }
      }
      this.wake();
    });
    ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(url: string): Promise<WsProbe> {
    const ws = new WebSocket(url);
    const p = new WsProbe(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return p;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(obj: unknown): void {
    this.ws.send(JSON.stringify(obj));
  }

  /** Removes and returns the first queued message that matches; waits for one (bounded by the test timeout). */
  async take<T = unknown>(match: (m: unknown) => boolean = () => true): Promise<T> {
    for (;;) {
      const i = this.messages.findIndex(match);
      if (i >= 0) return this.messages.splice(i, 1)[0] as T;
      if (this.closed) throw new Error('connection closed before the expected message arrived');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the connection is closed. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.ws.close();
  }
}

export const isBinary = (m: unknown): m is Uint8Array => m instanceof Uint8Array;
export const isText = (m: unknown): boolean => !(m instanceof Uint8Array);
