/**
 * A search space over config keys, for the optimiser: which keys vary, over which ranges, steps or
 * choices, under which constraints.
 *
 * A space file (JSON) is validated like the config: zod, strict (an unknown key is an error), and
 * every parameter's key, range ends and choices are put through the config's own parser, so a
 * typo such as `entry.proximityPc` or a range the config refuses fails at start with the field's
 * name and what was expected. Constraints are comparisons between parameters (and numbers), e.g.
 * `exit.primaryTargetMinPct <= exit.primaryTargetMaxPct` or `levels.lookback >= 4 * levels.extremaWing`;
 * a point that breaks one, or that the config parser refuses as a whole, is never evaluated.
 *
 * Points live in the unit cube (numbers) or are category indices (choices); see search/tpe.ts.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseConfig, type Config } from '../config/schema.js';
import type { Dimension, Point } from './search/tpe.js';

const numberParam = z.strictObject({
  type: z.enum(['float', 'int']),
  min: z.number(),
  max: z.number(),
  /** Values on a grid min, min + step, ... (int: default 1). */
  step: z.number().positive().optional(),
  /** Sample evenly in log space (both ends > 0). */
  log: z.boolean().default(false),
});
/**
 * Choices are JSON values: scalars, and arrays or objects for keys that take them (e.g.
 * `entry.regimes`: `[[], ["ranging"], ["ranging", "quiet"]]`), each checked by the config parser.
 */
const choiceParam = z.strictObject({
  type: z.literal('choice'),
  values: z.array(z.json()).min(2),
});
export const parameterSchema = z.discriminatedUnion('type', [numberParam, choiceParam]);

export const spaceSchema = z.strictObject({
  /** The strategy the space is for (services/research/strategies.ts). */
  strategy: z.string().min(1).default('sr'),
  description: z.string().optional(),
  /** Config overrides applied under every point (the fixed part of the experiment). */
  base: z.record(z.string(), z.unknown()).default({}),
  /** Config key (dotted path, e.g. `entry.proximityPct`) -> its range or choices. */
  parameters: z.record(z.string(), parameterSchema),
  /** Comparisons every point must satisfy: `<term> <op> <term>`, term = number | key | number * key. */
  constraints: z.array(z.string()).default([]),
  /**
   * The run settings this strategy needs, used where the command line gives none (a flag always
   * wins): e.g. a strategy on hourly candles needs a longer warm-up, and trades less often than
   * the default --min-trades of a 10-day training span allows.
   */
  defaults: z
    .strictObject({
      trainDays: z.number().positive().optional(),
      testDays: z.number().positive().optional(),
      embargoDays: z.number().min(0).optional(),
      holdoutDays: z.number().min(0).optional(),
      warmupDays: z.number().min(0).optional(),
      minTrades: z.number().int().min(0).optional(),
    })
    .default({}),
});
export type SpaceInput = z.input<typeof spaceSchema>;
export type SpaceSpec = z.output<typeof spaceSchema>;
export type ParameterSpec = z.output<typeof parameterSchema>;
/** A parameter's value: a number, or a choice (any JSON value). */
export type ParamValue = z.infer<ReturnType<typeof z.json>>;
export type ParamValues = Readonly<Record<string, ParamValue>>;

/** Whether two parameter values are the same (by JSON: a choice may be an array or an object). */
export function sameValue(a: ParamValue | undefined, b: ParamValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A value as the report prints it: scalars as they are, arrays and objects as JSON. */
export function formatValue(v: ParamValue | undefined): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

interface Term {
  readonly coef: number;
  readonly key: string | null;
}
interface Constraint {
  readonly text: string;
  readonly left: Term;
  readonly op: '<' | '<=' | '>' | '>=';
  readonly right: Term;
}

/** Sets `value` at dotted `path` in a copy of `obj` (objects along the path are copied too). */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  const key = head as string;
  if (rest.length === 0) return { ...obj, [key]: value };
  const child = obj[key];
  const inner = typeof child === 'object' && child !== null && !Array.isArray(child) ? (child as Record<string, unknown>) : {};
  return { ...obj, [key]: setPath(inner, rest.join('.'), value) };
}

/** Deep merge of plain objects (b wins); arrays and scalars are replaced. */
export function mergeConfig(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof cur === 'object' && cur !== null && !Array.isArray(cur))
      out[k] = mergeConfig(cur as Record<string, unknown>, v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

function decimals(x: number): number {
  const s = String(x);
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2));
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

