/** Reading the optimiser's files and flag values; the spec itself is services/research/runSpec.ts. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../services/core/errors.js';
import { UsageError } from './args.js';

export { buildRunSpec, dataRange, OPTIMIZE_DEFAULTS, type OptimizeJob } from '../services/research/runSpec.js';

/** Reads and parses a JSON file; ConfigError naming the flag and file. */
export function readJsonFile(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${flag}: ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Parses a numeric flag value (days may be fractional); UsageError naming the flag. */
export function numberFlag(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (s.trim() === '' || !Number.isFinite(x)) throw new UsageError(`${name}: expected a number, got "${s}"`);
  return x;
}
