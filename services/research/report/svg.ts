/**
 * Small SVG figures for the research reports: lines, a histogram, a scatter and a heatmap. Pure
 * functions returning markup; every label is escaped. Series are downsampled for drawing only.
 */
import { escapeXml as esc, fmtNum } from '../../report/format.js';
import { valueAxis } from '../../report/scales.js';

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
  readonly dashed?: boolean;
}

const W = 760;
const H = 260;
const PAD = { l: 62, r: 16, t: 26, b: 34 };

function frame(title: string, body: string, height = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(title)}"><rect width="${W}" height="${height}" fill="#fff"/><text x="${PAD.l}" y="16" font-size="13" font-weight="600" fill="#1e293b">${esc(title)}</text>${body}</svg>`;
}

function yAxis(lo: number, hi: number, height: number, fmt: (x: number) => string): { y: (v: number) => number; marks: string } {
  const ax = valueAxis(lo, hi, 5);
  const span = ax.max - ax.min || 1;
  const y = (v: number): number => PAD.t + (1 - (v - ax.min) / span) * (height - PAD.t - PAD.b);
  const marks = ax.ticks
    .map((t) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e2e8f0"/><text x="${PAD.l - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#64748b">${esc(fmt(t))}</text>`)
    .join('');
  return { y, marks };
}

/** Evenly thinned copy of at most `max` values (the first and last kept). */
function thin(values: readonly number[], max: number): { i: number; v: number }[] {
  const n = values.length;
  if (n <= max) return values.map((v, i) => ({ i, v }));
  const out: { i: number; v: number }[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (n - 1)) / (max - 1));
    out.push({ i, v: values[i] as number });
  }
  return out;
}

