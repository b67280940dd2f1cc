/**
 * The one-actor rule under concurrency: the emergency stop and a hot-path lease holder run at the
 * same time against the simulator, and the simulator's order log (the order in which orders reached
 * the matching engine) is checked.
 *
 * The hot-path stand-in here follows the rule the architecture sets for the hot path: it holds the
 * symbol's lease, renews it, and sends an order only right after a successful renewal, while at
 * least FENCE_MS of the lease remain. Client ids say who sent an order: `HP...` (hot path) and
 * `ES...` (emergency stop).
 *
 * Checks, for each scenario:
 * - per symbol, the log never interleaves the two actors: all HP orders come before all ES orders;
 * - every HP order was sent inside a lease period the store granted to HP (renewal time to
 *   expiry), and every ES order was sent after the store granted ES the lease;
 * - ES's first order on the symbol was sent after HP's last granted expiry (the periods never overlap).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import type { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import { emergencyClose } from '../../services/ops/emergencyClose.js';
import { flattenExchange } from '../../services/ops/flatten.js';
import { runEmergencyStop } from '../../services/ops/emergencyStop.js';
import { LeaseHeldError, type LeaseRecord, type StateStore } from '../../services/state/types.js';
import type { VenueClient, VenueOrderRequest } from '../../services/venue/types.js';
import { cryptoRandom, sleep } from '../../lambdas/shared/exchange.js';
import { BTC, MemoryKillSwitch, RecordingPublisher, freshStore, setBook, simVenue, startSim } from './helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
});

const TTL_MS = 1500;
const FENCE_MS = 500;

/** A lease period the store granted: from the write to its expiry. */
interface Grant {
  readonly owner: string;
  readonly from: number;
  readonly until: number;
}

