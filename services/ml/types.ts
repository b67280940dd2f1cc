/**
 * The contract between the ML pieces: the feature pipeline and dataset builder produce
 * `SequenceBatch`es and `LabelSet`s; every model (the Transformer, the baseline) trains on them and
 * answers with `Prediction`s; the strategy filter and the promotion rule only see `SignalModel`.
 *
 * Label convention (triple barrier, see labels.ts): `up = 1` when, entering long at the sample's
 * close, the target barrier is reached before the stop barrier and before the time limit; `up = 0`
 * otherwise. A short trade's confidence is therefore `1 - pUp`.
 */

/** Samples of `steps` consecutive feature vectors (oldest first), scaled, row-major: x[(i*steps + t)*featureCount + f]. */
export interface SequenceBatch {
  readonly count: number;
  readonly steps: number;
  readonly featureCount: number;
  readonly x: Float32Array;
  /** Close time (epoch ms) of each sample's last candle: the decision time. */
  readonly times: Float64Array;
}

/** Training targets aligned with a SequenceBatch. */
export interface LabelSet {
  /** 1 when the long barrier (target) is hit first, else 0. */
  readonly up: Float32Array;
  /** Distance to the target and stop barriers in units of the sample's ATR (regression heads). */
  readonly targetDistance: Float32Array;
  readonly stopDistance: Float32Array;
  /** Per-sample weight (recent samples weigh more); 1 when unweighted. */
  readonly weight: Float32Array;
}

export interface Prediction {
  /** Probability that the long barrier is hit first (mean over Monte Carlo samples). */
  readonly pUp: number;
  /** 0..1: spread of the Monte Carlo samples (0 for deterministic models). */
  readonly uncertainty: number;
  readonly targetDistance: number;
  readonly stopDistance: number;
}

/** Effective confidence in a direction: confidence × (1 − uncertainty). */
export function effectiveConfidence(p: Prediction, direction: 'long' | 'short'): number {
  const confidence = direction === 'long' ? p.pUp : 1 - p.pUp;
  return confidence * (1 - p.uncertainty);
}

/** A trained model, as the hot path, the evaluation and the promotion rule see it. */
export interface SignalModel {
  readonly kind: string;
  readonly steps: number;
  readonly featureCount: number;
  predict(batch: SequenceBatch): Promise<Prediction[]>;
  /** Serialised form (weights and metadata) for the model store; load is the model kind's own function. */
  save(): Promise<ModelArtifact>;
  dispose(): void;
}

/** A model as files, for S3 or a local folder. Names are relative paths ("model.json", "weights.bin", "meta.json"). */
export interface ModelArtifact {
  readonly kind: string;
  readonly files: Readonly<Record<string, Uint8Array>>;
}
