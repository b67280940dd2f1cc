/**
 * Reading and changing the strategy config by dotted key, for recommendations: a candidate config
 * is the live one with at most two keys changed, validated by the same parseConfig as every entry
 * point (so a change the schema refuses is refused here too). The live config object is never
 * modified.
 */
import { parseConfig, type Config } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import type { Tunable } from './config.js';

/** The input form of a resolved config (what parseConfig accepts back). */
export function configInputOf(c: Config): Record<string, unknown> {
  const { riskProfile: _rp, modeSettings: _ms, ...input } = c;
  return structuredClone(input);
}

/** The current numeric value at `key` (risk.overrides.X reads the resolved profile), or undefined. */
export function readKey(c: Config, key: string): number | undefined {
  const parts = key.split('.');
  if (parts[0] === 'risk' && parts[1] === 'overrides' && parts.length === 3) return (c.riskProfile as unknown as Record<string, unknown>)[parts[2]!] as number | undefined;
  let v: unknown = c;
  for (const p of parts) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return typeof v === 'number' ? v : undefined;
}

/** Whether `value` is on the tunable's grid (min + k x step, k an integer) and within its bounds. */
export function onGrid(t: Tunable, value: number): boolean {
  if (!Number.isFinite(value) || value < t.min - 1e-9 || value > t.max + 1e-9) return false;
  const k = (value - t.min) / t.step;
  return Math.abs(k - Math.round(k)) < 1e-6;
}

/** The live config with `changes` applied, validated; ConfigError when the result is not a valid config. */
export function applyChanges(live: Config, changes: readonly { key: string; value: number }[]): Config {
  const input = configInputOf(live);
  for (const { key, value } of changes) {
    const parts = key.split('.');
    let node = input;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) {
        if (next !== undefined) throw new ConfigError(`${key}: ${p} is not an object`);
        node[p] = {};
      }
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return parseConfig(input, 'candidate config');
}
