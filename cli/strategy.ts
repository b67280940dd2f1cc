/**
 * `--strategy <name or module>` for every command: a built-in name (sr, breakout) or the path of a
 * TypeScript or JavaScript module whose default export is a StrategyModule
 * (services/strategy/README.md). The module is imported dynamically (the npm scripts run under tsx,
 * so .ts files load as they are) and checked against the port by services/strategy/load.ts.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_STRATEGIES } from '../services/strategy/builtin.js';
import { StrategyLoadError, strategyFactory, strategyModuleFrom } from '../services/strategy/load.js';
import type { StrategyFactory, StrategyModule } from '../services/strategy/port.js';
import { hasStrategyFactory, registerStrategyFactory, type StrategyRef } from '../services/research/strategies.js';

export interface LoadedStrategy {
  /** The module's name (sr, breakout, or the plug-in's). */
  readonly name: string;
  /** What was asked for: the built-in name or the module's absolute path. */
  readonly source: string;
  readonly module: StrategyModule;
  /** A fresh, checked strategy per call (one per run). */
  readonly factory: StrategyFactory;
}

/** The default when no --strategy is given. */
export const DEFAULT_STRATEGY = 'sr';

/**
 * Resolves `spec` (default 'sr'): a built-in name, else a module path relative to `cwd`.
 * Throws StrategyLoadError: 'not_found' (no such built-in or file), 'bad_module' (it does not
 * import, or its exports do not fit the port).
 */
export async function loadStrategy(spec: string | undefined, cwd: string = process.cwd()): Promise<LoadedStrategy> {
  const name = spec ?? DEFAULT_STRATEGY;
  const builtin = BUILTIN_STRATEGIES[name];
  if (builtin) return { name: builtin.name, source: name, module: builtin, factory: strategyFactory(builtin, name) };
  const looksLikePath = /[/\\.]/.test(name);
  const path = isAbsolute(name) ? name : resolve(cwd, name);
  if (!existsSync(path)) {
    const known = Object.keys(BUILTIN_STRATEGIES).join(', ');
    throw new StrategyLoadError('not_found', looksLikePath ? `--strategy: no such module file ${path}` : `--strategy: unknown strategy "${name}" (built-in: ${known}; or the path of a module)`);
  }
  let exports: unknown;
  try {
    exports = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new StrategyLoadError('bad_module', `--strategy: cannot import ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const mod = strategyModuleFrom(exports, path);
  return { name: mod.name, source: path, module: mod, factory: strategyFactory(mod, path) };
}

/**
 * Makes every plug-in among `refs` (the `module` form of a research StrategyRef) available to
 * services/research/strategies.ts in this thread: imports its module once and registers its
 * factory under the reference's name. The optimiser's main thread and each of its worker threads
 * call it before running trials; a module whose name is not the reference's is refused.
 */
export async function ensureStrategies(refs: Iterable<StrategyRef>): Promise<void> {
  for (const ref of refs) {
    if (hasStrategyFactory(ref)) continue;
    if (!ref.module) throw new StrategyLoadError('not_found', `strategy: unknown strategy "${ref.name}" (built-in: ${Object.keys(BUILTIN_STRATEGIES).join(', ')}) and no module to load it from`);
    const loaded = await loadStrategy(ref.module);
    if (loaded.name !== ref.name) throw new StrategyLoadError('bad_module', `strategy: ${ref.module} is now strategy "${loaded.name}", the run was planned for "${ref.name}"`);
    registerStrategyFactory(ref.name, loaded.factory);
  }
}

/**
 * `--strategy` of a research run as the StrategyRef its trials carry: a built-in stays its name;
 * a module is loaded here (so a bad module fails at start) and registered in this thread, and the
 * reference names it and its absolute path, which the worker threads load it from.
 */
export async function researchStrategyRef(spec: string): Promise<StrategyRef> {
  if (BUILTIN_STRATEGIES[spec]) return { name: spec };
  const loaded = await loadStrategy(spec);
  if (BUILTIN_STRATEGIES[loaded.name]) throw new StrategyLoadError('bad_module', `--strategy: ${loaded.source} is named "${loaded.name}", the name of a built-in strategy: give the module a name of its own`);
  registerStrategyFactory(loaded.name, loaded.factory);
  return { name: loaded.name, module: loaded.source };
}
