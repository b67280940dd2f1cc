/**
 * The check a running process makes on one symbol before it takes the symbol's lease again after
 * the lease lapsed (the process was frozen past it: a laptop sleep, a VM pause, a long GC) and nobody
 * else holds it now. While the lease was free, another actor (the emergency-stop Lambda, the risk
 * sweep) may have taken it, acted on the exchange and given it back; the process must not resume
 * as if nothing happened. It resumes only when the state and the exchange still agree with what it
 * holds in memory:
 *
 * - the state's open position on the symbol (this mode) is the executor's position, or neither has one;
 * - every order open on the exchange for the symbol is one of the position's own orders;
 * - live: the exchange's holding of the base asset is what the position accounts for (same tolerance
 *   as the restart's check, holdingDisagrees).
 *
 * Any disagreement is returned as a problem, in words, and the caller leaves the symbol alone for a
 * person (and the restart's full reconciliation). An exchange or state that cannot be asked is a
 * problem too: no guess.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { Executor } from '../execution/executor.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import type { StateStore } from '../state/types.js';
import type { VenueClient } from '../venue/types.js';
import { holdingDisagrees } from './venueRecords.js';

export interface SymbolCheckDeps {
  readonly store: Pick<StateStore, 'listOpenPositions'>;
  readonly venue: Pick<VenueClient, 'fetchOpenOrders' | 'fetchBalances' | 'market'>;
  readonly executor: Pick<Executor, 'position' | 'snapshot'>;
  readonly portfolio: Pick<Portfolio, 'lastPrice'>;
  readonly mode: 'paper' | 'live';
}

/** What the check found: nothing (resume) or the disagreements. */
export interface SymbolCheck {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Runs the check on `symbol` (see the file comment). Never throws. */
export async function checkSymbolAfterLapse(symbol: SymbolId, deps: SymbolCheckDeps): Promise<SymbolCheck> {
  const problems: string[] = [];
  const view = deps.executor.position(symbol);
  const snap = view ? deps.executor.snapshot(view.id) : undefined;

  try {
    const records = (await deps.store.listOpenPositions()).map((r) => r.value).filter((r) => r.symbol === symbol && (r.extras?.mode === 'live' ? 'live' : 'paper') === deps.mode);
    const ids = records.map((r) => r.id);
    if (view === undefined && ids.length > 0) problems.push(`the state has open position(s) ${ids.join(', ')} on ${symbol} that this process does not hold`);
    if (view !== undefined && !ids.includes(view.id)) {
      problems.push(`position ${view.id} on ${symbol} is no longer open in the state${ids.length > 0 ? ` (open there: ${ids.join(', ')})` : ''}: another actor closed or replaced it`);
    }
  } catch (e) {
    problems.push(`the state could not be read: ${describe(e)}`);
  }

  try {
    const own = new Set((snap?.orders ?? []).map((o) => o.clientOrderId));
    for (const o of await deps.venue.fetchOpenOrders(symbol)) {
      if (!own.has(o.clientOrderId)) problems.push(`order ${o.clientOrderId} is open on the exchange for ${symbol} and is not this process's`);
    }
  } catch (e) {
    problems.push(`the exchange's open orders on ${symbol} could not be read: ${describe(e)}`);
  }

  if (deps.mode === 'live') {
    try {
      const m = deps.venue.market(symbol);
      const b = (await deps.venue.fetchBalances()).find((x) => x.asset === m.base);
      const held = b ? b.free.add(b.locked) : Dec.ZERO;
      const expected = snap ? snap.filledQty.sub(snap.exitQty) : Dec.ZERO;
      const price = deps.portfolio.lastPrice(symbol);
      const worthNoting = price === undefined || held.sub(expected).abs().mul(Dec.from(price)).gte(m.minNotional);
      if (holdingDisagrees(held, expected, m) && worthNoting) problems.push(`the exchange holds ${held.toString()} ${m.base}, the position accounts for ${expected.toString()}`);
    } catch (e) {
      problems.push(`the exchange's balances could not be read: ${describe(e)}`);
    }
  }
  return { ok: problems.length === 0, problems };
}
