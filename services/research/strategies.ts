/**
 * The strategies the research tools can build by name, for every trial (each trial gets a fresh
 * instance built from its own config, in whichever worker runs it).
 *
 * A trial names its strategy with a StrategyRef so that it can cross a thread or a Lambda
 * invocation. Built-in names resolve here; a plug-in module (`--strategy <module>`) is the
 * `module` form, { name, module: its absolute path }: cli/strategy.ts (ensureStrategies) imports it
 * and registers its factory with `registerStrategyFactory` in each thread before its trials run
 * (the optimiser's main thread and workers, the Monte Carlo's). The AWS Lambda workers run the
 * built-ins only.
 */
import type { Config } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { BUILTIN_STRATEGIES } from '../strategy/builtin.js';
import { strategyFactory as moduleFactory } from '../strategy/load.js';
import type { Strategy } from '../strategy/port.js';

export type StrategyRef = { readonly name: string; readonly module?: string };
export type StrategyFactory = (config: Config) => Strategy;

// Every built-in strategy module (sr, breakout), checked as the loader checks a plug-in.
const factories = new Map<string, StrategyFactory>(Object.entries(BUILTIN_STRATEGIES).map(([name, mod]) => [name, moduleFactory(mod, name)]));

/** Adds (or replaces) a named strategy factory: built-ins, and plug-ins the loader resolved. */
export function registerStrategyFactory(name: string, factory: StrategyFactory): void {
  factories.set(name, factory);
}

/** The factory of a strategy reference; ConfigError naming the known ones when it is unknown. */
export function strategyFactory(ref: StrategyRef): StrategyFactory {
  const f = factories.get(ref.name);
  if (!f) throw new ConfigError(`strategy: unknown strategy "${ref.name}"${ref.module ? ` (module ${ref.module} is not loaded in this worker)` : ''}; known: ${[...factories.keys()].join(', ')}`);
  return f;
}

/** True when a factory is registered under the reference's name (a built-in, or a plug-in loaded in this thread). */
export function hasStrategyFactory(ref: StrategyRef): boolean {
  return factories.has(ref.name);
}

/** Names of the registered strategies. */
export function strategyNames(): string[] {
  return [...factories.keys()];
}
