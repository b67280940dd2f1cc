/**
 * Soak part 1: 100 SIGKILLs of the runtime trading live against the simulator (the sample at 300x,
 * real ccxt, state in dynalite), seeded. About a third of the kills land during start-up and
 * recovery, the rest at a random moment while trading. After every restart that got to trading,
 * the checks of test/helpers/liveRig.ts run (settled: repeated for up to 15 s while a fill may be
 * on its way): no client id sent twice, every exchange order and holding explained, the ledger
 * equal to the exchange to the last decimal. A last run recovers, trades, is stopped gracefully,
 * and the checks run once more with its /status.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkLedger, checkLedgerSettled, fetchStatus, launchRuntime, startLiveEnv, waitForLine } from '../../test/helpers/liveRig.js';
import { SoakPart, percentiles, sleep, type SoakOptions } from './common.js';

export async function soakSigkill(opts: SoakOptions): Promise<string> {
  const target = opts.quick ? 5 : 100;
  const part = new SoakPart('sigkill', opts, opts.quick ? 5 * 60_000 : 45 * 60_000);
  mkdirSync('out/soak', { recursive: true });
  const transcript = join('out/soak', 'sigkill-transcript.log');
  writeFileSync(transcript, '');
  const env = await startLiveEnv({ key: 'soak-kill-key', secret: 'soak-kill-secret', table: 'soak-sigkill', speed: 300 });
  const kills: { run: number; phase: 'starting' | 'trading'; afterMs: number }[] = [];
  const checks: { afterRestart: number; problems: string[]; settledMs: number }[] = [];
  const startMs: number[] = [];
  const problems: string[] = [];
  let expectedStart = 9000;
  try {
    for (let i = 1; i <= target && part.timeLeft > 60_000; i++) {
      const run = launchRuntime(env, { owner: 'soak-runtime', bundle: opts.bundle });
      const t0 = Date.now();
      let afterMs: number;
      if (part.rnd() < 0.3) {
        // During start-up and recovery (the loading, the leases, the warm-up, the reconciliation).
        afterMs = part.int(300, expectedStart);
        await sleep(afterMs);
      } else {
        try {
          await waitForLine(run, / running live /, 120_000);
          startMs.push(Date.now() - t0);
          expectedStart = Math.max(2000, Date.now() - t0);
          // This process recovered from the previous kill: the exchange and the state must agree.
          const c = await checkLedgerSettled(env, 15_000);
          checks.push({ afterRestart: i, problems: c.problems, settledMs: c.settledMs });
          if (c.problems.length) part.log(`CHECK FAILED after restart ${i}: ${c.problems.join('; ')}`);
        } catch (e) {
          problems.push(`run ${i} did not reach trading: ${(e as Error).message.split('\n')[0]}`);
        }
        afterMs = part.int(200, 10_000);
        await sleep(afterMs);
        afterMs += Date.now() - t0;
      }
      run.child.kill('SIGKILL');
      await run.exited;
      const phase = run.lines.some((l) => / running live /.test(l)) ? 'trading' : 'starting';
      kills.push({ run: i, phase, afterMs });
      appendFileSync(transcript, [`--- run ${i}: SIGKILL after ${afterMs} ms (${phase})`, ...run.lines, ''].join('\n'));
      if (i % 10 === 0) part.log(`${i} kills, ${env.server.orderLog().length} orders so far, ${checks.filter((c) => c.problems.length).length} failed checks`);
    }
    // The last run: recovers, trades a little, shows its positions, stops gracefully.
    const last = launchRuntime(env, { owner: 'soak-runtime', bundle: opts.bundle });
    let final: Awaited<ReturnType<typeof checkLedger>> | undefined;
    let exitCode: number | null = null;
    try {
      await waitForLine(last, / running live /, 120_000);
      await sleep(3000);
      const status = await fetchStatus(last);
      last.child.kill('SIGTERM');
      exitCode = await last.exited;
      final = await checkLedger(env, status.positions.map((p) => p.id));
    } catch (e) {
      problems.push(`last run: ${(e as Error).message.split('\n')[0]}`);
      last.child.kill('SIGKILL');
    } finally {
      appendFileSync(transcript, ['--- last run', ...last.lines, ''].join('\n'));
    }
    const lines = readFileSync(transcript, 'utf8').split('\n');
    const failed = checks.filter((c) => c.problems.length > 0);
    const path = part.write({
      what: 'SIGKILLs of the runtime trading live against the simulator (sample at 300x), checks after every restart that reached trading',
      kills: kills.length,
      killedWhileTrading: kills.filter((k) => k.phase === 'trading').length,
      killedDuringStartup: kills.filter((k) => k.phase === 'starting').length,
      ordersSent: env.server.orderLog().filter((e) => e.account === env.options.key).length,
      exchangeTrades: final?.figures.exchangeTrades,
      recoveries: lines.filter((l) => /recovery in \d+ ms/.test(l)).length,
      positionsClosedForDownTime: lines.filter((l) => / RECOVER /.test(l)).length,
      startToTradingMs: percentiles(startMs),
      checksAfterRestart: { run: checks.length, passed: checks.length - failed.length, failed: failed.length, settleMs: percentiles(checks.map((c) => c.settledMs)), failures: failed.slice(0, 20) },
      finalCheck: final ? { problems: final.problems, figures: final.figures, lastRunExitCode: exitCode } : undefined,
      problems,
      transcript,
      ok: problems.length === 0 && failed.length === 0 && final !== undefined && final.problems.length === 0 && exitCode === 0,
    });
    part.log(`done: ${kills.length} kills; results ${path}`);
    return path;
  } finally {
    await env.close();
  }
}
