/**
 * How many decimals a person is shown: money in the quote asset's display precision, prices and
 * quantities in the market's tick and lot step. Display only: stored and computed values stay exact.
 */
import type { Dec } from '../core/money.js';

/** Display decimals of money per quote asset: cents for US-dollar stablecoins; satoshis for BTC. */
const MONEY_DECIMALS: Readonly<Record<string, number>> = { USDT: 2, USDC: 2, FDUSD: 2, USDE: 2, USD1: 2, DAI: 2, BTC: 8, ETH: 6, EUR: 2 };

/** Decimals shown for an amount of `quote` (8 for an asset not listed). */
export function moneyDecimals(quote: string): number {
  return MONEY_DECIMALS[quote.toUpperCase()] ?? 8;
}

/** Decimals of a step such as a tick size (0.0001 -> 4, 1 -> 0, 0.5 -> 1). */
export function decimalsOf(step: Dec): number {
  const s = step.toString();
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}
