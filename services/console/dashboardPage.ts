/**
 * The dashboard page: one HTML document and one script (no inline script, so a strict content
 * security policy holds), drawing with lightweight-charts (TradingView's maintained library,
 * served from node_modules beside the page: nothing is fetched from elsewhere). The same page
 * runs locally (server-sent events from the status server, pause and resume buttons) and on AWS
 * (polling the dashboard Lambda with the signed link's token, read-only).
 */

/** Where the page finds its script and the chart library. */
export const APP_PATH = '/app.js';
export const CHARTS_PATH = '/vendor/lightweight-charts.js';
/** The file of lightweight-charts served at CHARTS_PATH, relative to its package (its exports map does not list it). */
export const CHARTS_FILE = 'dist/lightweight-charts.standalone.production.js';

export interface PageOptions {
  /** local: SSE and buttons; aws: polling with `token`. */
  readonly mode: 'local' | 'aws';
  /** The signed link's token (aws), passed to every data request. */
  readonly token?: string;
  /** Path prefix of the data endpoints ('' locally). */
  readonly base?: string;
  /** Polling interval (aws; default 10 s). */
  readonly pollMs?: number;
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The HTML page. */
export function dashboardHtml(o: PageOptions): string {
  const q = o.token ? `?t=${encodeURIComponent(o.token)}` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>mexc-sr-scalper</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#0f1419;color:#d8dee4}
header{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center;padding:12px 16px;background:#161b22;border-bottom:1px solid #30363d}
h1{font-size:16px;margin:0}h2{font-size:14px;margin:16px 0 8px;color:#8b949e;text-transform:uppercase;letter-spacing:.05em}
main{padding:0 16px 24px;display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 24px}
section{min-width:0}.kpi b{font-size:18px}.badge{padding:2px 8px;border-radius:10px;font-weight:600}
.ok{background:#1f6f3f}.warn{background:#8a6d1f}.bad{background:#8b2626}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}td,th{padding:3px 6px;border-bottom:1px solid #21262d;text-align:right}
td:first-child,th:first-child{text-align:left}.pos{color:#3fb950}.neg{color:#f85149}
.chart{height:260px}.small{height:140px}button{font:inherit;padding:4px 12px;border-radius:6px;border:1px solid #30363d;background:#21262d;color:inherit;cursor:pointer}
.bar{background:#21262d;height:6px;border-radius:3px}.bar i{display:block;height:6px;border-radius:3px;background:#2f81f7}
#problem{color:#f85149}
</style></head>
<body data-mode="${o.mode}" data-query="${attr(q)}" data-base="${attr(o.base ?? '')}" data-poll="${o.pollMs ?? 10_000}">
<header><h1>mexc-sr-scalper</h1>
<span class="kpi">equity <b id="equity-value">…</b></span>
<span class="kpi">drawdown <b id="drawdown-value">…</b></span>
<span class="kpi">today <b id="today-value">…</b></span>
<span class="kpi">week <b id="week-value">…</b></span>
<span>kill switch <span id="kill-switch" class="badge">…</span></span>
<span>health <span id="health" class="badge">…</span></span>
<span id="controls" hidden><button id="pause">Pause</button> <button id="resume">Resume</button></span>
<span id="updated"></span><span id="problem"></span></header>
<main>
<section><h2>Equity and drawdown</h2><div id="equity-chart" class="chart small"></div><div id="drawdown-chart" class="chart small"></div></section>
<section><h2>Open positions</h2><table id="positions"><thead><tr><th>symbol</th><th>qty</th><th>entry</th><th>price</th><th>uPnL</th><th>stop</th><th>targets</th></tr></thead><tbody></tbody></table>
<h2>Recent trades</h2><table id="trades"><thead><tr><th>exit (UTC)</th><th>symbol</th><th>why</th><th>net</th><th>return</th></tr></thead><tbody></tbody></table></section>
<section id="charts"><h2>Charts (levels, entries, exits, stops)</h2></section>
<section><h2>Risk limits</h2><table id="risk"><tbody></tbody></table>
<h2>Feed and heartbeat</h2><table id="feed"><tbody></tbody></table>
<h2>Reports and reviews</h2><table id="reports"><thead><tr><th>what</th><th>period</th><th>generated (UTC)</th><th>headline</th><th>page</th></tr></thead><tbody></tbody></table><div id="reports-empty"></div></section>
</main>
<script src="${o.base ?? ''}${CHARTS_PATH}${attr(q)}"></script><script src="${o.base ?? ''}${APP_PATH}${attr(q)}"></script>
</body></html>
`;
}

/** The page's script (plain browser JavaScript, served at APP_PATH). */
export const DASHBOARD_APP_JS = String.raw`(() => {
'use strict';
const LW = window.LightweightCharts;
const body = document.body;
const mode = body.dataset.mode, query = body.dataset.query || '', base = body.dataset.base || '';
const $ = (id) => document.getElementById(id);
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
const sign = (s) => (s === null || s === undefined) ? 'n/a' : (String(s).startsWith('-') ? String(s) : '+' + s);
const cls = (s) => (s && String(s).startsWith('-')) ? 'neg' : 'pos';
const theme = { layout: { background: { color: '#0f1419' }, textColor: '#d8dee4' }, grid: { vertLines: { color: '#1b2129' }, horzLines: { color: '#1b2129' } }, timeScale: { timeVisible: true, secondsVisible: false }, autoSize: true };
const charts = new Map();
let equitySeries, drawdownSeries;

function row(tbody, cells, attrs) {
  const tr = el('tr');
  for (const [k, v] of Object.entries(attrs || {})) tr.setAttribute(k, v);
  for (const c of cells) { const td = el('td', c.t); if (c.c) td.className = c.c; tr.appendChild(td); }
  tbody.appendChild(tr);
}

function renderHeader(d) {
  const s = d.status, q = s.quoteAsset || 'USDT';
  $('equity-value').textContent = (s.equityDisplay || s.equity) + ' ' + q;
  $('drawdown-value').textContent = d.drawdown ? d.drawdown.drawdownPct.toFixed(2) + '% (max ' + d.drawdown.maxDrawdownPct.toFixed(2) + '%)' : 'n/a';
  const st = (p) => p ? sign(p.netPnl) + ' ' + q + ' (' + p.trades + ' trades)' : 'no trades';
  $('today-value').textContent = st(d.stats.today);
  $('week-value').textContent = st(d.stats.week);
  const ks = $('kill-switch');
  ks.textContent = s.killSwitch;
  ks.className = 'badge ' + (s.killSwitch === 'RUNNING' ? 'ok' : s.killSwitch === 'PAUSED' ? 'warn' : 'bad');
  const h = $('health');
  h.textContent = s.health.ok ? 'ok' : (s.health.trading + (s.health.live ? '' : ', feed down'));
  h.title = (s.health.reasons || []).join('\n');
  h.className = 'badge ' + (s.health.ok ? 'ok' : 'bad');
  $('controls').hidden = !d.controls;
  $('updated').textContent = 'updated ' + new Date(d.generatedAt).toISOString().slice(11, 19) + ' UTC';
}

function renderTables(d) {
  const s = d.status;
  const pos = $('positions').tBodies[0];
  pos.replaceChildren();
  for (const p of s.positions) {
    row(pos, [
      { t: p.symbol }, { t: (p.quantityDisplay || p.quantity) + ' ' + (p.base || '') }, { t: p.entryDisplay || String(p.entryPrice) }, { t: p.priceDisplay || 'n/a' },
      { t: sign(p.unrealisedPnlDisplay), c: cls(p.unrealisedPnlDisplay) }, { t: p.stopDisplay || String(p.stop) }, { t: (p.targets || []).map((x) => x.priceDisplay).join(' / ') },
    ], { 'data-symbol': p.symbol });
  }
  if (!s.positions.length) row(pos, [{ t: 'no open position' }]);
  const tr = $('trades').tBodies[0];
  tr.replaceChildren();
  for (const t of s.recentTrades || []) row(tr, [{ t: t.exitTimeIso.slice(5, 16).replace('T', ' ') }, { t: t.symbol }, { t: t.exitReason }, { t: sign(t.netPnlDisplay), c: cls(t.netPnlDisplay) }, { t: t.returnPct.toFixed(2) + '%' }], { 'data-trade': t.id });
  if (!(s.recentTrades || []).length) row(tr, [{ t: 'no closed trade this session' }]);
  const r = s.risk, rk = $('risk').tBodies[0];
  rk.replaceChildren();
  const lim = (name, used, limit, text) => {
    const tr2 = el('tr'); tr2.appendChild(el('td', name));
    const td = el('td'); const bar = el('div', undefined, 'bar'); const i = el('i'); i.style.width = Math.min(100, limit > 0 ? used / limit * 100 : 0) + '%'; bar.appendChild(i); td.appendChild(bar); tr2.appendChild(td);
    tr2.appendChild(el('td', text)); rk.appendChild(tr2);
  };
  lim('daily loss', r.dailyLoss.usedPct, r.dailyLoss.limitPct, r.dailyLoss.usedPct.toFixed(2) + '% / ' + r.dailyLoss.limitPct + '%');
  lim('weekly loss', r.weeklyLoss.usedPct, r.weeklyLoss.limitPct, r.weeklyLoss.usedPct.toFixed(2) + '% / ' + r.weeklyLoss.limitPct + '%');
  if (r.monthlyLoss) lim('monthly loss', r.monthlyLoss.usedPct, r.monthlyLoss.limitPct, r.monthlyLoss.usedPct.toFixed(2) + '% / ' + r.monthlyLoss.limitPct + '%');
  lim('day drawdown', r.dailyDrawdown.usedPct, r.dailyDrawdown.haltPct, r.dailyDrawdown.usedPct.toFixed(2) + '% / ' + r.dailyDrawdown.haltPct + '%');
  lim('stops in a row', r.consecutiveStops.count, r.consecutiveStops.max, r.consecutiveStops.count + ' / ' + r.consecutiveStops.max);
  lim('positions', r.openPositions.count, r.openPositions.max, r.openPositions.count + ' / ' + r.openPositions.max);
  lim('exposure', r.exposure.usedPct, r.exposure.capPct, r.exposure.usedPct.toFixed(2) + '% / ' + r.exposure.capPct + '%');
  if (r.halted) row(rk, [{ t: 'HALTED' }, { t: '' }, { t: r.haltReason || '', c: 'neg' }]);
  const fd = $('feed').tBodies[0];
  fd.replaceChildren();
  for (const [k, v] of Object.entries(s.feedLagMs)) row(fd, [{ t: k }, { t: v === null ? 'none yet' : (v / 1000).toFixed(1) + ' s' }]);
  row(fd, [{ t: 'frames / malformed / reconnects' }, { t: s.feed.frames + ' / ' + s.feed.malformed + ' / ' + s.feed.reconnects }]);
  row(fd, [{ t: 'status as of' }, { t: s.nowIso.slice(0, 19) + 'Z' }]);
  const rp = $('reports').tBodies[0];
  rp.replaceChildren();
  for (const x of d.reports || []) row(rp, [{ t: x.period + ' ' + x.kind }, { t: x.label }, { t: x.atIso.slice(0, 16).replace('T', ' ') }, { t: x.headline }, { t: x.path }], { 'data-kind': x.kind });
  $('reports-empty').textContent = (d.reports || []).length ? '' : 'No report or review yet: the scheduled report and review (npm run report, npm run review) list theirs here once they have run.';
}

const sec = (ms) => Math.floor(ms / 1000);

function renderCharts(d) {
  if (!LW) { $('problem').textContent = 'the chart library did not load'; return; }
  if (!equitySeries) {
    equitySeries = LW.createChart($('equity-chart'), theme).addSeries(LW.LineSeries, { color: '#2f81f7', lineWidth: 2 });
    drawdownSeries = LW.createChart($('drawdown-chart'), theme).addSeries(LW.AreaSeries, { lineColor: '#f85149', topColor: 'rgba(248,81,73,0.05)', bottomColor: 'rgba(248,81,73,0.4)', invertFilledArea: true });
  }
  equitySeries.setData(d.equity.map((p) => ({ time: sec(p.time), value: p.equity })));
  let peak = -Infinity;
  drawdownSeries.setData(d.equity.map((p) => { peak = Math.max(peak, p.equity); return { time: sec(p.time), value: peak > 0 ? -(peak - p.equity) / peak * 100 : 0 }; }));
  for (const c of d.charts) {
    let ch = charts.get(c.symbol);
    if (!ch) {
      const wrap = el('div'); wrap.appendChild(el('h2', c.symbol));
      const box = el('div', undefined, 'chart'); box.id = 'chart-' + c.symbol; wrap.appendChild(box); $('charts').appendChild(wrap);
      const chart = LW.createChart(box, theme);
      const series = chart.addSeries(LW.CandlestickSeries, { upColor: '#3fb950', downColor: '#f85149', borderVisible: false, wickUpColor: '#3fb950', wickDownColor: '#f85149', priceFormat: { type: 'price', precision: 6, minMove: 0.000001 } });
      ch = { chart, series, lines: [], markers: LW.createSeriesMarkers(series, []) };
      charts.set(c.symbol, ch);
    }
    ch.series.setData(c.candles.map((k) => ({ time: sec(k[0]), open: k[1], high: k[2], low: k[3], close: k[4] })));
    for (const l of ch.lines) ch.series.removePriceLine(l);
    ch.lines = c.levels.map((l) => ch.series.createPriceLine({ price: l.price, color: l.kind === 'support' ? '#3fb95088' : '#f8514988', lineWidth: 1, lineStyle: 2, axisLabelVisible: false, title: l.kind[0].toUpperCase() + ' ' + l.touches }));
    const p = d.status.positions.find((x) => x.symbol === c.symbol);
    if (p) {
      ch.lines.push(ch.series.createPriceLine({ price: Number(p.stopPrice), color: '#f85149', lineWidth: 2, title: 'stop' }));
      for (const t of p.targets || []) ch.lines.push(ch.series.createPriceLine({ price: Number(t.price), color: '#3fb950', lineWidth: 1, title: t.label }));
      ch.lines.push(ch.series.createPriceLine({ price: Number(p.entry), color: '#d8dee4', lineWidth: 1, title: 'entry' }));
    }
    const first = c.candles.length ? sec(c.candles[0][0]) : 0;
    ch.markers.setMarkers(c.markers.filter((m) => sec(m.time) >= first).map((m) => ({
      time: sec(m.time) - (sec(m.time) % 60), position: m.kind === 'entry' ? 'belowBar' : 'aboveBar', shape: m.kind === 'entry' ? 'arrowUp' : m.kind === 'exit' ? 'arrowDown' : 'square',
      color: m.kind === 'entry' ? '#2f81f7' : m.kind === 'exit' ? '#e3b341' : '#f85149', text: m.text,
    })).sort((a, b) => a.time - b.time));
  }
}

function render(d) {
  try { renderHeader(d); renderTables(d); renderCharts(d); $('problem').textContent = ''; body.dataset.rendered = String(Number(body.dataset.rendered || 0) + 1); }
  catch (e) { $('problem').textContent = 'render failed: ' + e.message; }
}

async function poll() {
  try {
    const r = await fetch(base + '/api/dashboard' + query, { cache: 'no-store' });
    if (r.status === 401 || r.status === 403) { $('problem').textContent = 'this link has expired: ask /dashboard in Telegram for a new one'; return; }
    if (r.ok) render(await r.json());
  } catch (e) { $('problem').textContent = 'no data: ' + e.message; }
  setTimeout(poll, Number(body.dataset.poll) || 10000);
}

if (mode === 'local' && window.EventSource) {
  const es = new EventSource(base + '/api/stream');
  es.onmessage = (ev) => render(JSON.parse(ev.data));
  es.onerror = () => { es.close(); $('problem').textContent = 'live stream lost: polling'; body.dataset.poll = '5000'; poll(); };
} else poll();

const post = async (state) => {
  const r = await fetch(base + '/api/kill-switch', { method: 'POST', headers: { 'content-type': 'application/json', 'x-console-request': '1' }, body: JSON.stringify({ state }) });
  const j = await r.json();
  $('problem').textContent = r.ok ? '' : (j.error || 'failed');
};
$('pause').onclick = () => { if (confirm('Pause trading? No new entries; open positions keep their stops.')) post('PAUSED'); };
$('resume').onclick = () => { if (confirm('Resume trading?')) post('RUNNING'); };
})();
`;
