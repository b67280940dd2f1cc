/** Shared builders for the risk engine tests. */
import { parseConfig, type ConfigInput } from '../../services/config/schema.js';
import { dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import { RiskEngine, type EntryProposal, type RiskAccount, type RiskDecision } from '../../services/risk/index.js';

/** Monday 2024-01-01 00:00 UTC: the start of an ISO week. */
export const MON = Date.UTC(2024, 0, 1);
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const BTC: SymbolId = symbolId('BTCUSDT');
export const ETH: SymbolId = symbolId('ETHUSDT');
export const SOL: SymbolId = symbolId('SOLUSDT');

/** A resolved config with risk overrides (defaults: the conservative profile). */
export function riskConfig(risk: NonNullable<ConfigInput['risk']> = {}) {
  return parseConfig({ risk });
}

export function engine(risk: NonNullable<ConfigInput['risk']> = {}): RiskEngine {
  return new RiskEngine(riskConfig(risk));
}

/** Long proposal on `symbol` at `time`. */
export function long(entry: string | number, stop: string | number, time = MON + HOUR, symbol: SymbolId = BTC): EntryProposal {
  return { symbol, direction: 'long', entryPrice: dec(entry), stopPrice: dec(stop), time };
}

export function short(entry: string | number, stop: string | number, time = MON + HOUR, symbol: SymbolId = BTC): EntryProposal {
  return { symbol, direction: 'short', entryPrice: dec(entry), stopPrice: dec(stop), time };
}

/** Account with `equity`, free quote (default = equity) and open positions as [symbol, notional]. */
export function account(equity: string | number, freeQuote: string | number = equity, open: Array<[string, string | number]> = []): RiskAccount {
  return {
    equity: dec(equity),
    freeQuote: dec(freeQuote),
    openPositions: open.map(([s, n]) => ({ symbol: symbolId(s), notional: dec(n) })),
  };
}

/** Decision with Decs as strings, for readable equality assertions. */
export function plain(d: RiskDecision) {
  if (d.kind === 'rejected') return { kind: d.kind, reason: d.reason };
  return { kind: d.kind, quantity: d.quantity.toString(), notional: d.notional.toString(), riskAmount: d.riskAmount.toString(), adjustments: d.adjustments };
}
