/**
 * Soak part 2: 1,000 exchange faults of every kind the simulator has (services/sim/faults.ts),
 * injected one at a time through its admin API (POST /sim/faults {"once": ...}) while the runtime
 * trades live: timeouts after placing (the order is placed, the answer comes after the client gave
 * up), 5xx before and after placing, 429 storms, dropped replies, rejects, disconnects mid-fill
 * (on the private fills channel), duplicated and reordered frames, silent streams. A few faults
 * wait at a time (bounded per target), so they land on whatever the runtime does next: orders,
 * cancels, start-up and recovery calls, market data and private pushes. The runtime is killed and
 * restarted every 20-60 s (a restart's recovery is where lost answers are found again); after each
 * restart that got to trading, and at the end after a graceful stop, the checks of the SIGKILL
 * part run. Counts per kind and per target are the simulator's own.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OneShotFault } from '../../services/adapters/mexcSim/faultController.js';
import { checkLedger, checkLedgerSettled, fetchStatus, launchRuntime, startLiveEnv, waitForLine, type LiveEnv, type RuntimeProcess } from '../../test/helpers/liveRig.js';
import { SoakPart, percentiles, sleep, type SoakOptions } from './common.js';

/** The one-shot faults drawn from, by what they stand for. */
const KINDS: readonly { readonly kind: string; readonly cap: number; readonly make: (p: SoakPart) => OneShotFault | OneShotFault[] }[] = [
  // The runtime's ccxt timeout is 10 s: the answer after 12 s is one it no longer waits for.
  { kind: 'timeout after placing (create)', cap: 1, make: () => ({ on: 'createOrder', fault: 'timeout', delayMs: 12_000 }) },
  { kind: '5xx before placing (create)', cap: 1, make: () => ({ on: 'createOrder', fault: '5xx-without-placing' }) },
  { kind: '5xx after placing (create)', cap: 1, make: () => ({ on: 'createOrder', fault: '5xx-after-placing' }) },
  { kind: '5xx after cancelling', cap: 1, make: () => ({ on: 'cancelOrder', fault: '5xx-after-placing' }) },
  { kind: 'dropped reply (create)', cap: 1, make: () => ({ on: 'createOrder', fault: 'drop' }) },
  { kind: 'reject (create)', cap: 1, make: () => ({ on: 'createOrder', fault: 'reject' }) },
  { kind: '5xx before processing (any request)', cap: 2, make: () => ({ on: 'request', fault: '5xx-without-placing' }) },
  { kind: 'dropped reply (any request)', cap: 1, make: () => ({ on: 'request', fault: 'drop' }) },
  { kind: 'timeout (any request)', cap: 1, make: () => ({ on: 'request', fault: 'timeout', delayMs: 12_000 }) },
  // A storm: several 429s in a row on whatever comes next.
  { kind: '429 storm (any request)', cap: 6, make: (p) => Array.from({ length: p.int(3, 7) }, (): OneShotFault => ({ on: 'request', fault: '429', retryAfterSec: 1 })) },
  { kind: 'disconnect mid-fill (private fills channel)', cap: 1, make: () => ({ on: 'frame', channel: 'private.deals', fault: 'disconnect' }) },
  { kind: 'disconnect (order updates channel)', cap: 1, make: () => ({ on: 'frame', channel: 'private.orders', fault: 'disconnect' }) },
  { kind: 'disconnect (market data)', cap: 1, make: () => ({ on: 'frame', channel: 'public', fault: 'disconnect' }) },
  { kind: 'duplicated frame (fills)', cap: 1, make: () => ({ on: 'frame', channel: 'private.deals', fault: 'duplicate' }) },
  { kind: 'duplicated frame (market data)', cap: 2, make: () => ({ on: 'frame', channel: 'public', fault: 'duplicate' }) },
  { kind: 'reordered frame (order updates)', cap: 1, make: () => ({ on: 'frame', channel: 'private.orders', fault: 'out-of-order' }) },
  { kind: 'reordered frame (market data)', cap: 2, make: () => ({ on: 'frame', channel: 'public', fault: 'out-of-order' }) },
  // 1-4 s: shorter than the stale thresholds (30 s and more), so a silence only withholds frames.
  // The 3-9 s of the first runs kept the market data silent three quarters of the time, and the
  // other market-data faults (which wait for a frame) came too slowly to reach 1,000 in the bound.
  { kind: 'silent stream (market data)', cap: 1, make: (p) => ({ on: 'frame', channel: 'public', fault: 'silence', silenceMs: p.int(1000, 4000) }) },
  { kind: 'silent stream (private)', cap: 1, make: (p) => ({ on: 'frame', channel: 'private', fault: 'silence', silenceMs: p.int(1000, 4000) }) },
];

