/**
 * The short forms of a period report: the Telegram photo caption (at most 1,024 characters,
 * Telegram's limit, in its HTML parse mode) and the plain-text e-mail summary with the link to the
 * archived page.
 */
import { escapeXml, fmtNum } from '../report/format.js';
import type { ReportFigures } from './figures.js';

/** Telegram's limit on a photo caption (characters after entity parsing; we count the raw text, which is longer). */
export const TELEGRAM_CAPTION_MAX = 1024;

const pct = (x: number | null): string => (x === null ? '–' : `${fmtNum(x, 2)}%`);
const m = (s: string | null): string => (s === null ? '–' : fmtNum(Number(s), 2));

/** The summary lines shared by the caption and the e-mail. */
export function summaryLines(f: ReportFigures): string[] {
  const lines = [
    `${f.period} report ${f.label}`,
    f.empty ? 'No trade closed in this period.' : `Net PnL ${m(f.netPnl)} ${f.quoteAsset} (return ${pct(f.returnPct)})`,
    `Fees ${m(f.fees)} ${f.quoteAsset}`,
    `Trades ${f.trades}, win rate ${pct(f.winRatePct)}, profit factor ${f.profitFactor === null ? '–' : fmtNum(f.profitFactor, 2)}, expectancy ${m(f.expectancy)}`,
    `Max drawdown ${pct(f.maxDrawdownPct)}, avg hold ${f.avgHoldMinutes === null ? '–' : `${fmtNum(f.avgHoldMinutes, 1)} min`}`,
  ];
  if (f.best && f.worst) lines.push(`Best ${f.best.symbol} ${m(f.best.netPnl)}, worst ${f.worst.symbol} ${m(f.worst.netPnl)}`);
  const rl = f.riskLimits;
  lines.push(`Risk used: daily ${pct(rl.dailyLimitUsedPct)}, weekly ${pct(rl.weeklyLimitUsedPct)}, positions ${rl.peakOpenPositions}/${rl.maxPositions}`);
  lines.push(`Halts ${f.halts.length}, kill-switch changes ${f.killSwitch.length}, rejected ${f.anomalies.rejectedOrders}, stuck ${f.anomalies.stuckOrders}`);
  if (f.slippage.avgBps !== null) lines.push(`Slippage vs signal: avg ${fmtNum(f.slippage.avgBps, 1)} bps, worst ${fmtNum(f.slippage.maxBps, 1)} bps`);
  lines.push(`Uptime ${pct(f.uptime.pct)} (${f.uptime.gapCount} gap(s))`);
  lines.push(`Day boundary ${f.dayBoundary}`);
  return lines;
}

/**
 * The caption: the summary lines escaped for Telegram's HTML mode, cut to whole lines so it stays
 * within TELEGRAM_CAPTION_MAX (the full report is the document sent with it).
 */
export function telegramCaption(f: ReportFigures, extra: readonly string[] = []): string {
  const lines = [...summaryLines(f), ...extra].map((l, i) => (i === 0 ? `<b>${escapeXml(l)}</b>` : escapeXml(l)));
  const out: string[] = [];
  let n = 0;
  for (const l of lines) {
    const add = (out.length ? 1 : 0) + l.length;
    if (n + add > TELEGRAM_CAPTION_MAX - 2) {
      out.push('…');
      break;
    }
    out.push(l);
    n += add;
  }
  return out.join('\n').slice(0, TELEGRAM_CAPTION_MAX);
}

/** The e-mail text: the summary, the per-symbol lines, and the link (or why there is none). */
export function emailSummary(f: ReportFigures, link: { readonly url?: string; readonly expiresHours?: number; readonly problem?: string }): string {
  const lines = summaryLines(f);
  const sym = Object.entries(f.bySymbol).map(([s, g]) => `  ${s}: ${g.trades} trades, net ${m(g.netPnl)} ${f.quoteAsset}`);
  if (sym.length) lines.push('', 'Per symbol:', ...sym);
  lines.push('');
  if (link.url) lines.push(`Full report (link valid ${link.expiresHours ?? 0} h): ${link.url}`);
  else lines.push(`Full report: not linked (${link.problem ?? 'no archive'}).`);
  return lines.join('\n');
}
