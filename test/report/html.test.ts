import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { computeSummary, type ClosedTrade } from '../../services/analytics/index.js';
import { equityChartSvg, reportHtml, type ReportMeta } from '../../services/report/index.js';
import { extendedSummary } from '../../services/analytics/periods.js';

const T0 = Date.UTC(2024, 0, 1);
const H = 3_600_000;
const EVIL = '<script>alert(1)</script>';

function trade(i: number, symbol: string): ClosedTrade {
  return {
    id: `t${i}`,
    symbol,
    direction: 'long',
    entryTime: T0 + i * H,
    exitTime: T0 + i * H + 1_800_000,
    entryPrice: dec('100'),
    exitPrice: dec('101'),
    quantity: dec('1'),
    fees: dec('0.1'),
    grossPnl: dec('1'),
    netPnl: dec('0.9'),
    exitReason: i === 0 ? '<b>stop</b>' : 'target',
    exits: 1,
    returnPct: 0.9,
  };
}

const trades = [0, 1, 2, 3, 4].map((i) => trade(i, i % 2 ? EVIL : 'BTCUSDT'));
const equity = [0, 1, 2, 3, 4, 5].map((i) => ({ time: T0 + i * H, equity: 1000 + i * 0.9 }));
const summary = computeSummary({
  initialBalance: dec('1000'),
  finalBalance: dec('1004.5'),
  candles: 600,
  symbols: ['BTCUSDT', EVIL],
  startTime: T0,
  endTime: T0 + 5 * H,
  elapsedMs: 10,
  buyAndHold: [],
  trades,
  equity,
});
const meta: ReportMeta = {
  mode: 'standard',
  profile: 'conservative',
  costs: { makerFeePct: 0, takerFeePct: 0.05, slippageBps: 2, impactBpsPerPctVolume: 1, latencyMs: 250 },
  dataQuality: { droppedRows: 12, gapsFilled: 3, [EVIL]: 1, perSymbol: { BTCUSDT: { duplicates: 4 } } },
  maxTradeRows: 2,
};
const html = reportHtml(summary, equityChartSvg(equity, { baseline: 1000 }), trades, meta);

describe('reportHtml', () => {
  it('escapes text from the inputs', () => {
    // The only <script> sequences would come from the symbol, exit reason or data-quality key.
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>stop</b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('states the cost assumptions and that results are net of them', () => {
    expect(html).toContain('Results are net of fees and slippage.');
    expect(html).toContain('taker fee 0.050%');
    expect(html).toContain('slippage 2.0 bps');
    expect(html).toContain('order latency 250 ms');
  });

  it('has the title with symbols, mode, profile and period', () => {
    const title = /<title>([^<]*)<\/title>/.exec(html)?.[1];
    expect(title).toBe(
      'Backtest BTCUSDT, &lt;script&gt;alert(1)&lt;/script&gt; · standard · conservative · 2024-01-01 00:00:00Z → 2024-01-01 05:00:00Z',
    );
  });

  it('embeds the chart and renders every data-quality pair', () => {
    expect(html).toContain('<polyline class="equity"');
    expect(html).toContain('<td>Dropped rows</td><td class="n">12</td>');
    expect(html).toContain('<td>Gaps filled</td><td class="n">3</td>');
    expect(html).toContain('<td>Per symbol › BTCUSDT › Duplicates</td><td class="n">4</td>');
  });

  it('caps the trades table and points to trades.csv', () => {
    // 5 trades, cap 2: rows t0 and t1 only.
    expect(html).toContain('Showing the first 2 of 5 trades');
    expect(html).toContain('trades.csv');
    expect(html).toContain('<td>t1</td>');
    expect(html).not.toContain('<td>t2</td>');
  });

  it('is self-contained', () => {
    expect(html).not.toMatch(/<link|<script|src=|@import|url\(http/i);
  });

  describe('with the extra sections', () => {
    const extended = extendedSummary({ equity, trades, initial: 1000, final: 1004.5, start: T0, end: T0 + 5 * H });
    const full = reportHtml(summary, '<svg></svg>', trades, {
      ...meta,
      extras: { extended, funnel: { evaluated: 10, volume: 7, [EVIL]: 2, signals: 1 }, rejections: { SYMBOL_COOLDOWN: 3, [EVIL]: 1 }, strategy: EVIL, priceCharts: [{ symbol: EVIL, svg: '<svg class="pc"></svg>' }] },
    });
    it('shows growth, time, costs, period returns, the funnel with shares, the refusals and the price charts', () => {
      for (const h of ['Growth, time and costs', 'Returns by period', 'Entry funnel and refusals', 'Price charts']) expect(full).toContain(h);
      expect(full).toContain('<td>volume</td><td class="n">7</td><td class="n">70.0%</td>');
      expect(full).toContain('<td>SYMBOL_COOLDOWN</td><td class="n">3</td>');
      expect(full).toContain('<svg class="pc"></svg>');
      expect(full).toContain('<td>2024-01-01</td>');
      expect(full).toContain('Trade duration: mean</td><td class="n ">30 min');
    });
    it('escapes every input text, keeps every headline row, and stays self-contained', () => {
      expect(full).not.toContain(EVIL);
      expect(full).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      for (const row of ['Net PnL (after fees and slippage)', 'Max drawdown', 'Sharpe (daily, ×√365)', 'Exit reasons', 'Data quality']) expect(full).toContain(row);
      expect(full).not.toMatch(/<link|<script|src=|@import|url\(http/i);
    });
    it('without extras the page is as before', () => {
      expect(html).not.toContain('Returns by period');
    });
  });
});