const keyOf = (f: OneShotFault): string => JSON.stringify(f);

/**
 * Check 1 under faults. SafeExchange resends under the same client id when an unknown outcome's
 * lookups find nothing (by design: the exchange refuses a duplicate id, so a first send that
 * surfaces late cannot make a second order). When the first attempt was refused and its answer
 * lost (a timeout), the lookups rightly find nothing and the resend is refused again. So here the
 * check is that no id was placed twice (the simulator, as MEXC, refuses duplicates with 30011: a
 * failure would mean that guarantee broke), and the repeats are counted with the exchange's codes
 * (`refusedRepeats`, and in each problem line). The first full run of this part failed the strict
 * check on such repeats: a target and a market exit sent two and three times under their ids.
 */
const RESENDS = { resends: 'refused-only' } as const;

export async function soakFaults(opts: SoakOptions): Promise<string> {
  const target = opts.quick ? 60 : 1000;
  const part = new SoakPart('faults', opts, opts.quick ? 4 * 60_000 : 30 * 60_000);
  mkdirSync('out/soak', { recursive: true });
  const transcript = join('out/soak', 'faults-transcript.log');
  writeFileSync(transcript, '');
  const env = await startLiveEnv({ key: 'soak-fault-key', secret: 'soak-fault-secret', table: 'soak-faults', speed: 300 });
  const queued = new Map<string, { kind: string; n: number }>();
  const byKindQueued: Record<string, number> = {};
  const checks: { afterRestart: number; problems: string[]; settledMs: number }[] = [];
  const problems: string[] = [];
  const injectedTotal = (): number => Object.values(env.server.faults.injected()).reduce((a, b) => a + b, 0);

  /**
   * Queues faults through the admin API while fewer than each kind's cap wait, and at most one
   * REST fault (or one 429 storm) at a time: with a REST fault of every kind always waiting, every
   * request the runtime made failed, and no start-up got through (the first full run: 4 restarts,
   * 39 faults, no run reached trading). One at a time still lands faults on start-up, recovery and
   * orders, and lets the runtime show what it does between them.
   */
  async function feed(): Promise<void> {
    const pendingSpecs = env.server.faults.pending();
    const pending = pendingSpecs.map(keyOf);
    const waiting = (kind: string): number => pending.filter((k) => queued.get(k)?.kind === kind).length;
    const k = part.pick(KINDS);
    if (waiting(k.kind) >= k.cap) return;
    const isRest = (f: OneShotFault): boolean => f.on !== 'frame';
    const specs = ([] as OneShotFault[]).concat(k.make(part));
    if (specs.some(isRest) && pendingSpecs.some(isRest)) return;
    for (const spec of specs) {
      const res = await fetch(`${env.server.restUrl}/sim/faults`, { method: 'POST', body: JSON.stringify({ once: spec }) });
      if (!res.ok) problems.push(`admin API refused ${keyOf(spec)}: ${res.status} ${await res.text()}`);
      const q = queued.get(keyOf(spec)) ?? { kind: k.kind, n: 0 };
      q.n++;
      queued.set(keyOf(spec), q);
      byKindQueued[k.kind] = (byKindQueued[k.kind] ?? 0) + 1;
    }
  }

  let run: RuntimeProcess | undefined;
  let restarts = 0;
  const startMs: number[] = [];
  try {
    const feeding = (async () => {
      while (injectedTotal() < target && part.timeLeft > 90_000) {
        await feed().catch((e: unknown) => problems.push(`feeding: ${String(e)}`));
        await sleep(part.int(60, 240));
      }
    })();
    while (injectedTotal() < target && part.timeLeft > 90_000) {
      run = launchRuntime(env, { owner: 'soak-fault-runtime', bundle: opts.bundle });
      restarts++;
      const t0 = Date.now();
      try {
        await waitForLine(run, / running live /, 180_000);
        startMs.push(Date.now() - t0);
        const c = await checkLedgerSettled(env, 20_000, undefined, RESENDS);
        checks.push({ afterRestart: restarts, problems: c.problems, settledMs: c.settledMs });
        if (c.problems.length) part.log(`CHECK FAILED after restart ${restarts}: ${c.problems.join('; ')}`);
      } catch (e) {
        problems.push(`run ${restarts} did not reach trading: ${(e as Error).message.split('\n')[0]}`);
      }
      await sleep(part.int(20_000, 60_000));
      run.child.kill('SIGKILL');
      await run.exited;
      appendFileSync(transcript, [`--- run ${restarts}: killed; ${injectedTotal()} faults injected so far`, ...run.lines, ''].join('\n'));
      part.log(`restart ${restarts}: ${injectedTotal()} faults injected, ${env.server.orderLog().length} orders`);
    }
    await feeding;
    // What each kind injected: queued less what still waits (the simulator's queue holds the specs).
    const pendingByKind: Record<string, number> = {};
    for (const k of env.server.faults.pending().map(keyOf)) {
      const kind = queued.get(k)?.kind ?? '?';
      pendingByKind[kind] = (pendingByKind[kind] ?? 0) + 1;
    }
    const injectedByKind = Object.fromEntries(Object.entries(byKindQueued).map(([k, n]) => [k, n - (pendingByKind[k] ?? 0)]));
    // No more faults: what is still queued is dropped, the last run recovers and is stopped gracefully.
    env.server.faults.clearOnce();
    const final = await lastRun(env, opts, transcript, problems);
    const injected = env.server.faults.injected();
    const lines = readFileSync(transcript, 'utf8').split('\n');
    const failed = checks.filter((c) => c.problems.length > 0);
    const path = part.write({
      what: 'one-shot exchange faults through the simulator admin API while the runtime trades live; SIGKILL and restart every 20-60 s; checks after every restart and at the end',
      target,
      injectedTotal: Object.values(injected).reduce((a, b) => a + b, 0),
      injectedByFault: injected,
      injectedByKind,
      queuedByKind: byKindQueued,
      restarts,
      ordersSent: env.server.orderLog().filter((e) => e.account === env.options.key).length,
      ordersRejectedByExchange: env.server.orderLog().filter((e) => e.account === env.options.key && e.outcome === 'rejected').length,
      runtime: {
        exchangeRetries: lines.filter((l) => / EXCH .*"type":"retry"/.test(l)).length,
        unknownOutcomesResolved: lines.filter((l) => / EXCH .*unknown/.test(l)).length,
        feedReconnects: lines.filter((l) => / FEED .* (reconnecting|disconnected|stale)/.test(l)).length,
        entryHalts: lines.filter((l) => / HALT {2}entries: /.test(l)).length,
        startupRetries: lines.filter((l) => /retrying|retry \d/.test(l) && !/ EXCH /.test(l)).length,
      },
      startToTradingMs: percentiles(startMs),
      checksAfterRestart: { run: checks.length, passed: checks.length - failed.length, failed: failed.length, settleMs: percentiles(checks.map((c) => c.settledMs)), failures: failed.slice(0, 20) },
      finalCheck: final,
      problems,
      transcript,
      ok: problems.length === 0 && failed.length === 0 && final?.problems.length === 0,
    });
    part.log(`done: ${injectedTotal()} faults; results ${path}`);
    return path;
  } finally {
    run?.child.kill('SIGKILL');
    await env.close();
  }
}

async function lastRun(env: LiveEnv, opts: SoakOptions, transcript: string, problems: string[]): Promise<{ problems: string[]; figures: unknown; exitCode: number | null } | undefined> {
  const last = launchRuntime(env, { owner: 'soak-fault-runtime', bundle: opts.bundle });
  try {
    await waitForLine(last, / running live /, 180_000);
    await sleep(3000);
    const status = await fetchStatus(last);
    last.child.kill('SIGTERM');
    const exitCode = await last.exited;
    const r = await checkLedger(env, status.positions.map((p) => p.id), RESENDS);
    return { ...r, exitCode };
  } catch (e) {
    problems.push(`last run: ${(e as Error).message.split('\n')[0]}`);
    last.child.kill('SIGKILL');
    return undefined;
  } finally {
    appendFileSync(transcript, ['--- last run', ...last.lines, ''].join('\n'));
  }
}
