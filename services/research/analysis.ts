/**
 * The results of a walk-forward run, from its spec and its trial log: per fold the choice, its
 * in-sample and out-of-sample figures and the untuned config's; the stitched out-of-sample curve;
 * walk-forward efficiency; parameter stability; the deflated Sharpe ratio and CSCV's PBO from the
 * logged trials; the hold-out; heatmap data; and the verdict, one sentence that says plainly when
 * nothing survives out of sample. Every figure is out of sample unless its name says in-sample.
 */
import { parseConfig } from '../config/schema.js';
import { DAY_MS } from '../core/timeframes.js';
import type { Fold, Span } from './folds.js';
import type { SpanMetrics } from './objectives.js';
import { deflatedSharpeOf, probabilisticSharpe, type DeflatedSharpe } from './stats/deflatedSharpe.js';
import { moments, periodSharpe } from './stats/moments.js';
import { probabilityOfBacktestOverfitting } from './stats/pbo.js';
import { overallWalkForwardEfficiency, parameterStability, walkForwardEfficiency, type ParameterStability } from './stats/walkForward.js';
import { selectFold, type FoldChoice } from './selection.js';
import { HOUR_MS, type TrialOutcome } from './trial.js';
import type { WalkForwardPlanner } from './walkForward.js';
import { formatValue, type ParameterSpec, type ParamValue } from './space.js';

export interface PboSummary {
  readonly pbo: number | null;
  readonly splits: number;
  readonly trials: number;
  readonly blocks: number;
  readonly probabilityOfLoss: number | null;
  readonly degradationSlope: number | null;
  /** Logits of every split (for the histogram). */
  readonly logits: readonly number[];
  /** In-sample vs out-of-sample performance of each split's winner (per-hour Sharpe). */
  readonly pairs: readonly (readonly [number, number])[];
}

export interface FoldReport {
  readonly index: number;
  readonly final: boolean;
  readonly train: Span;
  readonly test: Span;
  readonly searchTrials: number;
  readonly distinctTrials: number;
  readonly invalidTrials: number;
  readonly failedTrials: number;
  readonly choice: FoldChoice | null;
  readonly inSample: SpanMetrics | null;
  /** The choice on the test span (the hold-out for the final fold). */
  readonly outOfSample: SpanMetrics | null;
  /** The untuned config on the test span. */
  readonly untuned: SpanMetrics | null;
  readonly wfe: number | null;
  readonly dsr: DeflatedSharpe | null;
  readonly pbo: PboSummary;
}

export interface CurvePoint {
  readonly time: number;
  readonly equity: number;
}

export interface HeatmapData {
  readonly x: string;
  readonly y: string;
  readonly xLabels: readonly string[];
  readonly yLabels: readonly string[];
  /** Mean in-fold percentile (0..1) of the first objective per cell, null where no trial fell. */
  readonly cells: readonly (readonly (number | null)[])[];
}

export interface Verdict {
  readonly survives: boolean;
  readonly sentence: string;
  readonly reasons: readonly string[];
}

