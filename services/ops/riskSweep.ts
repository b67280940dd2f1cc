/**
 * The risk sweep (every minute, from the risk-sweep Lambda or the local scheduler): the limits that
 * must hold even when the hot path is wrong or dead.
 *
 * | check | trips when | switch | action |
 * |---|---|---|---|
 * | position time limit | a position is open longer than 6 h (30 min in HF mode) | PAUSED only if the hot path holds the lease | closed by the sweep under the symbol's lease |
 * | daily loss | today's equity is down `dailyLossLimitPct` (risk profile) from the day's start | PAUSED | alert |
 * | daily loss, severe | down `haltDailyDrawdownPct` (risk config) | EMERGENCY_STOP | alert (the emergency stop flattens) |
 * | weekly loss | down `weeklyLossLimitPct` from the ISO week's first recorded equity | PAUSED | alert |
 * | monthly loss | down `monthlyLossLimitPct` (10% by default) from the UTC month's first recorded equity | PAUSED | alert |
 * | consecutive losses | `haltConsecutiveStops` losing trades in a row (or the risk engine's stop streak) | PAUSED | alert |
 * | stale heartbeat | open positions and no heartbeat of the hot path newer than 90 s | PAUSED | critical alert |
 *
 * The switch is only ever raised (see killSwitchEscalation.ts). While a loss limit holds (the rest of
 * the UTC day, the ISO week, the month) the sweep raises it again each minute, so an operator who resumes early
 * must also change the limit. A symbol whose lease a live holder
 * has is never traded here (leaseGuard.ts): the sweep pauses and alerts instead.
 *
 * `evaluateRisk` is pure (inputs in, findings out); `runRiskSweep` gathers the inputs from the state
 * store and acts. No clock of its own: `now` is passed in.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { Config, Mode } from '../config/schema.js';
import { mostRestrictive, type KillSwitchSource, type KillSwitchState } from '../control/killSwitch.js';
import type { AlertEvent, AlertSeverity, EventPublisher } from '../events/types.js';
import type { RiskState } from '../risk/types.js';
import { DAY_MS, isoWeekStart, utcMonthStart } from '../risk/calendar.js';
import { SINGLETON_ID, utcDayOf, type ClosedTradeRecord, type DailyStatsRecord, type HeartbeatRecord, type LeaseRecord, type PositionRecord, type StateStore } from '../state/types.js';
import { escalateKillSwitch, readSwitch, unknownSwitchAlert, type EscalationResult } from './killSwitchEscalation.js';
import { tryAcquireLease } from './leaseGuard.js';
import { flattenSymbol, type FlattenDeps, type FlattenResult } from './flatten.js';
import { makeAlert, publishAll } from './alerts.js';

/** Hard cap on a position's age per mode, in minutes: the backstop behind the strategy's own time stop. */
export const MAX_POSITION_AGE_MINUTES: Readonly<Record<Mode, number>> = { standard: 360, hf: 30 };
/** A heartbeat older than this, with positions open, means the hot path is not managing them. */
export const DEFAULT_STALE_HEARTBEAT_MS = 90_000;
/** Days of closed trades read back to count a losing streak. */
export const STREAK_LOOKBACK_DAYS = 7;

/** The limits the sweep checks. */
export interface RiskSweepLimits {
  readonly mode: Mode;
  readonly maxPositionAgeMs: number;
  /** Percent down from the day's start equity: PAUSED. */
  readonly dailyLossLimitPct: number;
  /** Percent down from the day's start equity: EMERGENCY_STOP. */
  readonly dailyLossEmergencyPct: number;
  /** Percent down from the week's start equity: PAUSED. */
  readonly weeklyLossLimitPct: number;
  /** Percent down from the UTC month's start equity: PAUSED. */
  readonly monthlyLossLimitPct: number;
  /** Losing trades in a row: PAUSED. */
  readonly maxConsecutiveLosses: number;
  readonly staleHeartbeatMs: number;
}

/**
 * The sweep's limits from the resolved config: the risk profile's daily and weekly loss limits, the
 * risk config's drawdown halt and consecutive-stop count, the mode's age cap. `overrides` win.
 */
