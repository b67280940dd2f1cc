/** Shared command-line helpers: argument parsing errors that name the flag, and config loading. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../services/core/errors.js';
import { parseConfig, type Config } from '../services/config/schema.js';

/** Thrown for a bad command line; the CLI prints the message and the usage, then exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Loads the config: defaults, then the JSON file (if any), then the flags that override it.
 * Every error names the field (or the file) and what was expected.
 */
export function loadConfig(file: string | undefined, overrides: { mode?: string; profile?: string }): Config {
  return parseConfig(loadConfigInput(file, overrides), file ? `config (${file})` : 'config');
}

/** The same config input, merged but not yet parsed (the optimiser puts the search space on top), checked by parsing it once. */
export function loadConfigInput(file: string | undefined, overrides: { mode?: string; profile?: string }): Record<string, unknown> {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
      raw = parsed as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  if (overrides.mode !== undefined) raw = { ...raw, mode: overrides.mode };
  if (overrides.profile !== undefined) {
    const risk = typeof raw.risk === 'object' && raw.risk !== null ? (raw.risk as Record<string, unknown>) : {};
    raw = { ...raw, risk: { ...risk, profile: overrides.profile } };
  }
  parseConfig(raw, file ? `config (${file})` : 'config');
  return raw;
}
