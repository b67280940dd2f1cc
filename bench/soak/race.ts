/**
 * Soak part 5: the emergency stop racing the hot path, 100 times. Each round starts the runtime
 * trading live against the simulator (a child process), lets it trade for a while, then sets the
 * kill switch to EMERGENCY_STOP and runs the emergency stop (services/ops/emergencyStop.ts, what
 * the Lambda runs) at about the same moment, with the runtime in one of four conditions, seeded:
 * - alive: it sees the switch itself and flattens its own symbols, holding their leases;
 * - frozen: SIGSTOP around the switch, SIGCONT 2-12 s later (a VM pause: it wakes past its lease);
 * - killed: SIGKILL around the switch (its leases run out, the stop takes over);
 * - stopping: SIGTERM at the switch (a deploy: it releases its leases while the stop starts).
 *
 * The check, from the simulator's order log: the emergency stop's lease grants and releases are
 * marked in the log (its length just after each grant and just before each release); no order of
 * the runtime may reach the exchange on a symbol while the stop holds that symbol's lease, and no
 * order of the stop outside it. Orders are told apart by who sent them (the stop's venue records
 * its own). Also counted: the stop's outcomes, and whether the account was flat at the end.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileKillSwitchSource, killSwitchFilePath } from '../../services/adapters/file/fileKillSwitch.js';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { createDynamoStore } from '../../services/adapters/dynamo/dynamoStore.js';
import { Dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import { flattenExchange } from '../../services/ops/flatten.js';
import { runEmergencyStop, type EmergencyStopReport } from '../../services/ops/emergencyStop.js';
import type { DomainEvent } from '../../services/events/types.js';
import type { StateStore } from '../../services/state/types.js';
import type { VenueClient, VenueOrderRequest } from '../../services/venue/types.js';
import { launchRuntime, startLiveEnv, waitForLine, type LiveEnv, type RuntimeProcess } from '../../test/helpers/liveRig.js';
import { SoakPart, percentiles, sleep, type SoakOptions } from './common.js';

type Condition = 'alive' | 'frozen' | 'killed' | 'stopping';
const CONDITIONS: readonly Condition[] = ['alive', 'frozen', 'killed', 'stopping'];

/** A lease the stop held, as positions in the order log. */
interface Hold {
  readonly symbol: string;
  readonly owner: string;
  /** Log length just after the grant: every later order of another actor on the symbol is a breach. */
  readonly grantedAt: number;
  /** Log length just before the release (Infinity while held). */
  releasedAt: number;
}