export function riskSweepLimits(config: Pick<Config, 'mode' | 'risk' | 'riskProfile'>, overrides: Partial<RiskSweepLimits> = {}): RiskSweepLimits {
  return {
    mode: config.mode,
    maxPositionAgeMs: MAX_POSITION_AGE_MINUTES[config.mode] * 60_000,
    dailyLossLimitPct: config.riskProfile.dailyLossLimitPct,
    dailyLossEmergencyPct: Math.max(config.risk.haltDailyDrawdownPct, config.riskProfile.dailyLossLimitPct),
    weeklyLossLimitPct: config.riskProfile.weeklyLossLimitPct,
    monthlyLossLimitPct: config.riskProfile.monthlyLossLimitPct,
    maxConsecutiveLosses: config.risk.haltConsecutiveStops,
    staleHeartbeatMs: DEFAULT_STALE_HEARTBEAT_MS,
    ...overrides,
  };
}

/** What the sweep looks at. */
export interface RiskInputs {
  readonly now: number;
  readonly positions: readonly PositionRecord[];
  /** Daily stats of the ISO week so far (oldest first); today's is the last when present. */
  readonly weekDays: readonly DailyStatsRecord[];
  /** Daily stats of the UTC month so far (oldest first); absent: the monthly limit is not checked. */
  readonly monthDays?: readonly DailyStatsRecord[];
  /** Closed trades of the last STREAK_LOOKBACK_DAYS days, newest first. */
  readonly recentTrades: readonly ClosedTradeRecord[];
  readonly riskState: RiskState | undefined;
  /** The hot path's heartbeats (each owner checked; undefined record: none stored). */
  readonly heartbeats: readonly { readonly owner: string; readonly record: HeartbeatRecord | undefined }[];
  /** The lease of every symbol with an open position. */
  readonly leases: Readonly<Record<string, LeaseRecord | undefined>>;
}

export type RiskFindingCode = 'POSITION_TIME_LIMIT' | 'DAILY_LOSS_LIMIT' | 'DAILY_LOSS_EMERGENCY' | 'WEEKLY_LOSS_LIMIT' | 'MONTHLY_LOSS_LIMIT' | 'CONSECUTIVE_LOSSES' | 'STALE_HEARTBEAT';

/** One limit that tripped. */
export interface RiskFinding {
  readonly code: RiskFindingCode;
  readonly severity: AlertSeverity;
  /** The switch state this finding asks for (none: the sweep acts on the position instead). */
  readonly switchTo?: KillSwitchState;
  readonly symbol?: SymbolId;
  readonly positionId?: string;
  readonly detail: string;
}

function pctDown(start: Dec, end: Dec): number {
  if (!start.isPositive()) return 0;
  const down = start.sub(end);
  return down.isPositive() ? Number(down.mul(Dec.from(100)).div(start).toFixed(4)) : 0;
}

function remaining(p: PositionRecord): Dec {
  const r = p.entryQuantity.sub(p.exitQuantity);
  return r.isPositive() ? r : Dec.ZERO;
}

/** Losing trades in a row, newest first; a zero-PnL trade neither breaks nor extends the streak. */
export function losingStreak(tradesNewestFirst: readonly ClosedTradeRecord[]): number {
  let n = 0;
  for (const t of tradesNewestFirst) {
    if (t.netPnl.isPositive()) break;
    if (t.netPnl.isNegative()) n++;
  }
  return n;
}

