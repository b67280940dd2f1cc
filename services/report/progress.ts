/**
 * A progress reporter for long runs (backtests over millions of candles). Pure: the clock and the
 * output are injected, so the CLI passes `Date.now` and a writer to stderr, and tests a fake clock.
 */

import { groupThousands } from './format.js';

/** Options of `createProgress`. */
export interface ProgressOptions {
  /** Units expected in all; 0 or less when unknown (no percent and no ETA are shown). */
  readonly total: number;
  /** First word of each line, e.g. 'backtest'. */
  readonly label: string;
  /** Receives one line at a time, without a trailing newline. */
  readonly write: (line: string) => void;
  /** Current time in ms (Date.now in the CLI). */
  readonly now: () => number;
  /** Least time between two periodic lines. Default 1000. */
  readonly intervalMs?: number;
  /** Unit name after the counts. Default 'candles'. */
  readonly unit?: string;
  /** Rate unit. Default 'c/s'. */
  readonly rateUnit?: string;
}

/** The handle returned by `createProgress`. */
export interface Progress {
  /**
   * Reports that `done` units are finished. Writes a line when at least `intervalMs` has passed
   * since the last line (or the start). Cheap enough to call per candle: one clock read and a compare.
   */
  update(done: number): void;
  /** Writes the final line (count, average rate, elapsed time); `finalCount` defaults to the last `update`. Idempotent. */
  done(finalCount?: number): void;
}

/** "5s", "3m05s", "1h02m" for a duration in seconds (rounded up, so an unfinished run never shows 0s). */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const hrs = Math.floor(m / 60);
  return `${hrs}h${String(m % 60).padStart(2, '0')}m`;
}

/** Formats a duration in ms as "0.8s", "12.3s" or "2m05s". */
function formatElapsed(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return formatEta(s);
}

/**
 * Creates a reporter. Line format (fields separated by two spaces):
 * `backtest  42.0%  1,234,567/2,940,000 candles  310,000 c/s  eta 5s`; the rate is the average
 * since the start; the final line reads `backtest  100.0%  2,940,000/2,940,000 candles  310,000 c/s  done in 9.5s`.
 */
export function createProgress(opts: ProgressOptions): Progress {
  const interval = opts.intervalMs ?? 1000;
  const unit = opts.unit ?? 'candles';
  const rateUnit = opts.rateUnit ?? 'c/s';
  const start = opts.now();
  let last = start;
  let count = 0;
  let finished = false;

  const line = (n: number, t: number, final: boolean): string => {
    const elapsed = t - start;
    const rate = elapsed > 0 ? n / (elapsed / 1000) : 0;
    const parts = [opts.label];
    if (opts.total > 0) {
      parts.push(`${((n / opts.total) * 100).toFixed(1)}%`);
      parts.push(`${groupThousands(String(n))}/${groupThousands(String(opts.total))} ${unit}`);
    } else parts.push(`${groupThousands(String(n))} ${unit}`);
    parts.push(`${groupThousands(String(Math.round(rate)))} ${rateUnit}`);
    if (final) parts.push(`done in ${formatElapsed(elapsed)}`);
    else if (opts.total > 0) parts.push(`eta ${rate > 0 ? formatEta((opts.total - n) / rate) : '?'}`);
    return parts.join('  ');
  };

  return {
    update(done: number): void {
      count = done;
      if (finished) return;
      const t = opts.now();
      if (t - last >= interval) {
        last = t;
        opts.write(line(done, t, false));
      }
    },
    done(finalCount?: number): void {
      if (finished) return;
      finished = true;
      const n = finalCount ?? count;
      opts.write(line(n, opts.now(), true));
    },
  };
}