export interface OptimizeReport {
  readonly runId: string;
  readonly strategy: string;
  readonly objectives: readonly string[];
  readonly minTrades: number;
  readonly folds: readonly FoldReport[];
  readonly holdout: FoldReport | null;
  readonly stitched: {
    readonly days: number;
    readonly outOfSampleReturnPct: number;
    readonly untunedReturnPct: number;
    /** The chosen trials' in-sample curves placed end to end (in-sample, for comparison only). */
    readonly inSampleReturnPct: number;
    readonly outOfSampleTrades: number;
    readonly outOfSample: readonly CurvePoint[];
    readonly untuned: readonly CurvePoint[];
    readonly inSample: readonly CurvePoint[];
    /** P(true Sharpe > 0) of the stitched out-of-sample hourly returns (no selection among them: not deflated). */
    readonly probabilisticSharpe: number | null;
    readonly hourlySharpe: number | null;
  };
  readonly walkForwardEfficiency: number | null;
  readonly stability: Readonly<Record<string, ParameterStability & { readonly values: readonly ParamValue[] }>>;
  readonly pbo: PboSummary;
  readonly medianDeflatedSharpe: number | null;
  readonly heatmaps: readonly HeatmapData[];
  readonly trials: { readonly total: number; readonly evaluated: number; readonly distinct: number; readonly elapsedMs: number };
  readonly verdict: Verdict;
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function pboOf(columns: number[][], blocks: number): PboSummary {
  if (columns.length < 2) return { pbo: null, splits: 0, trials: columns.length, blocks, probabilityOfLoss: null, degradationSlope: null, logits: [], pairs: [] };
  const len = Math.min(...columns.map((c) => c.length));
  const b = Math.min(blocks, 2 * Math.floor(len / 4)) || 2;
  const r = probabilityOfBacktestOverfitting(
    columns.map((c) => c.slice(c.length - len)),
    b,
    'sharpe',
  );
  return {
    pbo: r.pbo,
    splits: r.splits.length,
    trials: r.trials,
    blocks: r.blocks,
    probabilityOfLoss: r.probabilityOfLoss,
    degradationSlope: r.degradationSlope,
    logits: r.splits.map((s) => round(s.logit)),
    pairs: r.splits.map((s) => [round(s.inSample, 5), round(s.outOfSample, 5)] as const),
  };
}

/** Compounds hourly returns laid end to end over the spans, from `start` equity. */
function curve(parts: readonly { span: Span; returns: readonly number[] }[], start: number): CurvePoint[] {
  const out: CurvePoint[] = [];
  let e = start;
  for (const p of parts) {
    out.push({ time: p.span.start, equity: round(e, 6) });
    p.returns.forEach((r, h) => {
      e *= 1 + r;
      out.push({ time: Math.min(p.span.start + (h + 1) * HOUR_MS, p.span.end), equity: round(e, 6) });
    });
  }
  return out;
}

/** Builds the report of a complete (or partial: missing parts are null) run. */
export function analyseRun(planner: WalkForwardPlanner, log: ReadonlyMap<number, TrialOutcome>): OptimizeReport {
  const spec = planner.spec;
  const initial = parseConfig(planner.space.base, 'config').backtest.initialBalance;
  const reportFold = (fold: Fold): FoldReport => {
    const search = planner.searchOutcomes(fold, log);
    const distinct = search.filter((o) => o.status === 'ok' && o.duplicateOf === undefined);
    const choice = selectFold(planner, fold, log);
    const chosen = choice ? log.get(choice.trial) : undefined;
    const oos = log.get(planner.evalTrial(fold, false));
    const base = log.get(planner.evalTrial(fold, true));
    const inSample = chosen?.metrics ?? null;
    const outOfSample = oos?.status === 'ok' ? oos.metrics : null;
    const dsr = chosen && chosen.returns.length > 1 ? deflatedSharpeOf(chosen.returns, distinct.map((o) => periodSharpe(o.returns))) : null;
    return {
      index: fold.index,
      final: fold.final,
      train: fold.train,
      test: fold.test,
      searchTrials: search.length,
      distinctTrials: distinct.length,
      invalidTrials: search.filter((o) => o.status === 'invalid').length,
      failedTrials: search.filter((o) => o.status === 'error').length,
      choice,
      inSample,
      outOfSample,
      untuned: base?.status === 'ok' ? base.metrics : null,
      wfe:
        inSample && outOfSample
          ? walkForwardEfficiency({ inSamplePct: inSample.netReturnPct, inSampleDays: inSample.days, outOfSamplePct: outOfSample.netReturnPct, outOfSampleDays: outOfSample.days })
          : null,
      dsr,
      pbo: pboOf(distinct.map((o) => [...o.returns]), spec.pboBlocks),
    };
  };
  const folds = spec.plan.folds.map(reportFold);
  const holdout = spec.plan.final ? reportFold(spec.plan.final) : null;

  // The stitched out-of-sample curve: a fold without a choice (or whose run failed) is flat.
  const flat = (span: Span): number[] => new Array<number>(Math.max(1, Math.round((span.end - span.start) / HOUR_MS))).fill(0);
  const oosParts = spec.plan.folds.map((f) => {
    const o = log.get(planner.evalTrial(f, false));
    return { span: f.test, returns: o?.status === 'ok' ? o.returns : flat(f.test) };
  });
  const baseParts = spec.plan.folds.map((f) => {
    const o = log.get(planner.evalTrial(f, true));
    return { span: f.test, returns: o?.status === 'ok' ? o.returns : flat(f.test) };
  });
  const isParts = folds.map((f) => {
    const o = f.choice ? log.get(f.choice.trial) : undefined;
    return { span: f.train, returns: o?.returns ?? flat(f.train) };
  });
  const oosCurve = curve(oosParts, initial);
  const baseCurve = curve(baseParts, initial);
  const isCurve = curve(isParts, initial);
  const pct = (c: CurvePoint[]): number => round(((c[c.length - 1]?.equity ?? initial) / initial - 1) * 100);
  const oosReturns = oosParts.flatMap((p) => p.returns);
  const m = moments(oosReturns);
  const hourlySharpe = periodSharpe(oosReturns);
  const psr = hourlySharpe === null ? null : probabilisticSharpe(hourlySharpe, 0, m.n, m.skew, m.kurtosis);

  const stability: Record<string, ParameterStability & { values: ParamValue[] }> = {};
  for (const key of planner.space.keys) {
    const p = planner.space.spec.parameters[key] as ParameterSpec;
    const values = folds.filter((f) => f.choice).map((f) => (f.choice as FoldChoice).values[key] as ParamValue);
    const st = p.type === 'choice' ? parameterStability({ kind: 'choice', values: values.map((v) => (typeof v === 'object' || v === null ? formatValue(v) : v)) }) : parameterStability({ kind: 'number', values: values.map(Number), min: p.min, max: p.max });
    stability[key] = { ...st, values };
  }

  // PBO pooled over the folds: every CSCV split of every fold counts once.
  const allLogits = [...folds, ...(holdout ? [holdout] : [])].flatMap((f) => f.pbo.logits);
  const pooled: PboSummary = {
    pbo: allLogits.length ? round(allLogits.filter((l) => l <= 0).length / allLogits.length) : null,
    splits: allLogits.length,
    trials: Math.round(median(folds.map((f) => f.pbo.trials)) ?? 0),
    blocks: folds[0]?.pbo.blocks ?? spec.pboBlocks,
    probabilityOfLoss: null,
    degradationSlope: null,
    logits: allLogits,
    pairs: [...folds, ...(holdout ? [holdout] : [])].flatMap((f) => f.pbo.pairs),
  };
  const dsrs = folds.map((f) => f.dsr?.dsr).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const medianDsr = median(dsrs);
  const wfe = overallWalkForwardEfficiency(
    folds.filter((f) => f.inSample && f.outOfSample).map((f) => ({ inSamplePct: (f.inSample as SpanMetrics).netReturnPct, inSampleDays: (f.inSample as SpanMetrics).days, outOfSamplePct: (f.outOfSample as SpanMetrics).netReturnPct, outOfSampleDays: (f.outOfSample as SpanMetrics).days })),
  );
  const oosDays = spec.plan.folds.reduce((s, f) => s + (f.test.end - f.test.start) / DAY_MS, 0);
  const all = [...log.values()];
  const report: Omit<OptimizeReport, 'verdict'> = {
    runId: spec.runId,
    strategy: spec.strategy.name,
    objectives: spec.objectives,
    minTrades: spec.minTrades,
    folds,
    holdout,
    stitched: {
      days: round(oosDays, 3),
      outOfSampleReturnPct: pct(oosCurve),
      untunedReturnPct: pct(baseCurve),
      inSampleReturnPct: pct(isCurve),
      outOfSampleTrades: folds.reduce((s, f) => s + (f.outOfSample?.trades ?? 0), 0),
      outOfSample: oosCurve,
      untuned: baseCurve,
      inSample: isCurve,
      probabilisticSharpe: psr === null || Number.isNaN(psr) ? null : round(psr),
      hourlySharpe: hourlySharpe === null ? null : round(hourlySharpe, 6),
    },
    walkForwardEfficiency: wfe === null ? null : round(wfe),
    stability,
    pbo: pooled,
    medianDeflatedSharpe: medianDsr === null ? null : round(medianDsr),
    heatmaps: heatmaps(planner, log),
    trials: {
      total: all.length,
      evaluated: all.filter((o) => o.status !== 'invalid' && o.duplicateOf === undefined).length,
      distinct: all.filter((o) => o.phase === 'search' && o.status === 'ok' && o.duplicateOf === undefined).length,
      elapsedMs: all.reduce((s, o) => s + o.elapsedMs, 0),
    },
  };
  return { ...report, verdict: verdict(report) };
}

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

/** The one-sentence verdict and the reasons behind it. */
export function verdict(r: Omit<OptimizeReport, 'verdict'>): Verdict {
  const s = r.stitched;
  const reasons: string[] = [];
  if (r.folds.every((f) => !f.choice)) reasons.push(`no parameter set reached ${r.minTrades} trades in any training span`);
  if (!(s.outOfSampleReturnPct > 0)) reasons.push(`the stitched out-of-sample return is ${signed(s.outOfSampleReturnPct)} over ${s.days.toFixed(1)} days (in sample the chosen sets made ${signed(s.inSampleReturnPct)})`);
  const h = r.holdout?.outOfSample;
  if (r.holdout && !(h && h.netReturnPct > 0)) reasons.push(h ? `the hold-out returned ${signed(h.netReturnPct)}` : 'the hold-out has no result');
  if (r.pbo.pbo !== null && r.pbo.pbo >= 0.5) reasons.push(`PBO is ${r.pbo.pbo.toFixed(2)} (the in-sample winner is at or below the median out of sample in ${(r.pbo.pbo * 100).toFixed(0)}% of CSCV splits)`);
  if (r.medianDeflatedSharpe === null || r.medianDeflatedSharpe < 0.95)
    reasons.push(`the in-sample best is not significant after deflating for ${r.folds[0]?.distinctTrials ?? 0} trials per fold (median deflated Sharpe ${r.medianDeflatedSharpe === null ? 'n/a' : r.medianDeflatedSharpe.toFixed(2)}, needs 0.95)`);
  if (reasons.length === 0) {
    return {
      survives: true,
      reasons,
      sentence:
        `The optimised ${r.strategy} strategy survived out of sample: ${signed(s.outOfSampleReturnPct)} over ${s.days.toFixed(1)} out-of-sample days (untuned ${signed(s.untunedReturnPct)}), ` +
        `${h ? `${signed(h.netReturnPct)} on the hold-out, ` : ''}walk-forward efficiency ${r.walkForwardEfficiency?.toFixed(2) ?? 'n/a'}, PBO ${r.pbo.pbo?.toFixed(2) ?? 'n/a'}, median deflated Sharpe ${r.medianDeflatedSharpe?.toFixed(2)}; paper-trade it before risking money.`,
    };
  }
  return { survives: false, reasons, sentence: `Nothing survives out of sample: ${reasons.join('; ')}.` };
}

/** Heatmaps of the first objective over the pairs of the three most influential parameters. */
function heatmaps(planner: WalkForwardPlanner, log: ReadonlyMap<number, TrialOutcome>): HeatmapData[] {
  const BINS = 8;
  const keys = planner.space.keys;
  const dims = planner.space.dims;
  // Percentile of each trial within its fold, so folds of different markets pool fairly.
  const rows: { point: number[]; score: number }[] = [];
  for (const fold of planner.folds) {
    const os = planner.searchOutcomes(fold, log).filter((o) => o.status === 'ok' && o.duplicateOf === undefined);
    const vals = os.map((o) => planner.objectiveVector(o)?.[0] ?? null);
    const sorted = vals.filter((v): v is number => v !== null).sort((a, b) => a - b);
    os.forEach((o, i) => {
      const v = vals[i];
      const score = v === null || v === undefined || sorted.length < 2 ? 0 : sorted.filter((x) => x < v).length / (sorted.length - 1);
      rows.push({ point: planner.space.encode(o.values), score });
    });
  }
  if (rows.length === 0 || keys.length < 2) return [];
  const binOf = (d: number, x: number): number => {
    const dim = dims[d];
    return dim && dim.kind === 'choice' ? x : Math.min(BINS - 1, Math.floor(x * BINS));
  };
  const size = (d: number): number => {
    const dim = dims[d];
    return dim && dim.kind === 'choice' ? dim.size : BINS;
  };
  const labels = (d: number): string[] => {
    const p = planner.space.spec.parameters[keys[d] as string] as ParameterSpec;
    if (p.type === 'choice') return p.values.map(formatValue);
    return Array.from({ length: BINS }, (_, b) => {
      const v = planner.space.decode(keys.map((_, j) => (j === d ? (b + 0.5) / BINS : 0)))[keys[d] as string];
      return formatValue(v);
    });
  };
  // Influence of a parameter: the variance of the mean score across its bins.
  const influence = keys.map((_, d) => {
    const sum = new Array<number>(size(d)).fill(0);
    const cnt = new Array<number>(size(d)).fill(0);
    for (const r of rows) {
      const b = binOf(d, r.point[d] as number);
      sum[b] = (sum[b] as number) + r.score;
      cnt[b] = (cnt[b] as number) + 1;
    }
    const means = sum.map((s, b) => ((cnt[b] as number) > 0 ? s / (cnt[b] as number) : null)).filter((x): x is number => x !== null);
    const mu = means.reduce((a, b) => a + b, 0) / (means.length || 1);
    return means.reduce((a, b) => a + (b - mu) ** 2, 0) / (means.length || 1);
  });
  const top = keys.map((_, d) => d).sort((a, b) => (influence[b] as number) - (influence[a] as number)).slice(0, 3);
  const pairs: [number, number][] = [];
  for (let i = 0; i < top.length; i++) for (let j = i + 1; j < top.length; j++) pairs.push([top[i] as number, top[j] as number]);
  return pairs.map(([a, b]) => {
    const sum = Array.from({ length: size(b) }, () => new Array<number>(size(a)).fill(0));
    const cnt = Array.from({ length: size(b) }, () => new Array<number>(size(a)).fill(0));
    for (const r of rows) {
      const x = binOf(a, r.point[a] as number);
      const y = binOf(b, r.point[b] as number);
      (sum[y] as number[])[x]! += r.score;
      (cnt[y] as number[])[x]! += 1;
    }
    return {
      x: keys[a] as string,
      y: keys[b] as string,
      xLabels: labels(a),
      yLabels: labels(b),
      cells: sum.map((row, y) => row.map((s, x) => (((cnt[y] as number[])[x] as number) > 0 ? round(s / ((cnt[y] as number[])[x] as number), 3) : null))),
    };
  });
}
