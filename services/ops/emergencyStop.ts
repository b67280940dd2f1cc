/**
 * The emergency stop, run by the emergency-stop Lambda when the kill-switch parameter changes (and
 * on demand): when the switch says EMERGENCY_STOP, every open order is cancelled and every position
 * is closed directly on the exchange, so it works when the hot path is dead.
 *
 * Who trades a symbol (the one-actor rule; see services/ops/README.md for the whole argument):
 * 1. The parameter is read (the triggering event is not trusted alone). Anything but
 *    EMERGENCY_STOP: nothing is done.
 * 2. Per symbol, the job takes the symbol's lease with the store's conditional write. A live lease
 *    of another owner (the hot path, which also reacts to EMERGENCY_STOP and flattens its own
 *    symbols) is respected: the job waits, polling, until the lease is free or expired (a dead hot
 *    path stops renewing, so its lease expires within its TTL), or until the exchange shows the
 *    symbol flat (the holder did the work), or until the wait budget is spent (reported as
 *    deferred; the risk sweep, every minute, runs this again while the switch says EMERGENCY_STOP).
 * 3. With the lease: cancel the symbol's open orders, sell the base asset's free balance
 *    (flatten.ts, the emergency close), record it in the state store, release the lease.
 * Each invocation uses its own lease owner (`<owner>`), so two invocations running at once exclude
 * each other per symbol too.
 *
 * Which symbols: the configured trading symbols, plus every symbol with an open position or an open
 * order in the state store, plus every symbol with an open order on the exchange among the loaded
 * markets when the venue can list them all.
 */
import type { Dec } from '../core/money.js';
import { symbolId, type SymbolId } from '../core/types.js';
import type { KillSwitchSource, KillSwitchState } from '../control/killSwitch.js';
import type { EventPublisher } from '../events/types.js';
import { applyOrderEvent, type StateStore } from '../state/types.js';
import type { VenueClient } from '../venue/types.js';
import { readSwitch, type SwitchReading } from './killSwitchEscalation.js';
import { acquireOrWait, type LeaseWaitResult } from './leaseGuard.js';
import { flattenSymbol, isFlatOnVenue, type FlattenExchange, type FlattenResult } from './flatten.js';
import { makeAlert, publishAll } from './alerts.js';