/** The limits that trip on `inputs` (pure). */
export function evaluateRisk(inputs: RiskInputs, limits: RiskSweepLimits): RiskFinding[] {
  const out: RiskFinding[] = [];
  const { now } = inputs;
  const open = inputs.positions.filter((p) => p.state !== 'closed');
  for (const p of open) {
    const age = now - p.openedAt;
    if (age > limits.maxPositionAgeMs) {
      out.push({
        code: 'POSITION_TIME_LIMIT',
        severity: 'warning',
        symbol: p.symbol,
        positionId: p.id,
        detail: `${p.symbol} position ${p.id} open ${Math.floor(age / 60_000)} min, limit ${Math.round(limits.maxPositionAgeMs / 60_000)} min (${limits.mode})`,
      });
    }
  }
  const today = utcDayOf(now);
  const todayStats = inputs.weekDays.find((d) => d.day === today);
  if (todayStats) {
    const down = pctDown(todayStats.startEquity, todayStats.endEquity);
    if (down >= limits.dailyLossEmergencyPct) {
      out.push({ code: 'DAILY_LOSS_EMERGENCY', severity: 'critical', switchTo: 'EMERGENCY_STOP', detail: `equity down ${down.toFixed(2)}% today, emergency limit ${limits.dailyLossEmergencyPct}%` });
    } else if (down >= limits.dailyLossLimitPct) {
      out.push({ code: 'DAILY_LOSS_LIMIT', severity: 'warning', switchTo: 'PAUSED', detail: `equity down ${down.toFixed(2)}% today, limit ${limits.dailyLossLimitPct}%` });
    }
  }
  const first = inputs.weekDays[0];
  const last = inputs.weekDays[inputs.weekDays.length - 1];
  if (first && last) {
    const down = pctDown(first.startEquity, last.endEquity);
    if (down >= limits.weeklyLossLimitPct) {
      out.push({ code: 'WEEKLY_LOSS_LIMIT', severity: 'warning', switchTo: 'PAUSED', detail: `equity down ${down.toFixed(2)}% this week, limit ${limits.weeklyLossLimitPct}%` });
    }
  }
  const mFirst = inputs.monthDays?.[0];
  const mLast = inputs.monthDays?.[inputs.monthDays.length - 1];
  if (mFirst && mLast) {
    const down = pctDown(mFirst.startEquity, mLast.endEquity);
    if (down >= limits.monthlyLossLimitPct) {
      out.push({ code: 'MONTHLY_LOSS_LIMIT', severity: 'warning', switchTo: 'PAUSED', detail: `equity down ${down.toFixed(2)}% this month, limit ${limits.monthlyLossLimitPct}%` });
    }
  }
  const streak = Math.max(losingStreak(inputs.recentTrades), inputs.riskState?.consecutiveStops ?? 0);
  if (streak >= limits.maxConsecutiveLosses) {
    out.push({ code: 'CONSECUTIVE_LOSSES', severity: 'warning', switchTo: 'PAUSED', detail: `${streak} losing trades in a row, limit ${limits.maxConsecutiveLosses}` });
  }
  if (open.length > 0) {
    const beats = inputs.heartbeats.flatMap((h) => (h.record ? [h.record] : []));
    const newest = beats.reduce<HeartbeatRecord | undefined>((a, b) => (a === undefined || b.at > a.at ? b : a), undefined);
    if (newest === undefined || now - newest.at > limits.staleHeartbeatMs) {
      const age = newest === undefined ? 'no heartbeat found' : `last heartbeat ${Math.round((now - newest.at) / 1000)} s ago (${newest.owner})`;
      out.push({ code: 'STALE_HEARTBEAT', severity: 'critical', switchTo: 'PAUSED', detail: `${open.length} open position(s) and ${age}; limit ${Math.round(limits.staleHeartbeatMs / 1000)} s` });
    }
  }
  return out;
}

