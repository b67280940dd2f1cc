import { describe, it, expect } from 'vitest';
import { downsampleMinMax, equityChartSvg, niceStep, timeTicks, valueAxis } from '../../services/report/index.js';
import type { EquityPoint } from '../../services/analytics/index.js';
import { xmlProblem } from './xmlCheck.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

function polylinePoints(svg: string, cls: string): string[] {
  const m = new RegExp(`<polyline class="${cls}" points="([^"]*)"`).exec(svg);
  if (!m) throw new Error(`no polyline.${cls}`);
  return m[1]!.trim().split(/\s+/);
}

describe('downsampleMinMax', () => {
  it('keeps first, last and the min and max of each bucket', () => {
    // 10 points, max 6 -> floor((6-2)/2) = 2 buckets over the 8 inner points (indexes 1-4 and 5-8).
    // y: 5 9 1 7 3 | 8 2 6 4 | 0
    // bucket 1 (1..4 = 9 1 7 3): min index 2 (1), max index 1 (9) -> in time order 1, 2
    // bucket 2 (5..8 = 8 2 6 4): min index 6 (2), max index 5 (8) -> 5, 6
    const ys = [5, 9, 1, 7, 3, 8, 2, 6, 4, 0];
    const pts = ys.map((y, x) => ({ x, y }));
    expect(downsampleMinMax(pts, 6).map((p) => p.x)).toEqual([0, 1, 2, 5, 6, 9]);
  });

  it('returns a short series unchanged', () => {
    const pts = [{ x: 0, y: 1 }, { x: 1, y: 2 }];
    expect(downsampleMinMax(pts, 2000)).toBe(pts);
  });
});

describe('scales', () => {
  it('picks the nearest of 1, 2, 2.5, 5, 10 x 10^k', () => {
    expect(niceStep(0.7)).toBe(0.5); // 7 x 0.1 -> nearest 5 x 0.1
    expect(niceStep(1.4)).toBe(1);
    expect(niceStep(2.2)).toBe(2);
    expect(niceStep(3)).toBe(2.5);
    expect(niceStep(8)).toBe(10);
    expect(niceStep(1033)).toBe(1000);
  });
  it('snaps the value domain outwards to the step', () => {
    // range 9,870..10,130 over 5 ticks: raw step 260/5 = 52 -> 50; domain floor(9870/50)x50 = 9,850
    // to ceil(10130/50)x50 = 10,150
    const a = valueAxis(9870, 10130, 5);
    expect(a.step).toBe(50);
    expect(a.ticks).toEqual([9850, 9900, 9950, 10000, 10050, 10100, 10150]);
    expect(a.decimals).toBe(0);
    // 0.12..0.37 over 5: 0.05 -> ticks 0.1 .. 0.4 with 2 decimals
    const b = valueAxis(0.12, 0.37, 5);
    expect(b.ticks).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]);
    expect(b.decimals).toBe(2);
  });
  it('puts day ticks on UTC midnights', () => {
    // Jan 1 06:00 -> Jan 4 06:00 (3 days), at most 4 ticks: 12 h would give 6, 1 day gives 3.
    const ticks = timeTicks(T0 + 6 * 3_600_000, T0 + 78 * 3_600_000, 4);
    expect(ticks.map((t) => t.label)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04']);
  });
});

describe('equityChartSvg', () => {
  // A rising series of 10,000 one-minute samples with one deep dip (to half) at index 5,000.
  const points: EquityPoint[] = Array.from({ length: 10_000 }, (_, i) => ({
    time: T0 + i * MIN,
    equity: i === 5000 ? 5000 : 10_000 + i,
  }));

  it('is well-formed SVG', () => {
    const svg = equityChartSvg(points, { title: 'BTC <&> "test"', baseline: 10_000 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain('BTC &lt;&amp;&gt; &quot;test&quot;');
    expect(svg).not.toMatch(/<script|href="http|@import/);
  });

  it('downsamples to maxPoints and keeps the dip', () => {
    const svg = equityChartSvg(points, { maxPoints: 2000 });
    // 999 buckets of about 10 inner points; the series rises inside every bucket (min first, max
    // last, 2 points), the dip's bucket keeps the dip and its max (2 points): 2 + 999 x 2 = 2000.
    expect(polylinePoints(svg, 'equity')).toHaveLength(2000);
    // Drawdown is 0 everywhere but the dip (the next sample, 15,001, is a new peak): a flat bucket
    // keeps one point, the dip's bucket two (0 and the dip): 2 + 998 x 1 + 2 = 1002.
    expect(polylinePoints(svg, 'drawdown')).toHaveLength(1002);
    // Peak before the dip is 10,000 + 4,999 = 14,999; 5,000 / 14,999 - 1 = -66.66 % -> "max -66.66%".
    expect(svg).toContain('max -66.66%');
  });

  it('draws a short series point for point', () => {
    const svg = equityChartSvg(points.slice(0, 50));
    expect(polylinePoints(svg, 'equity')).toHaveLength(50);
    expect(xmlProblem(svg)).toBeNull();
  });

  it('renders a placeholder for no data', () => {
    const svg = equityChartSvg([]);
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain('No equity data');
  });

  it('xmlProblem catches unbalanced and unescaped markup', () => {
    expect(xmlProblem('<svg><g></svg>')).not.toBeNull();
    expect(xmlProblem('<svg><text>a < b</text></svg>')).not.toBeNull();
    expect(xmlProblem('<svg><text>a & b</text></svg>')).not.toBeNull();
  });
});
