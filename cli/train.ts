/**
 * `npm run train -- --data <files or folders ...> --out <dir> [--model baseline|transformer|both]
 *   [--folds n] [--steps n] [--mode standard|hf] [--config file] [--symbols A,B] ...`
 *
 * Loads real 1m candles, computes the features and triple-barrier labels, runs the walk-forward
 * evaluation (out-of-sample metrics, backtests with and without the ML filter), then trains the
 * final model(s) on all the data and writes to <dir>:
 *   scaler.json, features.json, <model>/ (the model artifact's files), evaluation.json,
 *   evaluation.html and predictions.csv (every out-of-sample prediction, for re-checking metrics).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { LogisticBaseline } from '../services/ml/baseline.js';
import { buildDataset, prepareSeries, rowsIn, sampleRows, stackRows, finalSplit, type Dataset, type PreparedSeries } from '../services/ml/dataset.js';
import { walkForwardEvaluate, type EvaluationReport, type ModelSpec } from '../services/ml/evaluate.js';
import { FEATURE_NAMES } from '../services/ml/features.js';
import { barriersFromConfig, type BarrierSpec } from '../services/ml/labels.js';
import { evaluationHtml } from '../services/ml/reportHtml.js';
import { FeatureScaler } from '../services/ml/scaler.js';
import type { ModelArtifact, SignalModel } from '../services/ml/types.js';
import { loadConfig, UsageError, parseFlags } from './args.js';
import { loadSeries } from './loadSeries.js';

export const TRAIN_USAGE = `usage: npm run train -- --data <file or folder ...> --out <dir>
         [--model baseline|transformer|both] [--folds n] [--steps n] [--epochs n]
         [--mode standard|hf] [--config <file.json>] [--symbols A,B] [--barriers percent|atr]
         [--half-life days] [--stride n] [--seed n] [--no-backtest] [--quiet]

  --data       candle files (.csv/.csv.gz) or folders (an archive folder works too)
  --out        folder for scaler.json, features.json, the model folder(s), evaluation.json,
               evaluation.html and predictions.csv (created if missing)
  --model      which model(s) to evaluate and train; default baseline
  --folds      walk-forward test folds; default 3
  --steps      candles per sample (the Transformer's sequence length; the baseline reads the last); default 32
  --epochs     most training epochs; default 40 (baseline), 12 (transformer)
  --mode       strategy mode whose exit plan sets the label barriers (standard: 240 min, hf: 30 min)
  --barriers   percent (the strategy's own, default) or atr (target 2 ATR, stop 1 ATR, same time limit)
  --half-life  recency half-life of sample weights in days; default 14 (0 = unweighted)
  --stride     keep every n-th training sample; default 1 (baseline), 4 (transformer)
  --seed       training seed; default 1
  --no-backtest  skip the backtests with and without the filter`;

/** L2 penalties the baseline chooses from on the validation set. */
const L2_GRID = [1e-3, 1e-2, 1e-1] as const;

interface Out {
  log: (s: string) => void;
  err: (s: string) => void;
}

/** What the command produced (for tests). */
export interface TrainRun {
  readonly outDir: string;
  readonly report: EvaluationReport;
  readonly models: readonly string[];
  readonly unavailable: Record<string, string>;
}

interface TransformerModule {
  createTransformer(opts: { steps: number; featureCount: number; seed?: number }): SignalModel & {
    fit(batch: Dataset['batch'], labels: Dataset['labels'], opts: { epochs: number; batchSize: number; validation?: { batch: Dataset['batch']; labels: Dataset['labels'] }; patience?: number; onEpoch?: (r: { epoch: number; loss: number; valLogLoss?: number; seconds: number }) => void; clock?: () => number }): Promise<unknown>;
  };
}