function parseTerm(s: string, keys: ReadonlySet<string>, where: string): Term {
  const t = s.trim();
  const m = /^(-?\d+(?:\.\d+)?)\s*\*\s*([A-Za-z][\w.]*)$/.exec(t);
  if (m) {
    if (!keys.has(m[2] as string)) throw new ConfigError(`${where}: ${m[2]} is not a parameter of the space`);
    return { coef: Number(m[1]), key: m[2] as string };
  }
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return { coef: Number(t), key: null };
  if (/^[A-Za-z][\w.]*$/.test(t)) {
    if (!keys.has(t)) throw new ConfigError(`${where}: ${t} is not a parameter of the space`);
    return { coef: 1, key: t };
  }
  throw new ConfigError(`${where}: cannot read "${t}" (expected a number, a parameter key, or number * key)`);
}

function parseConstraint(text: string, keys: ReadonlySet<string>, where: string): Constraint {
  const m = /^(.+?)\s*(<=|>=|<|>)\s*(.+)$/.exec(text);
  if (!m) throw new ConfigError(`${where}: expected "<term> <op> <term>" with op one of <, <=, >, >=, got "${text}"`);
  return { text, left: parseTerm(m[1] as string, keys, where), op: m[2] as Constraint['op'], right: parseTerm(m[3] as string, keys, where) };
}

function termValue(t: Term, v: ParamValues): number {
  if (t.key === null) return t.coef;
  return t.coef * Number(v[t.key]);
}

/** A validated space, ready to map points to config values and back. */
export class SearchSpace {
  readonly keys: readonly string[];
  readonly dims: readonly Dimension[];
  private readonly constraints: readonly Constraint[];

  private constructor(
    readonly spec: SpaceSpec,
    private readonly baseRaw: Record<string, unknown>,
  ) {
    this.keys = Object.keys(spec.parameters);
    this.dims = this.keys.map((k) => {
      const p = spec.parameters[k] as ParameterSpec;
      return p.type === 'choice' ? { kind: 'choice', size: p.values.length } : { kind: 'number' };
    });
    const keySet = new Set(this.keys);
    this.constraints = spec.constraints.map((c, i) => parseConstraint(c, keySet, `space.constraints[${i}]`));
  }

  /**
   * Validates `input` (a parsed space file) against the schema and the config: `baseConfig` is the
   * user's config overrides the space's `base` goes on top of. Throws ConfigError naming the field.
   */
  static parse(input: unknown, baseConfig: Record<string, unknown> = {}, source = 'space'): SearchSpace {
    const r = spaceSchema.safeParse(input);
    if (!r.success) {
      const lines = r.error.issues.map((i) => {
        const at = [source, ...i.path.map(String)].join('.');
        return i.code === 'unrecognized_keys' ? `${at}: unknown key(s) ${i.keys.join(', ')}` : `${at}: ${i.message}`;
      });
      throw new ConfigError(`invalid ${source}: ${lines.join('; ')}`, { cause: r.error });
    }
    const spec = r.data;
    if (Object.keys(spec.parameters).length === 0) throw new ConfigError(`invalid ${source}: ${source}.parameters: expected at least one parameter`);
    const base = mergeConfig(baseConfig, spec.base);
    tryConfig(base, `${source}.base`);
    for (const [key, p] of Object.entries(spec.parameters)) {
      const at = `${source}.parameters.${key}`;
      if (p.type === 'choice') {
        p.values.forEach((v, i) => {
          if (p.values.findIndex((w) => sameValue(w, v)) < i) throw new ConfigError(`invalid ${source}: ${at}: the choice ${JSON.stringify(v)} is listed twice`);
          tryConfig(setPath(base, key, v), `${at} value ${JSON.stringify(v)}`, true);
        });
        continue;
      }
      if (!(p.min < p.max)) throw new ConfigError(`invalid ${source}: ${at}: min (${p.min}) must be below max (${p.max})`);
      if (p.type === 'int' && (!Number.isInteger(p.min) || !Number.isInteger(p.max) || (p.step !== undefined && !Number.isInteger(p.step))))
        throw new ConfigError(`invalid ${source}: ${at}: an int parameter needs integer min, max and step`);
      if (p.log && !(p.min > 0)) throw new ConfigError(`invalid ${source}: ${at}: log needs min > 0`);
      if (p.step !== undefined && p.step > p.max - p.min) throw new ConfigError(`invalid ${source}: ${at}: step ${p.step} is wider than the range`);
      tryConfig(setPath(base, key, p.min), `${at}.min`, true);
      tryConfig(setPath(base, key, p.max), `${at}.max`, true);
    }
    return new SearchSpace(spec, base);
  }

  /** The config overrides under every point (user config + space base). */
  get base(): Record<string, unknown> {
    return this.baseRaw;
  }

  /** Grid size of a number parameter with a step (int: step 1), or null for a continuous one. */
  private gridSize(p: ParameterSpec): number | null {
    if (p.type === 'choice') return p.values.length;
    const step = p.step ?? (p.type === 'int' ? 1 : undefined);
    if (step === undefined) return null;
    return Math.floor((p.max - p.min) / step + 1e-9) + 1;
  }

