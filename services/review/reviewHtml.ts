/** The review as a page, a Telegram caption (at most 1,024 characters) and an e-mail text. */
import { escapeXml as e, fmtNum, fmtTime } from '../report/format.js';
import type { PeriodWindow } from '../reporting/period.js';
import { TELEGRAM_CAPTION_MAX } from '../reporting/text.js';
import { resolveEvidence } from './answer.js';
import type { FactsPack } from './factsPack.js';
import type { LedgerSummary } from './ledger.js';
import type { ReviewOutcome } from './reviewer.js';
import type { TestedRecommendation } from './run.js';

const verdict = (v: string): string => (v === 'supported' ? 'supported' : 'not supported');
const changeText = (r: TestedRecommendation): string => r.changes.map((c) => `${c.key} ${c.from} -> ${c.to}`).join(', ');

function ev(facts: FactsPack, paths: readonly string[]): string {
  return paths.map((p) => `<code>${e(p)}</code> = ${e(JSON.stringify(resolveEvidence(facts, p)) ?? 'undefined').slice(0, 200)}`).join('<br>');
}

export function reviewPageHtml(i: { window: PeriodWindow; facts: FactsPack; outcome: ReviewOutcome; recommendations: readonly TestedRecommendation[]; ledger: LedgerSummary; rule: string; generatedAt: number }): string {
  const o = i.outcome;
  const d = i.facts.divergence;
  const findings = o.answer.findings.map((f) => `<li><b>${e(f.title)}</b>: ${e(f.detail)}<br><span class="note">${ev(i.facts, f.evidence)}</span></li>`).join('') || '<li>none</li>';
  const recs =
    i.recommendations
      .map(
        (r) =>
          `<tr><td><b>${e(r.title)}</b><br>${e(r.rationale)}<br><span class="note">${ev(i.facts, r.evidence)}</span></td><td>${e(changeText(r))}</td><td class="${r.test.verdict}">${verdict(r.test.verdict)}</td><td>${r.test.reasons.map((x) => e(x)).join('<br>')}<br><span class="note">${e(Object.entries(r.test.figures).map(([k, v]) => `${k}=${String(v)}`).join(', '))}</span></td></tr>`,
      )
      .join('') || '<tr><td colspan="4">no recommendation</td></tr>';
  const ledger = i.ledger.latest.map((l) => `<tr><td>${e(l.id)}</td><td>${e(l.title)}</td><td>${verdict(l.verdict)}</td><td>${l.score ? `${e(l.score.outcome)}: candidate ${e(l.score.candidateNetPnl)} vs live ${e(l.score.liveNetPnl)} (${fmtTime(l.score.from)} to ${fmtTime(l.score.to)})` : 'not scored yet'}</td></tr>`).join('') || '<tr><td colspan="4">no past recommendation</td></tr>';
  const usage = o.usage ? `${o.usage.attempts} call(s), ${o.usage.inputTokens} input and ${o.usage.outputTokens} output tokens, $${fmtNum(o.usage.costUsd, 4)} at list prices` : 'no model call';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(i.window.period)} review ${e(i.window.key)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1e293b;max-width:1240px}table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #e2e8f0;padding:4px 8px;text-align:left;font-size:14px;vertical-align:top}th{background:#f8fafc}.note{color:#64748b;font-size:12px}.supported{background:#dcfce7}.not_supported{background:#fee2e2}.who{background:#e0f2fe;padding:6px 10px;border-radius:6px}</style></head><body>
<h1>${e(i.window.period)} review: ${e(i.window.label)}</h1>
<p class="who">Written by: <b>${e(o.label)}</b>. ${usage}. Generated ${fmtTime(i.generatedAt)}. The live configuration was not changed.</p>
${o.notes.length ? `<p class="note">${o.notes.map((n) => e(n)).join('<br>')}</p>` : ''}
<h2>Narrative</h2><p>${e(o.answer.narrative)}</p>
<h2>Findings</h2><ul>${findings}</ul>
<h2>Recommendations, each tested out of sample</h2>
<p class="note">How to read "supported": ${e(i.rule)}. Anything else is reported as not supported, with its figures. A supported recommendation is a candidate to run in paper trading beside live (shadow), not a change.</p>
<table><tr><th>recommendation</th><th>change</th><th>verdict</th><th>why</th></tr>${recs}</table>
<h2>Live versus replay</h2><p>${d.status === 'ok' ? `${d.matched} of ${d.liveTrades} live trades matched the replay (${d.identical} identical); ${d.liveOnlyCount} only live, ${d.replayOnlyCount} only in the replay; live minus replay net PnL ${e(d.netPnlDiff)}.` : e(d.detail ?? d.status)}</p>
<h2>Ledger: past recommendations scored on what happened afterwards</h2><table><tr><th>id</th><th>title</th><th>test</th><th>latest score</th></tr>${ledger}</table>
</body></html>
`;
}

export function reviewCaption(w: PeriodWindow, o: ReviewOutcome, recs: readonly TestedRecommendation[]): string {
  const head = `<b>${e(w.period)} review ${e(w.label)}</b>\n${e(o.label)}\n`;
  const lines = recs.map((r, n) => `${n + 1}. ${e(r.title)} (${e(changeText(r))}): <b>${verdict(r.test.verdict)}</b>`);
  const tail = lines.length ? `\n${lines.join('\n')}` : '\nNo recommendation.';
  const room = TELEGRAM_CAPTION_MAX - head.length - tail.length - 2;
  const narrative = room > 40 ? e(o.answer.narrative).slice(0, room) : '';
  // Escaping can cut an entity in half at the slice: drop a trailing partial "&...".
  const safe = narrative.replace(/&[a-z#0-9]*$/i, '');
  return `${head}${safe}${tail}`.slice(0, TELEGRAM_CAPTION_MAX);
}

export function reviewEmail(w: PeriodWindow, o: ReviewOutcome, recs: readonly TestedRecommendation[], link: { url?: string; expiresHours?: number; problem?: string }): string {
  const lines = [`${w.period} review ${w.label}`, `Written by: ${o.label}`, '', o.answer.narrative, '', 'Recommendations (tested out of sample; never applied):'];
  if (recs.length === 0) lines.push('  none');
  for (const r of recs) lines.push(`  - ${r.title}: ${changeText(r)} -> ${verdict(r.test.verdict)} (${r.test.reasons.join('; ')})`);
  if (o.usage) lines.push('', `Model usage: ${o.usage.inputTokens} input / ${o.usage.outputTokens} output tokens, $${o.usage.costUsd.toFixed(4)}`);
  for (const n of o.notes) lines.push(`Note: ${n}`);
  lines.push('', link.url ? `Full review (link valid ${link.expiresHours ?? 0} h): ${link.url}` : `Full review: not linked (${link.problem ?? 'no archive'}).`);
  return lines.join('\n');
}
