/**
 * The feature scaler: standardises each feature with the mean and standard deviation of the
 * TRAINING rows only, then clips to ±clip standard deviations so that one extreme candle cannot
 * dominate a model's input. Serialisable to JSON (numbers round-trip exactly through JSON).
 */

/** The scaler as stored next to a model (scaler.json). */
export interface ScalerJson {
  readonly kind: 'standard-clipped';
  readonly version: 1;
  readonly featureNames: readonly string[];
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly clip: number;
}

/** Standardisation with clipping, fitted on training data only. */
export class FeatureScaler {
  private constructor(
    readonly featureNames: readonly string[],
    readonly mean: Float64Array,
    readonly std: Float64Array,
    readonly clip: number,
  ) {}

  /**
   * Fits on the rows of `values` (row-major, `featureNames.length` columns) listed in `rows`.
   * A feature with (near) zero spread gets std 1, so it scales to a constant instead of Infinity.
   */
  static fit(values: Float64Array, featureNames: readonly string[], rows: ArrayLike<number>, clip = 5): FeatureScaler {
    const f = featureNames.length;
    if (rows.length === 0) throw new RangeError('FeatureScaler.fit: no training rows');
    const mean = new Float64Array(f);
    const m2 = new Float64Array(f);
    // Welford's update: numerically stable for features with a large mean.
    for (let n = 0; n < rows.length; n++) {
      const base = rows[n]! * f;
      for (let j = 0; j < f; j++) {
        const x = values[base + j]!;
        const d = x - mean[j]!;
        mean[j] = mean[j]! + d / (n + 1);
        m2[j] = m2[j]! + d * (x - mean[j]!);
      }
    }
    const std = new Float64Array(f);
    for (let j = 0; j < f; j++) {
      const s = Math.sqrt(m2[j]! / rows.length);
      std[j] = s > 1e-12 && Number.isFinite(s) ? s : 1;
    }
    return new FeatureScaler([...featureNames], mean, std, clip);
  }

  static fromJSON(json: ScalerJson): FeatureScaler {
    if (json.kind !== 'standard-clipped' || json.version !== 1) throw new RangeError(`unknown scaler ${json.kind} v${json.version}`);
    const f = json.featureNames.length;
    if (json.mean.length !== f || json.std.length !== f) throw new RangeError(`scaler.json: mean/std lengths ${json.mean.length}/${json.std.length}, expected ${f}`);
    return new FeatureScaler([...json.featureNames], Float64Array.from(json.mean), Float64Array.from(json.std), json.clip);
  }

  get featureCount(): number {
    return this.featureNames.length;
  }

  /** Scales one raw vector into `out` at `offset` (a Float32Array of a SequenceBatch). */
  transformInto(raw: ArrayLike<number>, rawOffset: number, out: Float32Array, offset: number): void {
    const c = this.clip;
    for (let j = 0; j < this.mean.length; j++) {
      const z = (raw[rawOffset + j]! - this.mean[j]!) / this.std[j]!;
      out[offset + j] = z > c ? c : z < -c ? -c : z;
    }
  }

  toJSON(): ScalerJson {
    return { kind: 'standard-clipped', version: 1, featureNames: [...this.featureNames], mean: [...this.mean], std: [...this.std], clip: this.clip };
  }
}