  /** Maps a point to parameter values (numbers snapped to their step, rounded for readability). */
  decode(point: Point): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = {};
    this.keys.forEach((key, d) => {
      const p = this.spec.parameters[key] as ParameterSpec;
      const x = point[d] as number;
      if (p.type === 'choice') {
        out[key] = p.values[Math.min(p.values.length - 1, Math.max(0, Math.round(x)))] as ParamValue;
        return;
      }
      const u = Math.min(Math.max(x, 0), 1 - 1e-12);
      const step = p.step ?? (p.type === 'int' ? 1 : undefined);
      if (step !== undefined && !p.log) {
        const k = this.gridSize(p) as number;
        const v = p.min + Math.min(k - 1, Math.floor(u * k)) * step;
        out[key] = Number(v.toFixed(Math.max(decimals(step), decimals(p.min))));
        return;
      }
      let v = p.log ? Math.exp(Math.log(p.min) + u * (Math.log(p.max) - Math.log(p.min))) : p.min + u * (p.max - p.min);
      if (step !== undefined) v = Math.min(p.max, p.min + Math.round((v - p.min) / step) * step);
      out[key] = p.type === 'int' ? Math.round(v) : step !== undefined ? Number(v.toFixed(Math.max(decimals(step), decimals(p.min)))) : Number(v.toPrecision(6));
    });
    return out;
  }

  /** The point of parameter values: the centre of a grid cell, the inverse map of a continuous range, a choice's index. */
  encode(values: ParamValues): number[] {
    return this.keys.map((key) => {
      const p = this.spec.parameters[key] as ParameterSpec;
      const v = values[key];
      if (p.type === 'choice') return Math.max(0, p.values.findIndex((c) => sameValue(c, v)));
      const x = Number(v);
      const step = p.step ?? (p.type === 'int' ? 1 : undefined);
      if (step !== undefined && !p.log) {
        const k = this.gridSize(p) as number;
        return (Math.round((x - p.min) / step) + 0.5) / k;
      }
      const u = p.log ? (Math.log(x) - Math.log(p.min)) / (Math.log(p.max) - Math.log(p.min)) : (x - p.min) / (p.max - p.min);
      return Math.min(Math.max(u, 0), 1 - 1e-9);
    });
  }

  /** A unit-cube point (from the quasi-random start) with choice coordinates turned into indices. */
  fromUnit(u: readonly number[]): number[] {
    return this.keys.map((key, d) => {
      const p = this.spec.parameters[key] as ParameterSpec;
      const x = u[d] as number;
      return p.type === 'choice' ? Math.min(p.values.length - 1, Math.floor(x * p.values.length)) : x;
    });
  }

  /** The first constraint the values break, or null. */
  broken(values: ParamValues): string | null {
    for (const c of this.constraints) {
      const a = termValue(c.left, values);
      const b = termValue(c.right, values);
      const ok = c.op === '<' ? a < b : c.op === '<=' ? a <= b : c.op === '>' ? a > b : a >= b;
      if (!ok) return c.text;
    }
    return null;
  }

  /** The raw config input of a point's values (base + values), not yet parsed. */
  rawConfig(values: ParamValues): Record<string, unknown> {
    let raw = this.baseRaw;
    for (const [k, v] of Object.entries(values)) raw = setPath(raw, k, v);
    return raw;
  }

  /** The parsed config of a point, or the reason it is not a valid one (constraint or config rule). */
  config(values: ParamValues): { ok: true; config: Config } | { ok: false; reason: string } {
    const broken = this.broken(values);
    if (broken) return { ok: false, reason: `constraint ${broken}` };
    try {
      return { ok: true, config: parseConfig(this.rawConfig(values), 'trial config') };
    } catch (e) {
      if (e instanceof ConfigError) return { ok: false, reason: e.message };
      throw e;
    }
  }
}

/**
 * Parses a config input, rethrowing a refusal with `where` in front. `fieldOnly`: only the field
 * rules (zod's, whose refusals carry the ZodError as cause) count; a rule across fields (e.g. a
 * minimum above the default maximum) may hold once the other field varies too, so it is checked
 * per point instead.
 */
function tryConfig(raw: Record<string, unknown>, where: string, fieldOnly = false): void {
  try {
    parseConfig(raw, 'config');
  } catch (e) {
    if (fieldOnly && e instanceof ConfigError && !(e.cause instanceof z.ZodError)) return;
    if (e instanceof ConfigError) throw new ConfigError(`invalid space: ${where}: the config refuses it: ${e.message.replace(/^invalid config: /, '')}`, { cause: e });
    throw e;
  }
}
