/**
 * The strategies that ship with the product, as plug-in modules like any other (`--strategy sr`,
 * `--strategy breakout`). Both read their parameters from the main config (the S/R strategy the
 * `levels`, `entry` and `exit` sections, the breakout strategy its `breakout` section), so they
 * take no `strategyParams`.
 */
import { BreakoutStrategy } from './breakout.js';
import type { StrategyModule } from './port.js';
import { SrStrategy } from './srStrategy.js';

export const srModule: StrategyModule = {
  name: 'sr',
  description: 'support/resistance bounce scalper on 1m closes (the seed strategy)',
  create: (config) => new SrStrategy(config),
};

export const breakoutModule: StrategyModule = {
  name: 'breakout',
  description: 'Donchian channel breakout on a slower timeframe (config section breakout)',
  create: (config) => new BreakoutStrategy(config),
};

/** Built-in strategies by name. */
export const BUILTIN_STRATEGIES: Readonly<Record<string, StrategyModule>> = { sr: srModule, breakout: breakoutModule };
