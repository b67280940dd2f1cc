/**
 * What the soak's parts share: the run's options (quick or full, the seed), a seeded generator per
 * part, a deadline per part (each part stops by itself when its time is spent and says how far it
 * got), the machine's description, and the JSON result file of each part.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { seededRandom } from '../../test/helpers/prng.js';

export interface SoakOptions {
  readonly quick: boolean;
  readonly seed: number;
  /** Where results go: bench/results for a full run, out/soak for --quick (a smoke run is no figure). */
  readonly outDir: string;
  /** The runtime bundle the child processes run (bundleRuntime). */
  readonly bundle: string;
}

/** One part's run: its seeded generator, its deadline, its log. */
export class SoakPart {
  readonly rnd: () => number;
  readonly startedAt = Date.now();
  readonly deadline: number;

  constructor(
    readonly name: string,
    readonly opts: SoakOptions,
    /** Longest this part may run, ms. */
    readonly boundMs: number,
  ) {
    // One generator per part, derived from the run's seed: a part replays alone with the same draws.
    let h = opts.seed >>> 0;
    for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16_777_619) >>> 0;
    this.rnd = seededRandom(h);
    this.deadline = this.startedAt + boundMs;
  }

  get timeLeft(): number {
    return this.deadline - Date.now();
  }

  /** An integer in [min, max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.rnd() * (max - min));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)] as T;
  }

  log(line: string): void {
    process.stdout.write(`[soak ${this.name} ${((Date.now() - this.startedAt) / 1000).toFixed(0)}s] ${line}\n`);
  }

  /** Writes bench/results/soak-<name>.json (out/soak for --quick) and returns its path. */
  write(result: Record<string, unknown>): string {
    const path = join(this.opts.outDir, `soak-${this.name}.json`);
    mkdirSync(dirname(path), { recursive: true });
    const doc = {
      part: this.name,
      command: `npm run soak -- --only ${this.name}${this.opts.quick ? ' --quick' : ''} --seed ${this.opts.seed}`,
      seed: this.opts.seed,
      quick: this.opts.quick,
      date: new Date(this.startedAt).toISOString(),
      durationMs: Date.now() - this.startedAt,
      boundMs: this.boundMs,
      machine: machine(),
      ...result,
    };
    writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
    return path;
  }
}

export function machine(): Record<string, unknown> {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Percentiles of a list of numbers (nearest rank). */
export function percentiles(xs: readonly number[]): { n: number; min: number; p50: number; p90: number; max: number } | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { n: s.length, min: s[0]!, p50: at(0.5), p90: at(0.9), max: s[s.length - 1]! };
}