export interface EmergencyStopDeps {
  readonly store: StateStore;
  readonly killSwitch: KillSwitchSource;
  readonly alerts: EventPublisher;
  /** Markets must be loaded. */
  readonly venue: Pick<VenueClient, 'market' | 'fetchOpenOrders' | 'fetchBalances'>;
  readonly exchange: FlattenExchange;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface EmergencyStopOptions {
  /** This invocation's lease owner, e.g. `emergency-stop:<request id>`. */
  readonly owner: string;
  /** Symbols the system trades (always checked). */
  readonly symbols: readonly string[];
  /** Lease TTL: at least the Lambda's timeout, so the lease outlives any work of this invocation (default 120 s). */
  readonly leaseTtlMs?: number;
  /** Longest wait for a lease another owner holds (default 75 s: past the hot path's 60 s TTL). */
  readonly leaseWaitMs?: number;
  /** Poll interval while waiting (default 1 s). */
  readonly pollMs?: number;
  /** What started it, for the report and the alert. */
  readonly trigger: string;
  /** Epoch ms of the parameter change, when the trigger says (the report measures from it). */
  readonly changedAt?: number;
  /** List open orders across all symbols on the exchange too (MEXC may refuse without a symbol; default true). */
  readonly scanVenueOpenOrders?: boolean;
  /**
   * Alert also when the run found nothing to do (default true). The risk sweep's every-minute
   * follow-up passes false, so a switch left at EMERGENCY_STOP does not page every minute.
   */
  readonly alertWhenIdle?: boolean;
}

export type SymbolOutcome =
  /** Flattened by this run (or already flat when the lease was taken). */
  | 'flattened'
  /** Work done but something is left (see the flatten result). */
  | 'incomplete'
  /** Another owner holds the lease and the symbol became flat meanwhile: the holder did it. */
  | 'flat_by_holder'
  /** Another owner held the lease for the whole wait: not traded by this run. */
  | 'deferred'
  | 'failed';

export interface SymbolReport {
  readonly symbol: SymbolId;
  readonly outcome: SymbolOutcome;
  readonly lease: LeaseWaitResult['kind'] | 'error';
  readonly holder?: string;
  readonly flatten?: FlattenResult;
  readonly ms: number;
  readonly detail: string;
}

export interface EmergencyStopReport {
  /** False when the switch did not say EMERGENCY_STOP (nothing done). */
  readonly acted: boolean;
  readonly switchReading: SwitchReading;
  readonly trigger: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
  /** From the parameter change to the end, when the change time is known. */
  readonly sinceChangeMs?: number;
  readonly symbols: readonly SymbolReport[];
  /** Every symbol flat or handled by its lease holder. */
  readonly allFlat: boolean;
  readonly alertFailures: readonly string[];
  readonly problems: readonly string[];
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

/** The symbols in scope (see the file comment). Problems listing them are collected, not thrown. */
async function symbolsInScope(deps: EmergencyStopDeps, options: EmergencyStopOptions, problems: string[]): Promise<SymbolId[]> {
  const set = new Set<string>(options.symbols.filter((s) => SYMBOL_RE.test(s)));
  try {
    for (const p of await deps.store.listOpenPositions()) set.add(p.value.symbol);
  } catch (e) {
    problems.push(`cannot list open positions: ${describe(e)}`);
  }
  try {
    for (const o of await deps.store.listOpenOrders()) set.add(o.value.symbol);
  } catch (e) {
    problems.push(`cannot list open orders in state: ${describe(e)}`);
  }
  if (options.scanVenueOpenOrders ?? true) {
    try {
      for (const o of await deps.venue.fetchOpenOrders()) set.add(o.symbol);
    } catch (e) {
      problems.push(`cannot list open orders on the exchange without a symbol: ${describe(e)}`);
    }
  }
  const out: SymbolId[] = [];
  for (const s of [...set].sort()) {
    try {
      deps.venue.market(symbolId(s));
      out.push(symbolId(s));
    } catch (e) {
      problems.push(`${s} skipped: ${describe(e)}`);
    }
  }
  return out;
}

/** Records what the flatten did: cancelled orders and closed positions in the state store. */
async function record(deps: EmergencyStopDeps, symbol: SymbolId, fl: FlattenResult, runTag: string): Promise<string[]> {
  const problems: string[] = [];
  const now = deps.now();
  for (const id of fl.cancelled) {
    try {
      const cur = await deps.store.get('order', id);
      if (cur && cur.value.state !== 'filled' && cur.value.state !== 'cancelled' && cur.value.state !== 'rejected' && cur.value.state !== 'expired') {
        await deps.store.applyEvent('order', id, `emergency-stop:${runTag}:cancel`, (o) => (o ? applyOrderEvent(o, { type: 'cancelled', reason: 'emergency stop' }, now) : o));
      }
    } catch (e) {
      problems.push(`order ${id} not recorded: ${describe(e)}`);
    }
  }
  if (!fl.flat) return problems;
  try {
    const positions = (await deps.store.listOpenPositions()).filter((p) => p.value.symbol === symbol);
    const sold: Dec | undefined = fl.close?.sold;
    for (const [i, p] of positions.entries()) {
      await deps.store.applyEvent('position', p.value.id, `emergency-stop:${runTag}:close`, (cur) => {
        if (!cur || cur.state === 'closed') return cur;
        // The sale is booked on the first position of the symbol (there is at most one per symbol).
        const add = i === 0 && sold ? sold : undefined;
        return {
          ...cur,
          state: 'closed',
          exitQuantity: add ? cur.exitQuantity.add(add) : cur.exitQuantity,
          exitProceeds: add && fl.close ? cur.exitProceeds.add(fl.close.proceeds) : cur.exitProceeds,
          closedAt: now,
          exitReason: 'emergency_stop',
          updatedAt: now,
        };
      });
    }
  } catch (e) {
    problems.push(`positions of ${symbol} not recorded: ${describe(e)}`);
  }
  return problems;
}

/** One symbol: lease (or wait), flatten, record, release. Never throws. */
async function stopSymbol(deps: EmergencyStopDeps, options: EmergencyStopOptions, symbol: SymbolId, runTag: string, problems: string[]): Promise<SymbolReport> {
  const t0 = deps.now();
  let lease: LeaseWaitResult;
  try {
    lease = await acquireOrWait(
      deps.store,
      symbol,
      options.owner,
      { ttlMs: options.leaseTtlMs ?? 120_000, waitMs: options.leaseWaitMs ?? 75_000, pollMs: options.pollMs ?? 1000 },
      deps,
      () => isFlatOnVenue(deps.venue, symbol),
    );
  } catch (e) {
    return { symbol, outcome: 'failed', lease: 'error', ms: deps.now() - t0, detail: `lease: ${describe(e)}` };
  }
  if (lease.kind === 'settled_by_holder') {
    return { symbol, outcome: 'flat_by_holder', lease: lease.kind, ...(lease.holder ? { holder: lease.holder } : {}), ms: deps.now() - t0, detail: `flat on the exchange; lease held by ${lease.holder ?? 'another owner'}` };
  }
  if (lease.kind === 'deferred') {
    return {
      symbol,
      outcome: 'deferred',
      lease: lease.kind,
      ...(lease.holder ? { holder: lease.holder } : {}),
      ms: deps.now() - t0,
      detail: `lease held by ${lease.holder ?? 'another owner'} (until ${new Date(lease.expiresAt).toISOString()}) for the whole ${lease.waitedMs} ms wait: not traded`,
    };
  }
  try {
    const fl = await flattenSymbol(deps, symbol, `ES${runTag}`);
    problems.push(...(await record(deps, symbol, fl, runTag)).map((p) => `${symbol}: ${p}`));
    const sold = fl.close ? `sold ${fl.close.sold.toString()}${fl.close.averagePrice ? ` at ${fl.close.averagePrice.toFixed(8)}` : ''}` : 'nothing held';
    const issues = [...fl.problems, ...fl.cancelFailures.map((c) => `${c.clientOrderId}: ${c.reason}`), ...(fl.close?.aborted ? [fl.close.aborted] : [])];
    return {
      symbol,
      outcome: fl.flat ? 'flattened' : 'incomplete',
      lease: 'acquired',
      flatten: fl,
      ms: deps.now() - t0,
      detail: `${fl.cancelled.length} order(s) cancelled, ${sold}${issues.length ? `; ${issues.join('; ')}` : ''}`,
    };
  } catch (e) {
    return { symbol, outcome: 'failed', lease: 'acquired', ms: deps.now() - t0, detail: describe(e) };
  } finally {
    await deps.store.releaseLease(symbol, options.owner).catch(() => false);
  }
}

/** Runs the emergency stop; see the file comment. Never throws for exchange or store errors (they are in the report). */
export async function runEmergencyStop(deps: EmergencyStopDeps, options: EmergencyStopOptions): Promise<EmergencyStopReport> {
  const startedAt = deps.now();
  const problems: string[] = [];
  const switchReading = await readSwitch(deps.killSwitch);
  const finish = (acted: boolean, symbols: SymbolReport[], alertFailures: string[]): EmergencyStopReport => {
    const finishedAt = deps.now();
    return {
      acted,
      switchReading,
      trigger: options.trigger,
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt,
      ...(options.changedAt !== undefined ? { sinceChangeMs: finishedAt - options.changedAt } : {}),
      symbols,
      allFlat: symbols.every((s) => s.outcome === 'flattened' || s.outcome === 'flat_by_holder'),
      alertFailures,
      problems,
    };
  };
  const state: KillSwitchState | undefined = switchReading.kind === 'valid' ? switchReading.state : undefined;
  if (state !== 'EMERGENCY_STOP') return finish(false, [], []);

  const runTag = startedAt.toString(36);
  const symbols = await symbolsInScope(deps, options, problems);
  // Symbols are independent (one lease each): in parallel, so one slow symbol does not delay the rest.
  const reports = await Promise.all(symbols.map((s) => stopSymbol(deps, options, s, runTag, problems)));
  const done = finish(true, reports, []);
  const bad = reports.filter((r) => r.outcome !== 'flattened' && r.outcome !== 'flat_by_holder');
  const lines = reports.map((r) => `${r.symbol}: ${r.outcome} (${r.detail})`);
  // Idle: every symbol flat and nothing sent (scope-listing problems alone do not make a run worth a page).
  const idle = bad.length === 0 && reports.every((r) => !r.flatten || (r.flatten.cancelled.length === 0 && r.flatten.close === undefined));
  if (idle && options.alertWhenIdle === false) {
    return done;
  }
  const alert = makeAlert(
    'emergency-stop',
    // A run that did its work is its own event; "not flat" repeats (the sweep's follow-up) are one problem per set of symbols.
    bad.length === 0 ? runTag : `not-flat-${bad.map((r) => r.symbol).join('-')}`,
    done.finishedAt,
    'critical',
    bad.length === 0 ? `emergency stop done in ${(done.durationMs / 1000).toFixed(1)} s: ${reports.length} symbol(s) flat` : `emergency stop: ${bad.length} of ${reports.length} symbol(s) NOT flat`,
    [...lines, ...problems].join('\n') || 'no symbol in scope',
  );
  const pub = await publishAll(deps.alerts, [alert]);
  try {
    await deps.store.putHeartbeat({ owner: 'ops:emergency-stop', at: done.finishedAt, mode: 'ops', openPositions: bad.length, detail: JSON.stringify({ trigger: options.trigger, durationMs: done.durationMs, symbols: reports.map((r) => ({ s: r.symbol, o: r.outcome })) }).slice(0, 4096) });
  } catch (e) {
    problems.push(`run not recorded: ${describe(e)}`);
  }
  return { ...done, alertFailures: pub.failures };
}

/** A JSON-safe summary of a report (decimals as strings), for the handler's result and logs. */
export function summarizeEmergencyStop(r: EmergencyStopReport): Record<string, unknown> {
  return {
    acted: r.acted,
    switch: r.switchReading.kind === 'valid' ? r.switchReading.state : `${r.switchReading.kind}: ${r.switchReading.detail}`,
    trigger: r.trigger,
    durationMs: r.durationMs,
    ...(r.sinceChangeMs !== undefined ? { sinceChangeMs: r.sinceChangeMs } : {}),
    allFlat: r.allFlat,
    symbols: r.symbols.map((s) => ({
      symbol: s.symbol,
      outcome: s.outcome,
      lease: s.lease,
      ...(s.holder ? { holder: s.holder } : {}),
      ms: s.ms,
      cancelled: s.flatten?.cancelled.length ?? 0,
      sold: s.flatten?.close?.sold.toString() ?? '0',
      remainder: s.flatten?.close?.remainder.toString() ?? '0',
      detail: s.detail,
    })),
    problems: r.problems,
    alertFailures: r.alertFailures,
  };
}
