/** Shared command-line helpers: argument parsing errors that name the flag, and config loading. */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../services/core/errors.js';
import { parseConfig, type Config } from '../services/config/schema.js';

/** Thrown for a bad command line; the CLI prints the message and the usage, then exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs with the project's error handling: a bad command line becomes a UsageError
 * whose message names the flag and, for an unknown flag close to a known one, says which one was
 * probably meant ("unknown flag --stauts-port; did you mean --status-port?").
 */
export function parseFlags<O extends FlagOptions>(argv: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // node quotes the flag as it was typed: "Unknown option '--stauts-port'".
      const typed = /'(-{1,2}[^']+)'/.exec(message)?.[1] ?? '';
      const name = typed.replace(/^-+/, '').split('=')[0] ?? '';
      const guess = closestFlag(name, Object.keys(options));
      throw new UsageError(`unknown flag ${typed || message}${guess ? `; did you mean --${guess}?` : ''} (--help lists the flags)`);
    }
    throw new UsageError(message);
  }
}

/** The known flag nearest to `typed` (edit distance at most a third of its length, at least 2), or undefined. */
export function closestFlag(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(typed.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const bound = Math.max(2, Math.floor(typed.length / 3));
  return best !== undefined && bestDistance <= bound ? best : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
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
    // Editors on Windows save JSON with a UTF-8 byte-order mark, which JSON.parse refuses.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
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