/** Reads what `evaluateRisk` needs from the store. `hotPathOwners` adds owners to the lease holders. */
export async function collectRiskInputs(store: StateStore, now: number, hotPathOwners: readonly string[] = []): Promise<RiskInputs> {
  const positions = (await store.listOpenPositions()).map((v) => v.value);
  const weekDays = (await store.listDailyStats(utcDayOf(isoWeekStart(now)), utcDayOf(now))).map((v) => v.value);
  const monthDays = (await store.listDailyStats(utcDayOf(utcMonthStart(now)), utcDayOf(now))).map((v) => v.value);
  const recentTrades: ClosedTradeRecord[] = [];
  for (let d = 0; d < STREAK_LOOKBACK_DAYS; d++) {
    const trades = await store.listClosedTrades(utcDayOf(now - d * DAY_MS));
    recentTrades.push(...[...trades].sort((a, b) => b.exitTime - a.exitTime));
    // Enough once a winning trade ends the streak.
    if (trades.some((t) => t.netPnl.isPositive())) break;
  }
  const riskState = (await store.get('risk', SINGLETON_ID))?.value.state;
  const leases: Record<string, LeaseRecord | undefined> = {};
  for (const s of new Set(positions.map((p) => p.symbol))) leases[s] = await store.getLease(s);
  const owners = new Set(hotPathOwners);
  for (const l of Object.values(leases)) if (l) owners.add(l.owner);
  const heartbeats: { owner: string; record: HeartbeatRecord | undefined }[] = [];
  for (const owner of owners) heartbeats.push({ owner, record: await store.getHeartbeat(owner) });
  return { now, positions, weekDays, monthDays, recentTrades, riskState, heartbeats, leases };
}

export interface RiskSweepDeps {
  readonly store: StateStore;
  readonly killSwitch: KillSwitchSource;
  readonly alerts: EventPublisher;
  /**
   * The exchange, to close positions, built only when a position must be closed (markets loaded);
   * absent: over-age positions are only reported.
   */
  readonly exchange?: () => Promise<FlattenDeps>;
  readonly now: () => number;
}

export interface RiskSweepOptions {
  readonly limits: RiskSweepLimits;
  /** The lease owner of the sweep (default "risk-sweep"). */
  readonly owner?: string;
  /** The sweep's lease TTL: longer than a close can take (default 120 s, the Lambda's timeout). */
  readonly leaseTtlMs?: number;
  /** Heartbeat owners of the hot path, when known (the owners of the leases are always checked). */
  readonly hotPathOwners?: readonly string[];
}

/** What the sweep did about one over-age position. */
export interface PositionAction {
  readonly symbol: SymbolId;
  readonly positionId: string;
  readonly outcome: 'closed' | 'close_incomplete' | 'lease_held' | 'no_venue' | 'failed';
  readonly holder?: string;
  readonly flatten?: FlattenResult;
  readonly detail: string;
}

