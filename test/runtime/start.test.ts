/**
 * `npm start` as a process: with MEXC unreachable (the probe points at a closed loopback port) it
 * says so on one line, starts the simulator in process on the bundled sample, paper-trades it,
 * prints its status URL and status lines, answers /health and /status, and exits 0 after SIGINT
 * with the leases released, also when a second SIGINT follows the first, and when the first comes
 * during the start-up. Waits are bounded polls on the output, never fixed delays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;
let dir: string | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `npm start` with `args` until it exits by itself; its output and exit code. */
async function runToExit(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => p.once('exit', (c) => resolve(c)));
  return { code, out };
}

describe('npm start', () => {
  it('falls back to the simulator on the sample, shows status, and stops gracefully on SIGINT', async () => {
    dir = await mkdtemp(join(tmpdir(), 'npm-start-'));
    const env = { ...process.env, MEXC_PING_URL: 'http://127.0.0.1:9/api/v3/ping', MEXC_EXCHANGE_URL: '', STATUS_PORT: '', MEXC_API_KEY: '', MEXC_API_SECRET: '' };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts', '--status-port', '0', '--data-dir', dir, '--status-every', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));

    await until('the offline message', () => /MEXC's public API cannot be reached .*simulator in process/.test(out), 15_000);
    await until('the status URL', () => /status server (http:\/\/127\.0\.0\.1:\d+)/.test(out), 20_000);
    const url = /status server (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    await until('a status line', () => /^status \d{4}-\d\d-\d\dT.* equity [\d.]+ USDT/m.test(out), 10_000);
    expect(out).toMatch(/LEASE DOGEUSDT acquired/);
    expect(out).toMatch(/warm-up DOGEUSDT: \d+ closed 1m candles/);
    const status = (await (await fetch(`${url}/status`)).json()) as { mode: string; nowIso: string; equityDisplay: string };
    expect(status.mode).toBe('paper');
    expect(status.nowIso).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(status.equityDisplay).toMatch(/^\d+\.\d\d$/);

    // A second start on the same data folder is refused in one line, naming the first one's pid.
    const second = await runToExit(['--status-port', '0', '--data-dir', dir], env);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`another npm start (pid ${proc.pid}`);
    expect(second.out).not.toMatch(/\n\s+at /); // no stack trace
    // The status port in use is refused before the warm-up, with the flag that changes it.
    const port = new URL(url).port;
    const other = await mkdtemp(join(tmpdir(), 'npm-start-'));
    const third = await runToExit(['--status-port', port, '--data-dir', other], env);
    await rm(other, { recursive: true, force: true });
    expect(third.code).toBe(1);
    expect(third.out).toContain(`the status port ${port} on 127.0.0.1 is already in use`);
    expect(third.out).toContain('--status-port <n>');
    expect(third.out).not.toMatch(/warm-up|LEASE/);

    // Two quick Ctrl-Cs: the second must not skip the graceful shutdown (it did with process.once).
    // It is sent the moment the shutdown's first line is read, with no poll in between.
    let secondSignal: 'during' | 'after' | undefined;
    proc.stdout.on('data', () => {
      if (secondSignal === undefined && /SHUTDOWN SIGINT/.test(out)) {
        secondSignal = /SHUTDOWN stopped in/.test(out) ? 'after' : 'during';
        proc.kill('SIGINT');
      }
    });
    proc.kill('SIGINT');
    const exit = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000))]);
    expect(exit).not.toBe('timeout');
    // The graceful shutdown ran to its end whenever the second signal came.
    expect(out).toMatch(/SHUTDOWN stopped in \d+ ms/);
    if (/SIGINT again|after the graceful shutdown had finished/.test(out)) {
      expect(exit).toEqual({ code: 0, signal: null });
    } else {
      // A loaded machine can delay the second signal past the end: in the last few tens of ms of a
      // Node process's exit (its heap torn down, after the 'exit' event) no JS handler can run and
      // the signal's default action ends it. Everything was released and flushed by then.
      expect(exit).toEqual({ code: null, signal: 'SIGINT' });
    }
    expect(secondSignal).toBeDefined();
    expect(out).toMatch(/SHUTDOWN SIGINT: no new entries/);
    expect(out).toMatch(/LEASE DOGEUSDT released/);
    expect(out).toMatch(/SHUTDOWN session summary: (no trade closed this session|\d+ trade\(s\), \d+ won, \d+ lost \(win rate [\d.]+%\), net PnL [-+][\d.]+ USDT)/);
    expect(out).toMatch(/SHUTDOWN stopped in \d+ ms/);
    expect(out).not.toMatch(/ STOP {2}/);
    // The replay is re-dated to the wall clock: none of its candles may reach the archive that
    // retraining reads as real market history.
    expect(out).toMatch(/not written to the candle archive/);
    const archived = await readdir(join(dir, 'artifacts', 'candles'), { recursive: true }).catch(() => []);
    expect(archived.filter((f) => String(f).endsWith('.csv'))).toEqual([]);
  }, 90_000);

  it('stops gracefully on a SIGINT during the start-up (it was killed at once, leases held)', async () => {
    const d = await mkdtemp(join(tmpdir(), 'npm-start-'));
    try {
      const env = { ...process.env, MEXC_PING_URL: 'http://127.0.0.1:9/api/v3/ping', MEXC_EXCHANGE_URL: '', STATUS_PORT: '', MEXC_API_KEY: '', MEXC_API_SECRET: '' };
      const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts', '--status-port', '0', '--data-dir', d], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let out = '';
      let sent = false;
      const onData = (b: Buffer): void => {
        out += b.toString();
        // The first lease is taken before the warm-up: the runtime is not up yet.
        if (!sent && /LEASE DOGEUSDT acquired/.test(out)) {
          sent = true;
          proc.kill('SIGINT');
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
      expect(sent).toBe(true);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(out).toMatch(/SIGINT during the start-up: stopping gracefully as soon as it is done/);
      expect(out).toMatch(/LEASE DOGEUSDT released/);
      expect(out).toMatch(/SHUTDOWN stopped in \d+ ms/);
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  }, 60_000);
});
