/** Text helpers shared by the report renderers: escaping and deterministic number/date formatting. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/XML element content and quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Integer part with comma thousands separators: 1234567.5 -> "1,234,567.5". Locale-independent. */
export function groupThousands(s: string): string {
  const m = /^(-?)(\d+)(.*)$/.exec(s);
  if (!m) return s;
  return m[1]! + m[2]!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + m[3]!;
}

/** A number with fixed decimals and thousands separators; '-' for null or non-finite values. */
export function fmtNum(x: number | null | undefined, decimals = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const s = x.toFixed(decimals);
  return groupThousands(s === `-${(0).toFixed(decimals)}` ? s.slice(1) : s);
}

/** ISO-8601 UTC without milliseconds, e.g. "2024-01-01 12:00:00Z"; '' for a non-finite time. */
export function fmtTime(t: number): string {
  if (!Number.isFinite(t)) return '';
  return new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** "YYYY-MM-DD" of a UTC time. */
export function fmtDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}
