/**
 * Position sizing: how much to buy (or sell short) so that a stop-out loses a fixed fraction of
 * equity, then clamped by the notional caps.
 *
 *   risk amount = equity x riskPerTradePct / 100          (the quote lost if the stop fills)
 *   quantity    = risk amount / |entry - stop|            (base units)
 *   notional    = quantity x entry                        (quote value of the position)
 *
 * A sizing mode (sizingModes.ts) may give a smaller risk percent than the profile's, or a notional
 * (volatility target) that is used when it is below the risk-based one. The notional is then
 * capped, in this order, at: the entry's own requested notional (an external signal's size, when it
 * has one), maxPositionPct of equity, maxNotional, the room left under maxTotalExposurePct of
 * equity after the open positions, and the free quote balance.
 * Each cap that lowers the notional is listed as an adjustment. A result below minNotional is
 * rejected, with the reason of the cap that pushed it there (EXPOSURE_CAP for the exposure room,
 * INSUFFICIENT_BALANCE for the free balance) or BELOW_MIN_NOTIONAL otherwise.
 *
 * Quantities are divided rounding down at the 18th decimal, so a capped notional never exceeds its
 * cap and the risk never exceeds its budget, not even by one unit of 10^-18.
 */
import { DEC_SCALE, Dec } from '../core/money.js';
import type { AdjustmentReason, EntryProposal, RejectionReason, RiskAccount, RiskDecision, RiskEngineConfig } from './types.js';

const ONE_RAW = 10n ** BigInt(DEC_SCALE);
const HUNDRED = Dec.from(100);

/** a / b rounded towards zero at the 18th decimal; callers pass positive values. */
function divDown(a: Dec, b: Dec): Dec {
  return Dec.fromRaw((a.raw * ONE_RAW) / b.raw);
}

/** `pct` percent of `base`. */
export function percentOf(base: Dec, pct: Dec): Dec {
  return base.mul(pct).div(HUNDRED);
}

/** The config's sizing numbers as Decs, converted once. */
export interface SizingParams {
  readonly riskPerTradePct: Dec;
  readonly maxPositionPct: Dec;
  readonly minNotional: Dec;
  readonly maxNotional: Dec;
  readonly maxTotalExposurePct: Dec;
}

/** Converts the config's (float) sizing numbers to exact Decs. */
export function sizingParams(config: RiskEngineConfig): SizingParams {
  return {
    riskPerTradePct: Dec.from(config.riskProfile.riskPerTradePct),
    maxPositionPct: Dec.from(config.risk.maxPositionPct),
    minNotional: Dec.from(config.risk.minNotional),
    maxNotional: Dec.from(config.risk.maxNotional),
    maxTotalExposurePct: Dec.from(config.risk.maxTotalExposurePct),
  };
}

/** The rejection a too-small notional gets, by the cap that made it too small. */
const REJECTION_OF_CAP: Record<AdjustmentReason, RejectionReason> = {
  CAPPED_REQUESTED_NOTIONAL: 'BELOW_MIN_NOTIONAL',
  CAPPED_MAX_POSITION_PCT: 'BELOW_MIN_NOTIONAL',
  CAPPED_MAX_NOTIONAL: 'BELOW_MIN_NOTIONAL',
  CAPPED_EXPOSURE: 'EXPOSURE_CAP',
  CAPPED_FREE_BALANCE: 'INSUFFICIENT_BALANCE',
};

function reject(reason: RejectionReason, detail: string): RiskDecision {
  return { kind: 'rejected', reason, detail };
}

/** Sum of the open positions' notionals. */
export function openNotional(account: RiskAccount): Dec {
  let total = Dec.ZERO;
  for (const p of account.openPositions) total = total.add(p.notional);
  return total;
}

/**
 * Sizes an entry and applies the caps (see the file comment). Pure: the same inputs always give the
 * same decision. Only the stop/price validity and the sizing rules are checked here; halts, limits
 * and per-symbol rules are the engine's.
 */
export function sizeEntry(proposal: EntryProposal, account: RiskAccount, params: SizingParams, mode?: { readonly riskPct: Dec; readonly notional?: (equity: Dec) => Dec }): RiskDecision {
  const { entryPrice: entry, stopPrice: stop, direction } = proposal;
  if (!entry.isPositive() || !stop.isPositive())
    return reject('INVALID_STOP', `entry ${entry.toString()} and stop ${stop.toString()} must both be positive`);
  if (direction === 'long' ? !stop.lt(entry) : !stop.gt(entry))
    return reject('INVALID_STOP', `a ${direction} needs the stop ${direction === 'long' ? 'below' : 'above'} the entry: entry ${entry.toString()}, stop ${stop.toString()}`);
  const equity = account.equity;
  if (!equity.isPositive()) return reject('INSUFFICIENT_BALANCE', `equity ${equity.toString()} is not positive`);

  const budget = percentOf(equity, mode ? Dec.min(mode.riskPct, params.riskPerTradePct) : params.riskPerTradePct);
  const distance = entry.sub(stop).abs();
  let quantity = divDown(budget, distance);
  let notional = quantity.mul(entry);
  const wanted = mode?.notional?.(equity);
  if (wanted !== undefined && wanted.lt(notional)) {
    quantity = divDown(Dec.max(Dec.ZERO, wanted), entry);
    notional = quantity.mul(entry);
  }

  const exposureRoom = Dec.max(Dec.ZERO, percentOf(equity, params.maxTotalExposurePct).sub(openNotional(account)));
  const caps: ReadonlyArray<readonly [AdjustmentReason, Dec]> = [
    ...(proposal.maxNotional !== undefined ? [['CAPPED_REQUESTED_NOTIONAL', Dec.max(Dec.ZERO, proposal.maxNotional)] as const] : []),
    ['CAPPED_MAX_POSITION_PCT', percentOf(equity, params.maxPositionPct)],
    ['CAPPED_MAX_NOTIONAL', params.maxNotional],
    ['CAPPED_EXPOSURE', exposureRoom],
    ['CAPPED_FREE_BALANCE', Dec.max(Dec.ZERO, account.freeQuote)],
  ];
  const adjustments: AdjustmentReason[] = [];
  let target = notional;
  for (const [reason, cap] of caps) {
    if (target.gt(cap)) {
      target = cap;
      adjustments.push(reason);
    }
  }
  if (adjustments.length > 0) {
    quantity = divDown(target, entry);
    notional = quantity.mul(entry);
  }

  if (notional.lt(params.minNotional) || quantity.isZero()) {
    const binding = adjustments[adjustments.length - 1];
    const reason = binding ? REJECTION_OF_CAP[binding] : 'BELOW_MIN_NOTIONAL';
    const why = binding ? `after ${adjustments.join(', ')} (exposure room ${exposureRoom.toString()}, free ${account.freeQuote.toString()})` : `risk ${budget.toString()} over stop distance ${distance.toString()}`;
    return reject(reason, `notional ${notional.toString()} is below the minimum ${params.minNotional.toString()} ${why}`);
  }
  return { kind: 'approved', quantity, notional, riskAmount: quantity.mul(distance), adjustments };
}