/** The store, recording every lease the conditional writes granted. */
function recordingStore(store: StateStore, grants: Grant[]): StateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'acquireLease' || prop === 'renewLease') {
        return async (symbol: string, owner: string, ttl: number, now: number): Promise<LeaseRecord> => {
          const l = await (target[prop]).call(target, symbol, owner, ttl, now);
          grants.push({ owner, from: now, until: l.expiresAt });
          return l;
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Wraps a venue so every createOrder records when it was sent. */
function timedVenue(venue: CcxtMexcVenue, sent: { id: string; symbol: string; at: number }[]): VenueClient {
  return new Proxy(venue, {
    get(target, prop, receiver) {
      if (prop === 'createOrder') {
        return (req: VenueOrderRequest) => {
          sent.push({ id: req.clientOrderId, symbol: req.symbol, at: Date.now() });
          return target.createOrder(req);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** The hot-path stand-in: orders only right after a renewal, inside the fence. */
class HotPath {
  private n = 0;
  refused = 0;
  constructor(
    private readonly store: StateStore,
    private readonly venue: VenueClient,
    readonly owner = 'hot-path-1',
  ) {}

  async start(): Promise<void> {
    await this.store.acquireLease(BTC, this.owner, TTL_MS, Date.now());
  }

  /** Renews; true when an order may be sent now. */
  async fence(): Promise<boolean> {
    try {
      const l = await this.store.renewLease(BTC, this.owner, TTL_MS, Date.now());
      if (Date.now() < l.expiresAt - FENCE_MS) return true;
    } catch (e) {
      if (!(e instanceof LeaseHeldError)) throw e;
    }
    this.refused++;
    return false;
  }

  /** One resting buy and its cancel, fenced; false when the lease is gone. */
  async churn(): Promise<boolean> {
    if (!(await this.fence())) return false;
    const id = `HP${++this.n}`;
    await this.venue.createOrder({ clientOrderId: id, symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.001'), price: Dec.from('40000') });
    await this.venue.cancelOrder(BTC, id);
    return true;
  }

  /** A resting sell that stays (what a crash leaves behind), fenced. */
  async leaveTarget(): Promise<boolean> {
    if (!(await this.fence())) return false;
    await this.venue.createOrder({ clientOrderId: `HP${++this.n}T1`, symbol: BTC, side: 'sell', type: 'limit', quantity: Dec.from('0.1'), price: Dec.from('60000') });
    return true;
  }

  /** What the runtime does on EMERGENCY_STOP for its own symbol: cancel its orders, sell, keep the lease. */
  async flattenOwn(safe: SafeExchange): Promise<void> {
    if (!(await this.fence())) return;
    for (const o of await this.venue.fetchOpenOrders(BTC)) await safe.cancel(BTC, o.clientOrderId);
    const held = (await this.venue.fetchBalances()).find((b) => b.asset === 'BTC')?.free ?? Dec.ZERO;
    if (held.isPositive() && (await this.fence())) await emergencyClose(safe, BTC, held, 'HPES');
  }
}

let local: LocalDynamo;
let server: SimServer;
let store: StateStore;
const grants: Grant[] = [];
const sent: { id: string; symbol: string; at: number }[] = [];
const venues: CcxtMexcVenue[] = [];

beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  for (const v of venues) await v.close();
  await server?.close();
  await local.close();
});
beforeEach(async () => {
  grants.length = 0;
  sent.length = 0;
  await server?.close();
  server = await startSim({ USDT: '10000', BTC: '0.5' });
  setBook(server, BTC, 50_000, 50_001);
  const fresh = await freshStore(local, () => Date.now());
  store = recordingStore(fresh.store, grants);
});

async function venueFor(): Promise<VenueClient> {
  const v = await simVenue(server);
  venues.push(v);
  return timedVenue(v, sent);
}

function esDeps(venue: VenueClient, ks: MemoryKillSwitch) {
  return {
    store,
    killSwitch: ks,
    alerts: new RecordingPublisher(),
    venue,
    exchange: flattenExchange(new SafeExchange(venue, { now: () => Date.now(), sleep, random: cryptoRandom }, { backoff: { baseMs: 50, maxMs: 200 } })),
    now: () => Date.now(),
    sleep,
  };
}

/** The checks of the file comment. */
function checkOneActor(symbol: string): { hp: number; es: number } {
  const actors = server
    .orderLog()
    .filter((o) => o.symbol === symbol)
    .map((o) => (o.clientOrderId.startsWith('HP') ? 'HP' : o.clientOrderId.startsWith('ES') ? 'ES' : `?${o.clientOrderId}`));
  const firstEs = actors.indexOf('ES');
  if (firstEs >= 0) expect(actors.slice(firstEs).every((a) => a === 'ES')).toBe(true);
  expect(actors.every((a) => a === 'HP' || a === 'ES')).toBe(true);

  const hpGrants = grants.filter((g) => g.owner.startsWith('hot-path'));
  const esGrants = grants.filter((g) => g.owner.startsWith('es-'));
  for (const s of sent.filter((x) => x.symbol === symbol && x.id.startsWith('HP') && !x.id.startsWith('HPES'))) {
    expect(hpGrants.some((g) => s.at >= g.from && s.at < g.until)).toBe(true);
  }
  const esSent = sent.filter((x) => x.symbol === symbol && x.id.startsWith('ES'));
  if (esSent.length > 0) {
    const firstEsAt = Math.min(...esSent.map((x) => x.at));
    const firstEsGrant = Math.min(...esGrants.map((g) => g.from));
    expect(firstEsAt).toBeGreaterThanOrEqual(firstEsGrant);
    const lastHpUntil = Math.max(...hpGrants.map((g) => g.until));
    expect(firstEsAt).toBeGreaterThanOrEqual(lastHpUntil);
  }
  return { hp: actors.filter((a) => a === 'HP').length, es: actors.filter((a) => a === 'ES').length };
}

describe('emergency stop vs a hot-path lease holder, at the same time', () => {
  it('a hot path that stalls while holding the lease: the stop waits for the lease to expire, then flattens; the woken hot path is refused', async () => {
    const hp = new HotPath(store, await venueFor());
    await hp.start();
    for (let i = 0; i < 5; i++) expect(await hp.churn()).toBe(true);
    expect(await hp.leaveTarget()).toBe(true);
    // The hot path stalls now (no renewals) and wakes after twice its TTL, trying to trade on.
    const ks = new MemoryKillSwitch('EMERGENCY_STOP');
    const t0 = Date.now();
    const zombie = (async () => {
      await sleep(TTL_MS * 2);
      let traded = 0;
      for (let i = 0; i < 5; i++) if (await hp.churn()) traded++;
      return traded;
    })();
    const [report, zombieTrades] = await Promise.all([runEmergencyStop(esDeps(await venueFor(), ks), { owner: 'es-1', symbols: ['BTCUSDT'], leaseTtlMs: 30_000, leaseWaitMs: 10_000, pollMs: 100, trigger: 'test' }), zombie]);
    console.log(`[lease exclusion] stalled holder: flat ${report.symbols[0]?.ms ?? '?'} ms after start (lease TTL ${TTL_MS} ms), total ${Date.now() - t0} ms`);

    expect(report.symbols.map((s) => [s.symbol, s.outcome])).toEqual([['BTCUSDT', 'flattened']]);
    expect(zombieTrades).toBe(0);
    expect(hp.refused).toBeGreaterThan(0);
    const counts = checkOneActor('BTCUSDT');
    expect(counts.hp).toBe(6);
    expect(counts.es).toBeGreaterThanOrEqual(1);
    const check = await simVenue(server);
    venues.push(check);
    expect(await check.fetchOpenOrders(BTC)).toEqual([]);
    const btc = (await check.fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.free.add(btc.locked).toString() ?? '0').toBe('0');
  });

  it('a live hot path that flattens its own symbol: the stop never trades it and reports it flat by the holder', async () => {
    const venue = await venueFor();
    const hp = new HotPath(store, venue);
    await hp.start();
    for (let i = 0; i < 3; i++) expect(await hp.churn()).toBe(true);
    expect(await hp.leaveTarget()).toBe(true);
    const ks = new MemoryKillSwitch('EMERGENCY_STOP');
    const hpSafe = new SafeExchange(venue, { now: () => Date.now(), sleep, random: cryptoRandom }, { backoff: { baseMs: 50, maxMs: 200 } });
    let stop = false;
    // Alive: renews every TTL/3 throughout, and reacts to the switch after one poll interval.
    const renewals = (async () => {
      while (!stop) {
        await hp.fence();
        await sleep(TTL_MS / 3);
      }
    })();
    const reaction = (async () => {
      await sleep(300);
      await hp.flattenOwn(hpSafe);
    })();
    const report = await runEmergencyStop(esDeps(await venueFor(), ks), { owner: 'es-2', symbols: ['BTCUSDT'], leaseTtlMs: 30_000, leaseWaitMs: 10_000, pollMs: 100, trigger: 'test' });
    await reaction;
    stop = true;
    await renewals;

    expect(report.symbols.map((s) => [s.symbol, s.outcome, s.holder])).toEqual([['BTCUSDT', 'flat_by_holder', 'hot-path-1']]);
    const counts = checkOneActor('BTCUSDT');
    expect(counts.es).toBe(0);
    // The hot path's own exit went through (its emergency ids start with HPES).
    expect(server.orderLog().some((o) => o.clientOrderId.startsWith('HPES') && o.side === 'sell')).toBe(true);
  });
});