/** The store of the stop, marking its grants and releases in the order log. */
function markingStore(store: StateStore, env: LiveEnv, holds: Hold[]): StateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'acquireLease') {
        return async (symbol: string, owner: string, ttl: number, now: number) => {
          const l = await target.acquireLease(symbol, owner, ttl, now);
          holds.push({ symbol, owner, grantedAt: env.server.orderLog().length, releasedAt: Infinity });
          return l;
        };
      }
      if (prop === 'releaseLease') {
        return async (symbol: string, owner: string) => {
          const h = holds.find((x) => x.symbol === symbol && x.owner === owner && x.releasedAt === Infinity);
          if (h) h.releasedAt = env.server.orderLog().length;
          return target.releaseLease(symbol, owner);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The stop's venue, recording the client ids it sends. */
function recordingVenue(venue: CcxtMexcVenue, sent: Set<string>): VenueClient {
  return new Proxy(venue, {
    get(target, prop, receiver) {
      if (prop === 'createOrder') return (req: VenueOrderRequest) => (sent.add(req.clientOrderId), target.createOrder(req));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

interface RoundResult {
  readonly round: number;
  readonly condition: Condition;
  readonly openAtSwitch: number;
  readonly runtimeOrders: number;
  readonly stopOrders: number;
  readonly outcomes: readonly string[];
  readonly breaches: readonly string[];
  readonly flatAtEnd: boolean;
  readonly ms: number;
}

export async function soakRace(opts: SoakOptions): Promise<string> {
  const target = opts.quick ? 4 : 100;
  const part = new SoakPart('race', opts, opts.quick ? 4 * 60_000 : 40 * 60_000);
  mkdirSync('out/soak', { recursive: true });
  const transcript = join('out/soak', 'race-transcript.log');
  writeFileSync(transcript, '');
  const env = await startLiveEnv({ key: 'soak-race-key', secret: 'soak-race-secret', table: 'soak-race', speed: 300 });
  const ks = new FileKillSwitchSource(killSwitchFilePath(env.dir));
  const venue = new CcxtMexcVenue({ apiKey: env.options.key, secret: env.options.secret, restUrl: env.server.restUrl, wsUrl: env.server.wsUrl, enableRateLimit: false, onWarning: () => undefined });
  await venue.loadMarkets();
  const rounds: RoundResult[] = [];
  const problems: string[] = [];
  let run: RuntimeProcess | undefined;
  try {
    for (let round = 1; round <= target && part.timeLeft > 60_000; round++) {
      const t0 = Date.now();
      await ks.write('RUNNING', 'soak race: next round');
      run = launchRuntime(env, { owner: `soak-rt-${round}`, bundle: opts.bundle });
      try {
        await waitForLine(run, / running live /, 120_000);
      } catch (e) {
        problems.push(`round ${round}: the runtime did not reach trading: ${(e as Error).message.split('\n')[0]}`);
        run.child.kill('SIGKILL');
        await run.exited;
        continue;
      }
      await sleep(part.int(500, 8000));
      const condition = part.pick(CONDITIONS);
      const logStart = env.server.orderLog().length;
      const openAtSwitch = (await env.store.listOpenPositions()).length;
      const holds: Hold[] = [];
      const stopSent = new Set<string>();
      const store = markingStore(createDynamoStore({ client: env.dynamo.client, tableName: env.options.table, clock: Date.now }), env, holds);
      const lambdaVenue = recordingVenue(venue, stopSent);
      const published: DomainEvent[] = [];
      const child = run.child;
      const actions: Promise<unknown>[] = [];
      const at = (ms: number, fn: () => void): void => void actions.push(sleep(ms).then(fn));
      // The condition's signal lands just before or after the switch.
      const jitter = part.int(-500, 500);
      if (condition === 'frozen') {
        const wake = part.int(2000, 12_000);
        at(Math.max(0, jitter), () => child.kill('SIGSTOP'));
        at(Math.max(0, jitter) + wake, () => child.kill('SIGCONT'));
      } else if (condition === 'killed') at(Math.max(0, part.int(-500, 3000)), () => child.kill('SIGKILL'));
      else if (condition === 'stopping') at(part.int(0, 500), () => child.kill('SIGTERM'));
      await ks.write('EMERGENCY_STOP', `soak race round ${round}`);
      await sleep(part.int(0, 1000));
      let report: EmergencyStopReport | undefined;
      try {
        report = await runEmergencyStop(
          {
            store,
            killSwitch: ks,
            alerts: { publish: (e: DomainEvent) => Promise.resolve(void published.push(e)) },
            venue: lambdaVenue,
            exchange: flattenExchange(new SafeExchange(lambdaVenue, { now: Date.now, sleep, random: part.rnd }, { backoff: { baseMs: 100, maxMs: 1000 } })),
            now: Date.now,
            sleep,
          },
          { owner: `es-soak-${round}`, symbols: [...env.options.symbols], leaseTtlMs: 30_000, leaseWaitMs: 15_000, pollMs: 250, trigger: `soak round ${round}` },
        );
      } catch (e) {
        problems.push(`round ${round}: the emergency stop threw ${(e as Error).message}`);
      }
      await Promise.all(actions);
      // The runtime's own halt, when it is alive: it finishes its flatten, then it is stopped.
      if (run.child.exitCode === null && run.child.signalCode === null) {
        await waitForLine(run, / HALT {2}emergency stop done in /, 15_000).catch(() => undefined);
        run.child.kill('SIGTERM');
        const bound = setTimeout(() => run?.child.kill('SIGKILL'), 30_000);
        await run.exited;
        clearTimeout(bound);
      } else await run.exited;
      const log = env.server.orderLog();
      const breaches: string[] = [];
      let runtimeOrders = 0;
      for (let i = logStart; i < log.length; i++) {
        const e = log[i]!;
        const byStop = stopSent.has(e.clientOrderId);
        if (!byStop) runtimeOrders++;
        const held = holds.filter((h) => h.symbol === e.symbol);
        // A position inside a hold of the stop: [grantedAt, releasedAt) of the log.
        const inside = held.some((h) => i >= h.grantedAt && i < h.releasedAt);
        if (!byStop && inside) breaches.push(`runtime order ${e.clientOrderId} on ${e.symbol} at log ${i} while the stop held the lease`);
        // The stop's orders must sit inside its own hold.
        if (byStop && !held.some((h) => i >= h.grantedAt && i < h.releasedAt)) breaches.push(`stop order ${e.clientOrderId} on ${e.symbol} at log ${i} outside its lease`);
      }
      const balances = env.server.engine.balances(env.options.key);
      const flatAtEnd = env.options.symbols.every((s) => {
        const b = balances.find((x) => x.asset === s.replace(/USDT$/, ''));
        const qty = b ? b.free.add(b.locked) : Dec.ZERO;
        const px = Dec.from(env.server.engine.bookTop(s as SymbolId)?.bid ?? 0);
        return qty.mul(px).lt(Dec.from(5)) && env.server.engine.openOrders(env.options.key, s as SymbolId).length === 0;
      });
      const r: RoundResult = { round, condition, openAtSwitch, runtimeOrders, stopOrders: stopSent.size, outcomes: report?.symbols.map((s) => `${s.symbol}:${s.outcome}`) ?? [], breaches, flatAtEnd, ms: Date.now() - t0 };
      rounds.push(r);
      if (breaches.length) part.log(`BREACH in round ${round} (${condition}): ${breaches.join('; ')}`);
      appendFileSync(transcript, [`--- round ${round} (${condition}): ${JSON.stringify(r)}`, ...run.lines, ''].join('\n'));
      if (round % 10 === 0) part.log(`${round} rounds, ${rounds.reduce((n, x) => n + x.breaches.length, 0)} breaches`);
    }
    const by = <K extends string>(f: (r: RoundResult) => K): Record<string, number> => rounds.reduce<Record<string, number>>((m, r) => ((m[f(r)] = (m[f(r)] ?? 0) + 1), m), {});
    const outcomes: Record<string, number> = {};
    for (const r of rounds) for (const o of r.outcomes) outcomes[o.split(':')[1]!] = (outcomes[o.split(':')[1]!] ?? 0) + 1;
    const breaches = rounds.flatMap((r) => r.breaches.map((b) => `round ${r.round} (${r.condition}): ${b}`));
    const path = part.write({
      what: 'the emergency stop (services/ops/emergencyStop.ts) racing the runtime live against the simulator; the runtime alive, frozen (SIGSTOP/SIGCONT), killed or stopping',
      rounds: rounds.length,
      byCondition: by((r) => r.condition),
      roundsWithAnOpenPosition: rounds.filter((r) => r.openAtSwitch > 0).length,
      roundsWhereBothSentOrders: rounds.filter((r) => r.runtimeOrders > 0 && r.stopOrders > 0).length,
      ordersDuringTheRace: { runtime: rounds.reduce((n, r) => n + r.runtimeOrders, 0), emergencyStop: rounds.reduce((n, r) => n + r.stopOrders, 0) },
      stopOutcomesPerSymbol: outcomes,
      flatAtEnd: rounds.filter((r) => r.flatAtEnd).length,
      notFlatAtEnd: rounds.filter((r) => !r.flatAtEnd).map((r) => ({ round: r.round, condition: r.condition, outcomes: r.outcomes })),
      roundMs: percentiles(rounds.map((r) => r.ms)),
      breaches,
      problems,
      transcript,
      ok: breaches.length === 0 && problems.length === 0,
    });
    part.log(`done: ${rounds.length} rounds, ${breaches.length} breaches; results ${path}`);
    return path;
  } finally {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGCONT');
      run.child.kill('SIGKILL');
    }
    await venue.close();
    await env.close();
  }
}
