/**
 * Port-level checks of a strategy module, the one place every entry point (backtest, paper and
 * `npm start`, the look-ahead check, the optimiser's workers) turns a module into strategies:
 *
 *   strategyModuleFrom(exports, source)  the module's exports -> a checked StrategyModule
 *   strategyFactory(module, source)      -> (config) => a fresh, checked Strategy
 *
 * cli/strategy.ts does the I/O part (a built-in name or a file, imported dynamically). A module
 * that does not fit the port fails here at start, with the source and what was expected, not in
 * the middle of a run.
 */
import type { Config } from '../config/schema.js';
import { ConfigError, DomainError } from '../core/errors.js';
import type { Strategy, StrategyFactory, StrategyModule } from './port.js';

export type StrategyLoadErrorKind = 'not_found' | 'bad_module' | 'bad_strategy';

/** A strategy module that cannot be found or does not fit the port; `kind` says which. */
export class StrategyLoadError extends DomainError {
  override readonly name: string = 'StrategyLoadError';
  constructor(
    readonly kind: StrategyLoadErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/**
 * The StrategyModule among a module's exports: its default export (also when the module system
 * wrapped it once more, as CommonJS interop does), or the exports themselves when they have the
 * shape. Throws StrategyLoadError ('bad_module') naming `source` and the missing piece.
 */
export function strategyModuleFrom(exports: unknown, source: string): StrategyModule {
  const candidates: unknown[] = [];
  if (isObject(exports)) {
    const d = exports.default;
    candidates.push(d);
    if (isObject(d)) candidates.push(d.default);
    candidates.push(exports);
  }
  const found = candidates.find((c) => isObject(c) && typeof c.create === 'function');
  if (!isObject(found)) {
    throw new StrategyLoadError('bad_module', `${source}: expected a default export { name, create(config, params) } (a StrategyModule, see services/strategy/README.md)`);
  }
  if (typeof found.name !== 'string' || found.name.trim() === '') throw new StrategyLoadError('bad_module', `${source}: the module's name must be a non-empty string`);
  if (found.params !== undefined && !(isObject(found.params) && typeof found.params.parse === 'function')) {
    throw new StrategyLoadError('bad_module', `${source}: params, when given, must have a parse(raw) function (a zod schema fits)`);
  }
  return found as unknown as StrategyModule;
}

/** "a.b: message; c: message" from a zod-like error (anything with issues of path and message). */
function describeParamError(e: unknown): string {
  if (isObject(e) && Array.isArray(e.issues)) {
    const lines = e.issues.map((i: unknown) => {
      if (!isObject(i)) return String(i);
      const path = Array.isArray(i.path) ? i.path.map(String) : [];
      return `${['strategyParams', ...path].join('.')}: ${String(i.message)}`;
    });
    if (lines.length > 0) return lines.join('; ');
  }
  return `strategyParams: ${e instanceof Error ? e.message : String(e)}`;
}

/** Checks that what `create` returned is a Strategy (name and onCandle). */
function checkStrategy(s: unknown, source: string): Strategy {
  if (!isObject(s) || typeof s.onCandle !== 'function') throw new StrategyLoadError('bad_strategy', `${source}: create() must return an object with onCandle(symbol, candle, position, ctx)`);
  if (typeof s.name !== 'string' || s.name === '') throw new StrategyLoadError('bad_strategy', `${source}: the strategy's name must be a non-empty string`);
  if (s.funnel !== undefined && !isObject(s.funnel)) throw new StrategyLoadError('bad_strategy', `${source}: funnel, when given, must be an object of counters`);
  if (s.levels !== undefined && typeof s.levels !== 'function') throw new StrategyLoadError('bad_strategy', `${source}: levels, when given, must be a function`);
  return s as unknown as Strategy;
}

/**
 * The factory of a checked module: each call validates `config.strategyParams` with the module's
 * `params` (a ConfigError naming `strategyParams.<field>` when they do not fit; without `params`
 * they must be empty), calls `create` and checks the result. Call it once per run: strategies
 * keep state.
 */
export function strategyFactory(mod: StrategyModule, source: string): StrategyFactory {
  return (config: Config): Strategy => {
    const raw = config.strategyParams;
    let params: unknown;
    if (mod.params) {
      try {
        params = mod.params.parse(raw);
      } catch (e) {
        throw new ConfigError(`invalid config for strategy ${mod.name} (${source}): ${describeParamError(e)}`, { cause: e });
      }
    } else if (Object.keys(raw).length > 0) {
      throw new ConfigError(`invalid config for strategy ${mod.name} (${source}): strategyParams: the strategy takes no parameters, got ${Object.keys(raw).join(', ')}`);
    }
    return checkStrategy(mod.create(config, params), source);
  };
}
