/**
 * What every fuzz target shares: a fast-check run over one input kind that counts each outcome
 * (accepted, and every kind of rejection), collects invariant violations instead of stopping at the
 * first one unnoticed, and samples the process's resident memory while it runs.
 *
 * The same targets run twice: a few hundred inputs each in `npm test` (test/fuzz/fuzz.test.ts,
 * fixed seed, seconds) and 10,000 each in `npm run soak` (bench/soak/fuzz.ts).
 */
import fc from 'fast-check';

/** An input broke a rule (a crash, an error of the wrong kind, an output that breaks an invariant). */
export class FuzzInvariantError extends Error {
  override readonly name = 'FuzzInvariantError';
}

/** Counts outcomes by name. */
export class Tally {
  readonly outcomes: Record<string, number> = {};
  count(outcome: string, n = 1): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + n;
  }
}

/** Resident set size in MiB, two decimals. */
export function rssMb(): number {
  return Math.round((process.memoryUsage.rss() / 2 ** 20) * 100) / 100;
}

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
}

export interface FuzzResult {
  readonly target: string;
  readonly runs: number;
  readonly seed: number;
  /** Every outcome counted: `accepted`, `rejected:<kind>`, and what the target names. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Inputs that broke a rule (the first, as fast-check reports it, with its seed and path). */
  readonly failures: readonly string[];
  readonly rss: { readonly startMb: number; readonly peakMb: number; readonly endMb: number };
  readonly ms: number;
}

/**
 * Runs `body` on `runs` inputs from `arb` (seeded). A throw from `body` is a failure; `body`
 * throws FuzzInvariantError for a broken rule and counts every other outcome in the tally.
 */
export async function fuzz<T>(target: string, arb: fc.Arbitrary<T>, body: (input: T, tally: Tally) => Promise<void> | void, opts: FuzzOptions): Promise<FuzzResult> {
  const tally = new Tally();
  const startMb = rssMb();
  let peakMb = startMb;
  let n = 0;
  const t0 = performance.now();
  const result = await fc.check(
    fc.asyncProperty(arb, async (input) => {
      await body(input, tally);
      if (++n % 50 === 0) peakMb = Math.max(peakMb, rssMb());
    }),
    // No shrinking: a soak wants the count and the first counterexample, not minutes of shrinking.
    { numRuns: opts.runs, seed: opts.seed, endOnFailure: true },
  );
  const failures: string[] = [];
  if (result.failed) {
    const err = result.errorInstance;
    failures.push(`${err instanceof Error ? `${err.name}: ${err.message}` : String(err)} (seed ${result.seed}, path ${result.counterexamplePath ?? '-'}, input ${short(result.counterexample)})`);
  }
  const endMb = rssMb();
  return { target, runs: result.numRuns, seed: opts.seed, outcomes: tally.outcomes, failures, rss: { startMb, peakMb: Math.max(peakMb, endMb), endMb }, ms: Math.round(performance.now() - t0) };
}

/** A value as at most 300 characters of JSON (counterexamples can be huge). */
export function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? `<${x.length} bytes>` : typeof x === 'bigint' ? String(x) : x)) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** Strings that break parsers: empty, whitespace, numbers in odd spellings, huge, control characters. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '\t', '\n', '\r\n', '\u0000', '\ufeff', 'NaN', 'Infinity', '-Infinity', '1e308', '-1e308', '1e-324', '0x1F', '0b11', '1_000', '+1', '-0', '00', '.5', '5.', '1,5', 'null', 'true', '[]', '{}', '"', "'", '\\', '%00', '../', 'DROP TABLE', '𝟙𝟚𝟛', 'é', '9'.repeat(400)),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt().map(String),
);
