/**
 * Formats an AlertEvent for a phone: short plain text, no emoji, numbers rounded.
 *
 * Layout (at most MAX_TEXT characters; Telegram allows 4096, a lock-screen preview shows ~150):
 *   CRITICAL BTCUSDT over time limit: closed
 *   <detail, numbers rounded, cut>
 *   14:03 UTC [stage]
 * The symbol is taken from the title or detail (the AlertEvent has no symbol field); when found and
 * not already leading the title it is put first, so it is what the notification shows.
 */
import type { AlertEvent } from '../events/types.js';

export const MAX_TEXT = 700;
/** SNS e-mail subjects: at most 100 printable ASCII characters, no line breaks. */
export const MAX_SUBJECT = 100;

const SYMBOL_RE = /\b([A-Z0-9]{2,15}(?:USDT|USDC|USD1|BTC|ETH|EUR))\b/;
const NUMBER_RE = /-?\d+\.\d+/g;

/** Rounds a decimal for reading: 2 decimals from 1 up, 4 significant digits below 1 (prices of small coins). */
export function roundForPhone(text: string): string {
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const abs = Math.abs(n);
  if (abs >= 1) return n.toFixed(2);
  if (abs === 0) return '0';
  return Number(n.toPrecision(4)).toString();
}

/** Every decimal number in `s` rounded with roundForPhone; integers (ids, counts, times) are left alone. */
export function roundNumbers(s: string): string {
  return s.replace(NUMBER_RE, (m) => roundForPhone(m));
}

/** The first symbol-looking word of the alert's title or detail. */
export function symbolOf(alert: Pick<AlertEvent, 'title' | 'detail'>): string | undefined {
  return SYMBOL_RE.exec(alert.title)?.[1] ?? SYMBOL_RE.exec(alert.detail)?.[1];
}

function hhmm(time: number): string {
  const d = new Date(time);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

/** The formatted message: `subject` for SNS, `text` for SNS and Telegram. */
export interface FormattedAlert {
  readonly subject: string;
  readonly text: string;
}

/** Formats an alert (see the file comment). `stage` (dev, prod) is appended when given. */
export function formatAlert(alert: AlertEvent, stage?: string): FormattedAlert {
  const sym = symbolOf(alert);
  const title = roundNumbers(alert.title.replace(/\s+/g, ' ').trim());
  const head = `${alert.severity.toUpperCase()} ${sym && !title.startsWith(sym) ? `${sym} ` : ''}${title}`;
  const foot = `${hhmm(alert.time)}${stage ? ` [${stage}]` : ''}`;
  const room = MAX_TEXT - head.length - foot.length - 2;
  let detail = roundNumbers(alert.detail.trim());
  if (detail.length > room) detail = `${detail.slice(0, Math.max(0, room - 3))}...`;
  const text = [head, detail, foot].filter((l) => l.length > 0).join('\n');
  const ascii = head.replace(/[^\x20-\x7E]/g, '?');
  const subject = ascii.length > MAX_SUBJECT ? `${ascii.slice(0, MAX_SUBJECT - 3)}...` : ascii;
  return { subject, text };
}