/** The sweep's report. */
export interface RiskSweepReport {
  readonly at: number;
  readonly findings: readonly RiskFinding[];
  readonly escalation: EscalationResult | undefined;
  readonly positionActions: readonly PositionAction[];
  readonly alertsPublished: number;
  readonly alertFailures: readonly string[];
  /** The switch after the sweep, as far as it knows. */
  readonly switchState: KillSwitchState | undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Runs one sweep: evaluate, raise the switch, close over-age positions under their lease, alert. */
export async function runRiskSweep(deps: RiskSweepDeps, options: RiskSweepOptions): Promise<RiskSweepReport> {
  const owner = options.owner ?? 'risk-sweep';
  const ttl = options.leaseTtlMs ?? 120_000;
  const at = deps.now();
  const inputs = await collectRiskInputs(deps.store, at, options.hotPathOwners);
  const findings = evaluateRisk(inputs, options.limits);
  const positions = new Map(inputs.positions.map((p) => [p.id, p]));

  // Over-age positions: take the lease first; a live holder is not traded over (see leaseGuard.ts).
  const actions: PositionAction[] = [];
  const runTag = at.toString(36);
  let k = 0;
  for (const f of findings) {
    if (f.code !== 'POSITION_TIME_LIMIT' || f.positionId === undefined || f.symbol === undefined) continue;
    const p = positions.get(f.positionId);
    if (!p) continue;
    k++;
    try {
      const lease = await tryAcquireLease(deps.store, p.symbol, owner, ttl, deps.now());
      if (lease.kind === 'held') {
        actions.push({ symbol: p.symbol, positionId: p.id, outcome: 'lease_held', ...(lease.holder ? { holder: lease.holder } : {}), detail: `lease held by ${lease.holder ?? 'another owner'} until ${new Date(lease.expiresAt).toISOString()}: not traded` });
        continue;
      }
      try {
        if (!deps.exchange) {
          actions.push({ symbol: p.symbol, positionId: p.id, outcome: 'no_venue', detail: 'no exchange configured: not closed' });
          continue;
        }
        const fl = await flattenSymbol(await deps.exchange(), p.symbol, `RS${runTag}${k}`, remaining(p));
        const sold = fl.close?.sold ?? Dec.ZERO;
        const proceeds = fl.close?.proceeds ?? Dec.ZERO;
        const now = deps.now();
        await deps.store.applyEvent('position', p.id, `risk-sweep:${runTag}:${k}`, (cur) => {
          if (!cur || cur.state === 'closed') return cur;
          return {
            ...cur,
            state: fl.flat ? 'closed' : 'closing',
            exitQuantity: cur.exitQuantity.add(sold),
            exitProceeds: cur.exitProceeds.add(proceeds),
            ...(fl.flat ? { closedAt: now } : {}),
            exitReason: 'risk_sweep_time_limit',
            updatedAt: now,
          };
        });
        actions.push({
          symbol: p.symbol,
          positionId: p.id,
          outcome: fl.flat ? 'closed' : 'close_incomplete',
          flatten: fl,
          detail: `sold ${sold.toString()} for ${proceeds.toFixed(2)}, ${fl.cancelled.length} order(s) cancelled${fl.flat ? '' : `; NOT flat: ${[...fl.problems, ...fl.cancelFailures.map((c) => c.reason), fl.close?.aborted ?? ''].filter(Boolean).join('; ')}`}`,
        });
      } finally {
        await deps.store.releaseLease(p.symbol, owner).catch(() => false);
      }
    } catch (e) {
      actions.push({ symbol: p.symbol, positionId: p.id, outcome: 'failed', detail: describe(e) });
    }
  }

  // The switch: the most restrictive state any finding asks for; a held lease over an over-age
  // position asks for PAUSED (the hot path's own time stop is not working).
  let wanted: KillSwitchState | undefined;
  for (const f of findings) if (f.switchTo) wanted = mostRestrictive(f.switchTo, wanted);
  if (actions.some((a) => a.outcome === 'lease_held' || a.outcome === 'close_incomplete' || a.outcome === 'failed')) wanted = mostRestrictive('PAUSED', wanted);
  const reasons = findings.filter((f) => f.switchTo !== undefined).map((f) => f.code);
  const escalation = wanted ? await escalateKillSwitch(deps.killSwitch, wanted, `risk sweep at ${new Date(at).toISOString()}: ${[...new Set(reasons)].join(', ') || 'position time limit'}`) : undefined;

  const alerts: AlertEvent[] = [];
  for (const f of findings) {
    if (f.code === 'POSITION_TIME_LIMIT') continue;
    alerts.push(makeAlert('risk', f.code, at, f.severity, `${f.code.replace(/_/g, ' ').toLowerCase()}${f.switchTo ? `: ${f.switchTo}` : ''}`, f.detail));
  }
  for (const a of actions) {
    const sev: AlertSeverity = a.outcome === 'closed' ? 'warning' : 'critical';
    alerts.push(makeAlert('risk', `TIME-${a.positionId}-${a.outcome}`, at, sev, `${a.symbol} over time limit: ${a.outcome.replace(/_/g, ' ')}`, a.detail));
  }
  if (escalation?.problem) alerts.push(makeAlert('risk', 'SWITCH', at, 'critical', `kill switch not set to ${escalation.wanted}`, escalation.problem));
  // Every sweep reads the switch (the escalation already did when it ran): an unknown value pages.
  const reading = escalation?.before ?? (await readSwitch(deps.killSwitch));
  const unknown = unknownSwitchAlert('risk', reading, at, 'The hot path treats it as PAUSED (no new entries); the emergency stop does not run on it; the risk sweep does not write PAUSED over it.');
  if (unknown) alerts.push(unknown);
  const pub = await publishAll(deps.alerts, alerts);
  return { at, findings, escalation, positionActions: actions, alertsPublished: pub.published, alertFailures: pub.failures, switchState: escalation?.after };
}
