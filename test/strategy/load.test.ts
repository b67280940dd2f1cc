/**
 * Strategy plug-ins: the port-level checks (services/strategy/load.ts) and the loader every command
 * uses (cli/strategy.ts): built-in names, a module file, and each way a module can fail to fit.
 */
import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../cli/strategy.js';
import { parseConfig } from '../../services/config/schema.js';
import { ConfigError } from '../../services/core/errors.js';
import { StrategyLoadError, strategyFactory, strategyModuleFrom } from '../../services/strategy/load.js';
import type { StrategyModule } from '../../services/strategy/port.js';

const config = (strategyParams: Record<string, unknown> = {}) => parseConfig({ strategyParams });
const kindOf = async (p: Promise<unknown>): Promise<string | undefined> => p.then(() => undefined, (e: unknown) => (e instanceof StrategyLoadError ? e.kind : String(e)));

describe('strategyModuleFrom', () => {
  const mod: StrategyModule = { name: 'm', create: () => ({ name: 'm', onCandle: () => [] }) };
  it('finds the module as the default export, a CommonJS-wrapped default, or the exports themselves', () => {
    expect(strategyModuleFrom({ default: mod }, 'x')).toBe(mod);
    expect(strategyModuleFrom({ default: { default: mod } }, 'x')).toBe(mod);
    expect(strategyModuleFrom(mod, 'x')).toBe(mod);
  });
  it('refuses what does not fit, naming the source and the missing piece', () => {
    expect(() => strategyModuleFrom({ default: { name: 'x' } }, 'my.ts')).toThrow(/my\.ts: expected a default export \{ name, create/);
    expect(() => strategyModuleFrom({ default: { name: '', create: () => null } }, 'my.ts')).toThrow(/name must be a non-empty string/);
    expect(() => strategyModuleFrom({ default: { name: 'x', create: () => null, params: {} } }, 'my.ts')).toThrow(/parse\(raw\)/);
    expect(() => strategyModuleFrom(undefined, 'my.ts')).toThrow(StrategyLoadError);
  });
});

describe('strategyFactory', () => {
  it('a fresh strategy per call (strategies keep state), checked against the port', () => {
    let made = 0;
    const f = strategyFactory({ name: 'm', create: () => ({ name: `m${++made}`, onCandle: () => [] }) }, 'x');
    expect([f(config()).name, f(config()).name]).toEqual(['m1', 'm2']);
    const bad = strategyFactory({ name: 'b', create: () => ({ name: 'b' }) as never }, 'x');
    expect(() => bad(config())).toThrow(/create\(\) must return an object with onCandle/);
  });
  it('without a params validator, strategyParams must be empty', () => {
    const f = strategyFactory({ name: 'm', create: () => ({ name: 'm', onCandle: () => [] }) }, 'x');
    expect(() => f(config({ fast: 3 }))).toThrow(ConfigError);
    expect(() => f(config({ fast: 3 }))).toThrow(/strategyParams: the strategy takes no parameters, got fast/);
  });
});

describe('loadStrategy', () => {
  it('built-in names: sr (the default) and breakout', async () => {
    expect((await loadStrategy(undefined)).name).toBe('sr');
    expect((await loadStrategy('breakout')).factory(config()).name).toBe('breakout');
  });

  it('a module file: the worked example, its params validated by its own schema with the field named', async () => {
    const s = await loadStrategy('examples/strategies/smaCross.ts');
    expect(s.name).toBe('sma-cross');
    expect(s.factory(config({ fast: 5, slow: 20 })).name).toBe('sma-cross');
    expect(() => s.factory(config({ fast: 40, slow: 20 }))).toThrow(/strategyParams\.fast: fast must be shorter than slow/);
    expect(() => s.factory(config({ fats: 5 }))).toThrow(/strategyParams/);
  });

  it('not found, not importable, not a strategy module: each its kind', async () => {
    expect(await kindOf(loadStrategy('nosuch'))).toBe('not_found');
    expect(await kindOf(loadStrategy('test/fixtures/strategies/missing.ts'))).toBe('not_found');
    expect(await kindOf(loadStrategy('test/fixtures/strategies/noCreate.ts'))).toBe('bad_module');
    expect(await kindOf(loadStrategy('package.json'))).toBe('bad_module');
  });
});