/** Lines over a shared x range (each series spread over the full width), with a legend. */
export function linesSvg(title: string, series: readonly Series[], xLabel: string, fmt: (x: number) => string = (x) => fmtNum(x, 0)): string {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  if (all.length === 0) return frame(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#64748b">no data</text>`);
  const { y, marks } = yAxis(Math.min(...all), Math.max(...all), H, fmt);
  const paths = series
    .map((s) => {
      const pts = thin(s.values, 600);
      const n = Math.max(1, s.values.length - 1);
      const d = pts.map((p, k) => `${k ? 'L' : 'M'}${(PAD.l + (p.i / n) * (W - PAD.l - PAD.r)).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`;
    })
    .join('');
  let lx = PAD.l;
  const legend = series
    .map((s) => {
      const out = `<rect x="${lx}" y="${H - 14}" width="12" height="3" fill="${s.color}"/><text x="${lx + 16}" y="${H - 9}" font-size="11" fill="#334155">${esc(s.label)}</text>`;
      lx += 16 + s.label.length * 6 + 24;
      return out;
    })
    .join('');
  return frame(title, `${marks}${paths}${legend}<text x="${W - PAD.r}" y="16" font-size="10" text-anchor="end" fill="#64748b">${esc(xLabel)}</text>`, H);
}

/** A histogram of values in `bins` equal bins, with a vertical marker at `marker`. */
export function histogramSvg(title: string, values: readonly number[], bins: number, marker: number | null, markerLabel: string): string {
  if (values.length === 0) return frame(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#64748b">no data</text>`);
  let lo = Math.min(...values, marker ?? Infinity);
  let hi = Math.max(...values, marker ?? -Infinity);
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
  const { y, marks } = yAxis(0, Math.max(...counts), H, (x) => fmtNum(x, 0));
  const bw = (W - PAD.l - PAD.r) / bins;
  const x = (v: number): number => PAD.l + ((v - lo) / (hi - lo)) * (W - PAD.l - PAD.r);
  const bars = counts.map((c, i) => `<rect x="${(PAD.l + i * bw + 1).toFixed(1)}" y="${y(c).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(y(0) - y(c)).toFixed(1)}" fill="#93c5fd"/>`).join('');
  const m =
    marker === null
      ? ''
      : `<line x1="${x(marker).toFixed(1)}" x2="${x(marker).toFixed(1)}" y1="${PAD.t}" y2="${H - PAD.b}" stroke="#b91c1c" stroke-width="1.5"/><text x="${(x(marker) + 4).toFixed(1)}" y="${PAD.t + 12}" font-size="11" fill="#b91c1c">${esc(markerLabel)}</text>`;
  const ends = `<text x="${PAD.l}" y="${H - PAD.b + 14}" font-size="11" fill="#64748b">${esc(fmtNum(lo, 2))}</text><text x="${W - PAD.r}" y="${H - PAD.b + 14}" font-size="11" text-anchor="end" fill="#64748b">${esc(fmtNum(hi, 2))}</text>`;
  return frame(title, `${marks}${bars}${m}${ends}`);
}

/** A scatter of (x, y) pairs with a y = 0 line. */
export function scatterSvg(title: string, pairs: readonly (readonly [number, number])[], xLabel: string, yLabel: string): string {
  if (pairs.length === 0) return frame(title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#64748b">no data</text>`);
  const xs = pairs.map((p) => p[0]);
  const ys = pairs.map((p) => p[1]);
  const { y, marks } = yAxis(Math.min(0, ...ys), Math.max(0, ...ys), H, (v) => fmtNum(v, 3));
  const lo = Math.min(...xs);
  const hi = Math.max(...xs) === lo ? lo + 1 : Math.max(...xs);
  const x = (v: number): number => PAD.l + ((v - lo) / (hi - lo)) * (W - PAD.l - PAD.r);
  const dots = thin(
    pairs.map((_, i) => i),
    1500,
  )
    .map(({ v: i }) => `<circle cx="${x(xs[i] as number).toFixed(1)}" cy="${y(ys[i] as number).toFixed(1)}" r="2.2" fill="#2563eb" fill-opacity="0.45"/>`)
    .join('');
  const zero = `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#94a3b8" stroke-dasharray="4 3"/>`;
  return frame(
    title,
    `${marks}${zero}${dots}<text x="${W - PAD.r}" y="${H - 9}" font-size="11" text-anchor="end" fill="#64748b">${esc(`x: ${xLabel}, ${fmtNum(lo, 3)} .. ${fmtNum(hi, 3)}`)}</text><text x="${PAD.l}" y="${H - 9}" font-size="11" fill="#64748b">${esc(`y: ${yLabel}`)}</text>`,
  );
}

/** A heatmap of cells (rows = y labels, columns = x labels) with values in [0, 1]; null cells grey. */
export function heatmapSvg(title: string, xName: string, yName: string, xLabels: readonly string[], yLabels: readonly string[], cells: readonly (readonly (number | null)[])[]): string {
  const cw = Math.min(70, (W - 180) / Math.max(1, xLabels.length));
  const ch = 22;
  const height = PAD.t + 16 + ch * yLabels.length + 44;
  const left = 150;
  const color = (v: number): string => {
    // Red (0, worst) through white to green (1, best).
    const t = Math.max(0, Math.min(1, v));
    const r = t < 0.5 ? 220 : Math.round(220 - (t - 0.5) * 2 * 180);
    const g = t < 0.5 ? Math.round(80 + t * 2 * 140) : 200;
    const b = t < 0.5 ? Math.round(80 + t * 2 * 140) : Math.round(220 - (t - 0.5) * 2 * 140);
    return `rgb(${r},${g},${b})`;
  };
  let body = '';
  yLabels.forEach((yl, r) => {
    const yy = PAD.t + 10 + r * ch;
    body += `<text x="${left - 6}" y="${yy + 15}" font-size="11" text-anchor="end" fill="#334155">${esc(yl)}</text>`;
    xLabels.forEach((_, c) => {
      const v = cells[r]?.[c] ?? null;
      body += `<rect x="${(left + c * cw).toFixed(1)}" y="${yy}" width="${(cw - 1).toFixed(1)}" height="${ch - 1}" fill="${v === null ? '#f1f5f9' : color(v)}"/>`;
      if (v !== null) body += `<text x="${(left + c * cw + cw / 2).toFixed(1)}" y="${yy + 15}" font-size="10" text-anchor="middle" fill="#0f172a">${fmtNum(v, 2)}</text>`;
    });
  });
  const by = PAD.t + 10 + yLabels.length * ch;
  xLabels.forEach((xl, c) => {
    body += `<text x="${(left + c * cw + cw / 2).toFixed(1)}" y="${by + 14}" font-size="10" text-anchor="middle" fill="#334155">${esc(xl)}</text>`;
  });
  body += `<text x="${left}" y="${by + 32}" font-size="11" fill="#64748b">${esc(`x: ${xName}   y: ${yName}   cell: mean in-fold percentile of the objective (1 = best)`)}</text>`;
  return frame(title, body, height);
}
