/**
 * Walk-forward statistics: walk-forward efficiency and the stability of the chosen parameters.
 *
 * Walk-forward efficiency (R. Pardo, "The Evaluation and Optimization of Trading Strategies",
 * 2nd ed., 2008): the out-of-sample rate of return over the in-sample rate of the parameters that
 * were chosen in sample, both per day so that spans of different lengths compare. 1 means the
 * out-of-sample spans earned what the optimisation promised; near 0 or negative, that the in-sample
 * result was mostly fitted noise. It is undefined when the in-sample return is not positive.
 */

export interface FoldReturn {
  /** Net return (percent) of the chosen parameters in sample, and the in-sample span in days. */
  readonly inSamplePct: number;
  readonly inSampleDays: number;
  /** Net return (percent) of the same parameters out of sample, and that span in days. */
  readonly outOfSamplePct: number;
  readonly outOfSampleDays: number;
}

/** One fold's efficiency: (OOS % per day) / (IS % per day); null when the IS rate is not positive. */
export function walkForwardEfficiency(f: FoldReturn): number | null {
  if (!(f.inSampleDays > 0) || !(f.outOfSampleDays > 0)) return null;
  const is = f.inSamplePct / f.inSampleDays;
  if (!(is > 0)) return null;
  return f.outOfSamplePct / f.outOfSampleDays / is;
}

/** The efficiency of all folds together: summed OOS return per OOS day over summed IS return per IS day. */
export function overallWalkForwardEfficiency(folds: readonly FoldReturn[]): number | null {
  let isPct = 0;
  let isDays = 0;
  let oosPct = 0;
  let oosDays = 0;
  for (const f of folds) {
    isPct += f.inSamplePct;
    isDays += f.inSampleDays;
    oosPct += f.outOfSamplePct;
    oosDays += f.outOfSampleDays;
  }
  return walkForwardEfficiency({ inSamplePct: isPct, inSampleDays: isDays, outOfSamplePct: oosPct, outOfSampleDays: oosDays });
}

/** A parameter's chosen value in each fold, with its search range (numbers) or choices. */
export type ParameterChoices =
  | { readonly kind: 'number'; readonly values: readonly number[]; readonly min: number; readonly max: number }
  | { readonly kind: 'choice'; readonly values: readonly (string | number | boolean)[] };

export interface ParameterStability {
  /**
   * Numbers: the sample standard deviation of the chosen values over the width of the search
   * range (0 = the same value every fold; about 0.29 = as spread as uniform random picks).
   * Choices: 1 - the share of folds that chose the most common value.
   */
  readonly dispersion: number | null;
  /** Numbers: (largest - smallest chosen) / range width. Choices: distinct values chosen / folds. */
  readonly spread: number | null;
  /** The most common choice and its share of folds (choices only). */
  readonly mode?: string | number | boolean;
  readonly modeShare?: number;
}

/** How much one parameter's choice moved across folds (see ParameterStability). */
export function parameterStability(p: ParameterChoices): ParameterStability {
  const k = p.values.length;
  if (k === 0) return { dispersion: null, spread: null };
  if (p.kind === 'number') {
    const width = p.max - p.min;
    if (!(width > 0) || k < 2) return { dispersion: k < 2 ? null : 0, spread: k < 2 ? null : 0 };
    let m = 0;
    for (const v of p.values) m += v;
    m /= k;
    let ss = 0;
    for (const v of p.values) ss += (v - m) ** 2;
    const sd = Math.sqrt(ss / (k - 1));
    return { dispersion: sd / width, spread: (Math.max(...p.values) - Math.min(...p.values)) / width };
  }
  const counts = new Map<string | number | boolean, number>();
  for (const v of p.values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let mode: string | number | boolean = p.values[0] as string | number | boolean;
  let best = 0;
  for (const [v, c] of counts) {
    if (c > best) {
      best = c;
      mode = v;
    }
  }
  return { dispersion: 1 - best / k, spread: counts.size / k, mode, modeShare: best / k };
}