/** Loads the Transformer module if the other engineer's file is present and working; else why not. */
async function loadTransformerModule(): Promise<TransformerModule | string> {
  try {
    const tfMod = (await import('../services/ml/tf.js')) as { initTf: () => Promise<void> };
    await tfMod.initTf();
    const mod = (await import('../services/ml/transformer.js')) as unknown as Partial<TransformerModule>;
    if (typeof mod.createTransformer !== 'function') return 'services/ml/transformer.ts exports no createTransformer';
    return mod as TransformerModule;
  } catch (e) {
    return `the Transformer could not be loaded: ${(e as Error).message}`;
  }
}

function parse(argv: readonly string[]) {
  try {
    return parseFlags(
      argv,
      {
        data: { type: 'string', multiple: true },
        out: { type: 'string' },
        model: { type: 'string', default: 'baseline' },
        folds: { type: 'string', default: '3' },
        steps: { type: 'string', default: '32' },
        epochs: { type: 'string' },
        mode: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        symbols: { type: 'string' },
        barriers: { type: 'string', default: 'percent' },
        'half-life': { type: 'string', default: '14' },
        stride: { type: 'string' },
        seed: { type: 'string', default: '1' },
        'no-backtest': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function intFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min || x > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return x;
}

/** Parses argv, evaluates, trains and writes the files. */
export async function trainCommand(argv: readonly string[], out: Out, clock: () => number = () => Date.now()): Promise<TrainRun> {
  const parsed = parse(argv);
  const v = parsed.values;
  if (v.help) {
    out.log(TRAIN_USAGE);
    throw new UsageError('');
  }
  const data = [...(v.data ?? []), ...parsed.positionals];
  if (data.length === 0) throw new UsageError('--data is required: one or more candle files or folders');
  if (!v.out) throw new UsageError('--out is required: the folder for the model and the report');
  const which = v.model;
  if (which !== 'baseline' && which !== 'transformer' && which !== 'both') throw new UsageError(`--model must be baseline, transformer or both, got "${which}"`);
  const folds = intFlag('folds', v.folds, 1, 20)!;
  const steps = intFlag('steps', v.steps, 1, 512)!;
  const seed = intFlag('seed', v.seed, 0, 2 ** 31 - 1)!;
  const epochs = intFlag('epochs', v.epochs, 1, 1000);
  const stride = intFlag('stride', v.stride, 1, 1000);
  const halfLifeDays = Number(v['half-life']);
  if (!(halfLifeDays >= 0)) throw new UsageError(`--half-life must be a number of days >= 0, got "${v['half-life']}"`);
  if (v.barriers !== 'percent' && v.barriers !== 'atr') throw new UsageError(`--barriers must be percent or atr, got "${v.barriers}"`);
  const config = loadConfig(v.config, { mode: v.mode, profile: v.profile });
  const only = (v.symbols ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const outDir = resolve(v.out);
  const log = v.quiet ? () => undefined : (s: string) => out.err(s);

  const fromConfig = barriersFromConfig(config);
  const barriers: BarrierSpec = v.barriers === 'atr' ? { mode: 'atr', target: 2, stop: 1, horizonMinutes: fromConfig.horizonMinutes } : fromConfig;

  const t0 = clock();
  const loaded = loadSeries(data, only.length ? only : config.symbols);
  const series: PreparedSeries[] = [];
  for (const s of loaded.series) {
    const t = clock();
    series.push(prepareSeries(s.symbol, s.candles, barriers, { levels: config.levels }));
    log(`features ${s.symbol}: ${s.candles.length.toLocaleString('en-US')} candles, ${FEATURE_NAMES.length} features, labelled in ${clock() - t} ms`);
  }

  // Models.
  const unavailable: Record<string, string> = {};
  const specs: ModelSpec[] = [];
  const trainBaseline = (train: Dataset, val: Dataset | null, l: (s: string) => void): LogisticBaseline => {
    const m = LogisticBaseline.create(steps, FEATURE_NAMES.length);
    const opts = { seed, epochs: epochs ?? 40, onEpoch: (e: number, tl: number, vl: number | null) => l(`    baseline epoch ${e}: train ${tl.toFixed(4)}${vl === null ? '' : `, validation ${vl.toFixed(4)}`}`) };
    // The L2 penalty is chosen on the validation set (the test span is never seen).
    const info = val && val.batch.count > 0 ? m.fitSelectingL2(train, val, L2_GRID, opts) : { ...m.fit(train, null, opts), l2: 1e-3 };
    l(`    baseline: L2 ${info.l2}, best epoch ${info.bestEpoch} of ${info.epochs}`);
    return m;
  };
  if (which !== 'transformer') {
    specs.push({ name: 'baseline', trainStride: stride ?? 1, train: (tr, va, ctx) => Promise.resolve(trainBaseline(tr, va, ctx.log)) });
  }
  if (which !== 'baseline') {
    const loadedMod = await loadTransformerModule();
    if (typeof loadedMod === 'string') {
      unavailable.transformer = loadedMod;
      log(`transformer unavailable: ${loadedMod}`);
    } else {
      const tm = loadedMod;
      specs.push({
        name: 'transformer',
        trainStride: stride ?? 4,
        train: async (tr, va, ctx) => {
          const m = tm.createTransformer({ steps, featureCount: FEATURE_NAMES.length, seed });
          await m.fit(tr.batch, tr.labels, {
            epochs: epochs ?? 12,
            batchSize: 128,
            validation: { batch: va.batch, labels: va.labels },
            patience: 3,
            clock,
            onEpoch: (r) => ctx.log(`    transformer epoch ${r.epoch}: loss ${r.loss.toFixed(4)}${r.valLogLoss === undefined ? '' : `, validation log loss ${r.valLogLoss.toFixed(4)}`} (${r.seconds.toFixed(1)} s)`),
          });
          return m;
        },
      });
    }
  }
  if (specs.length === 0) throw new UsageError(`no model to train: ${Object.values(unavailable).join('; ')}`);

  const report = await walkForwardEvaluate({
    series,
    models: specs,
    barriers,
    steps,
    folds,
    halfLifeDays,
    ...(v['no-backtest'] ? {} : { config }),
    log,
  });

  // Final models on all the data: the last 20% (after an embargo) is the early-stopping validation.
  const embargoMs = (barriers.horizonMinutes + 1) * MINUTE_MS;
  const trainParts: number[][] = [];
  const valParts: number[][] = [];
  for (const s of series) {
    const rows = sampleRows(s, steps, true);
    const start = s.features.times[rows[0]!]!;
    const end = s.features.times[rows[rows.length - 1]!]! + 1;
    const f = finalSplit(start, end, embargoMs);
    trainParts.push(rowsIn(s, rows, f.train));
    valParts.push(rowsIn(s, rows, f.validation));
  }
  const stacked = stackRows(series, trainParts);
  const scaler = FeatureScaler.fit(stacked.values, FEATURE_NAMES, stacked.rows);
  const finalSets = (k: number): { train: Dataset; val: Dataset } => ({
    train: buildDataset(series, trainParts.map((r) => r.filter((_, i) => i % k === 0)), { steps, scaler, ...(halfLifeDays > 0 ? { halfLifeDays } : {}) }),
    val: buildDataset(series, valParts.map((r) => r.filter((_, i) => i % k === 0)), { steps, scaler }),
  });
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const writeArtifact = (name: string, a: ModelArtifact): void => {
    for (const [file, bytes] of Object.entries(a.files)) {
      const p = join(outDir, name, file);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, bytes);
    }
    written.push(name);
  };
  for (const spec of specs) {
    const { train: finalTrain, val: finalVal } = finalSets(spec.trainStride ?? 1);
    log(`final ${spec.name}: training on ${finalTrain.batch.count} samples, validating on ${finalVal.batch.count}`);
    const model = await spec.train(finalTrain, finalVal, { fold: -1, log });
    writeArtifact(spec.name, await model.save());
    model.dispose();
  }

  writeFileSync(join(outDir, 'scaler.json'), JSON.stringify(scaler.toJSON()) + '\n');
  writeFileSync(join(outDir, 'features.json'), JSON.stringify({ count: FEATURE_NAMES.length, names: FEATURE_NAMES }, null, 1) + '\n');
  const { predictions, ...summary } = report;
  const meta = {
    data: loaded.files,
    symbols: series.map((s) => s.symbol),
    mode: config.mode,
    models: specs.map((s) => s.name),
    unavailable,
    seed,
    halfLifeDays,
    trainStride: Object.fromEntries(specs.map((sp) => [sp.name, sp.trainStride ?? 1])),
    command: `npm run train -- ${argv.join(' ')}`,
    elapsedMs: clock() - t0,
  };
  writeFileSync(join(outDir, 'evaluation.json'), JSON.stringify({ ...meta, ...summary, predictionsFile: 'predictions.csv', predictionCount: predictions.length }, jsonSafe, 2) + '\n');
  const csv = ['model,symbol,fold,time,p_up,uncertainty,up'];
  for (const q of predictions) csv.push(`${q.model},${q.symbol},${q.fold},${q.time},${q.pUp},${q.uncertainty},${Number.isNaN(q.up) ? '' : q.up}`);
  writeFileSync(join(outDir, 'predictions.csv'), csv.join('\n') + '\n');
  writeFileSync(
    join(outDir, 'evaluation.html'),
    evaluationHtml(report, {
      title: `Walk-forward evaluation: ${meta.symbols.join(', ')}`,
      lines: [`data: ${loaded.files.join(', ')}`, `models: ${meta.models.join(', ')}${Object.keys(unavailable).length ? ` (unavailable: ${Object.entries(unavailable).map(([k, r]) => `${k}: ${r}`).join('; ')})` : ''}`, `command: ${meta.command}`],
      generatedAt: clock(),
    }),
  );
  out.log(formatTrainSummary(report, outDir, written, unavailable));
  return { outDir, report, models: written, unavailable };
}

/** NaN and Infinity are not JSON: written as null. */
function jsonSafe(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

function formatTrainSummary(r: EvaluationReport, outDir: string, models: readonly string[], unavailable: Record<string, string>): string {
  const lines = ['', `Walk-forward (${r.folds.length} folds, out of sample):`];
  for (const [name, m] of Object.entries(r.pooled)) {
    lines.push(
      `  ${name.padEnd(12)} n ${m.samples}  log loss ${m.logLoss.toFixed(4)}  Brier ${m.brier.toFixed(4)}  AUC ${Number.isNaN(m.auc) ? 'n/a' : m.auc.toFixed(3)}  acc ${m.accuracy.toFixed(3)}  long>=0.70 ${m.precisionLong70.count} (prec ${Number.isNaN(m.precisionLong70.precision) ? 'n/a' : m.precisionLong70.precision.toFixed(3)})`,
    );
  }
  for (const [name, ok] of Object.entries(r.beatsChance)) lines.push(`  ${name}: ${ok ? 'beats' : 'does not beat'} the base-rate reference`);
  if (r.backtest) {
    for (const [sym, bt] of Object.entries(r.backtest)) {
      lines.push(`  backtest ${sym}: no filter ${bt.withoutFilter.trades} trades net ${bt.withoutFilter.netPnl.toFixed(2)}; ${Object.entries(bt.withFilter).map(([n, f]) => `${n} filter ${f.trades} trades net ${f.netPnl.toFixed(2)}`).join('; ')}`);
    }
  }
  for (const [k, why] of Object.entries(unavailable)) lines.push(`  ${k}: unavailable (${why})`);
  lines.push(`  written to ${outDir}/{scaler.json, features.json, ${models.map((m) => `${m}/`).join(', ')}, evaluation.json, evaluation.html, predictions.csv}`);
  return lines.join('\n');
}
