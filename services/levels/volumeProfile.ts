/**
 * Volume profile: how much volume traded at each price over the lookback window.
 *
 * The window's [lowest low, highest high] is cut into `bins` equal price buckets. A candle's volume
 * is spread EVENLY over the buckets its [low, high] range covers (a candle with low in bucket 2 and
 * high in bucket 5 adds volume/4 to each of buckets 2..5). We do not assign it all to the typical
 * price (h+l+c)/3: a 1m candle's volume trades across its whole range, and a wide candle would
 * otherwise pile its volume into one bucket it may have crossed only briefly.
 *
 * A *high-volume node* is a local maximum of the profile: a bucket (or a run of equal buckets)
 * with strictly less volume on both sides. Price tends to stall where much volume changed hands,
 * so the strongest nodes become levels at their bucket centre.
 */

/** The profile of one window. `volumes[i]` covers prices [low + i*width, low + (i+1)*width). */
export interface VolumeProfile {
  readonly low: number;
  readonly high: number;
  readonly width: number;
  readonly volumes: Float64Array;
}

/** A high-volume node: its price (bucket centre) and the volume of its bucket. */
export interface VolumeNode {
  readonly price: number;
  readonly volume: number;
}

/**
 * Builds the profile of the first `n` candles of the arrays. Returns null when there is nothing
 * to profile (no candles, or a window with zero price range). `out`, when given, is reused for
 * the volumes (it must have length `bins`) so the hot path does not allocate.
 */
export function buildVolumeProfile(
  high: ArrayLike<number>,
  low: ArrayLike<number>,
  volume: ArrayLike<number>,
  n: number,
  bins: number,
  out?: Float64Array,
): VolumeProfile | null {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`buildVolumeProfile: bins must be a positive integer, got ${bins}`);
  if (out !== undefined && out.length !== bins) throw new RangeError(`buildVolumeProfile: out has length ${out.length}, expected ${bins}`);
  if (n <= 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const l = low[i] as number;
    const h = high[i] as number;
    if (l < lo) lo = l;
    if (h > hi) hi = h;
  }
  if (!(hi > lo)) return null;
  const width = (hi - lo) / bins;
  const volumes = out ?? new Float64Array(bins);
  volumes.fill(0);
  const last = bins - 1;
  const perPrice = bins / (hi - lo); // buckets per unit of price: a multiply instead of a divide
  for (let i = 0; i < n; i++) {
    const v = volume[i] as number;
    if (v === 0) continue;
    // The window's own high lands exactly on the upper edge; it belongs to the last bucket.
    const b0 = Math.min(last, Math.floor(((low[i] as number) - lo) * perPrice));
    const b1 = Math.min(last, Math.floor(((high[i] as number) - lo) * perPrice));
    const share = v / (b1 - b0 + 1);
    for (let b = b0; b <= b1; b++) volumes[b] = (volumes[b] as number) + share;
  }
  return { low: lo, high: hi, width, volumes };
}

/**
 * The `count` highest-volume local maxima of a profile, highest volume first (ties: lower price
 * first). A run of equal buckets is one node, placed at the run's centre. A profile that is flat
 * from end to end has no node: nothing stands out.
 */
export function volumeNodes(profile: VolumeProfile, count: number): VolumeNode[] {
  const v = profile.volumes;
  const bins = v.length;
  const nodes: VolumeNode[] = [];
  let i = 0;
  while (i < bins) {
    const vi = v[i] as number;
    let j = i;
    while (j + 1 < bins && v[j + 1] === vi) j++;
    const leftLower = i === 0 || (v[i - 1] as number) < vi;
    const rightLower = j === bins - 1 || (v[j + 1] as number) < vi;
    if (vi > 0 && leftLower && rightLower && !(i === 0 && j === bins - 1)) {
      const node = { price: profile.low + ((i + j + 1) / 2) * profile.width, volume: vi };
      // Insertion into a list of at most `count` items, kept sorted by volume (stable for ties).
      let k = nodes.length;
      while (k > 0 && (nodes[k - 1] as VolumeNode).volume < vi) k--;
      if (k < count) {
        nodes.splice(k, 0, node);
        if (nodes.length > count) nodes.pop();
      }
    }
    i = j + 1;
  }
  return nodes;
}
