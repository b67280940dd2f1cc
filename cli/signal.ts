/**
 * `npm run signal`: sends signals, one JSON object a line, from a file or stdin to the runtime's
 * `POST /signals` (the local status server by default), with the shared secret from the
 * environment (SIGNALS_SECRET). Prints each answer on one line; exits 1 when any was refused.
 * Blank lines and lines starting with `#` are skipped; a line longer than the webhook accepts is
 * reported and not sent.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { UsageError, parseFlags } from './args.js';
import { MAX_SIGNAL_BYTES } from '../services/signals/parse.js';

export const SIGNAL_USAGE = `usage: npm run signal -- [--file <signals.jsonl>|-] [--url http://127.0.0.1:8787]

Sends each line (a JSON signal such as {"symbol":"BTCUSDT","side":"buy","id":"a1"}) to POST <url>/signals
with the secret in env SIGNALS_SECRET. Reads stdin without --file, or with --file -.`;

export interface SignalCliIo {
  log(line: string): void;
  err(line: string): void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: Readable;
}

/** Sends every line; returns how many were refused (or could not be sent). */
export async function signalCommand(argv: readonly string[], io: SignalCliIo): Promise<number> {
  const v = parseFlags(argv, { file: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } }).values;
  if (v.help) {
    io.log(SIGNAL_USAGE);
    return 0;
  }
  const secret = io.env.SIGNALS_SECRET;
  if (!secret) throw new UsageError('SIGNALS_SECRET must be set in the environment (the runtime refuses signals without it)');
  const base = (v.url ?? `http://127.0.0.1:${io.env.STATUS_PORT || 8787}`).replace(/\/$/, '');
  const input = v.file === undefined || v.file === '-' ? io.stdin : createReadStream(v.file, 'utf8');
  let refused = 0;
  let n = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (Buffer.byteLength(line, 'utf8') > MAX_SIGNAL_BYTES) {
      refused++;
      io.err(`line ${n}: longer than ${MAX_SIGNAL_BYTES} bytes, not sent`);
      continue;
    }
    try {
      const res = await fetch(`${base}/signals`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signal-secret': secret }, body: line, signal: AbortSignal.timeout(10_000) });
      const text = await res.text();
      if (!res.ok) refused++;
      io.log(`line ${n}: HTTP ${res.status} ${text.replace(/\s+/g, ' ').slice(0, 500)}`);
    } catch (e) {
      refused++;
      io.err(`line ${n}: not sent (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return refused;
}
