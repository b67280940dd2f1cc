/**
 * Replies for a phone: Telegram HTML (only <b>, <i>, <code>, <pre> are used; every dynamic text is
 * escaped), cut into messages that respect Telegram's limits (4,096 characters of text per message,
 * 1,024 per caption) without breaking a tag, and at most MAX_PAGES messages per answer.
 */

/** Telegram's limit on a message's text. */
export const MAX_MESSAGE_CHARS = 4096;
/** Telegram's limit on a photo or document caption. */
export const MAX_CAPTION_CHARS = 1024;
/** Messages one answer may send (a longer list says it was cut). */
export const MAX_PAGES = 5;

/** Escapes text for Telegram's HTML parse mode. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A part of a reply: a line of HTML, or a monospaced table (its rows are plain text). */
export type Block = { readonly html: string } | { readonly pre: readonly string[] };

/**
 * Packs blocks into messages of at most `limit` characters: a table too long for one message
 * continues in the next (its <pre> closed and reopened), a line too long is cut. Pages after the
 * first carry "(2/3)" at the top; past MAX_PAGES the rest is dropped and the last page says so.
 */
export function paginate(blocks: readonly Block[], limit = MAX_MESSAGE_CHARS, maxPages = MAX_PAGES): string[] {
  const room = limit - 16; // the "(n/m)" header and the cut notice
  const pages: string[] = [];
  let cur = '';
  const flush = (): void => {
    if (cur.trim() !== '') pages.push(cur.replace(/\n+$/, ''));
    cur = '';
  };
  const addLine = (line: string): void => {
    const l = line.length > room ? `${line.slice(0, room - 1)}…` : line;
    if (cur.length + l.length + 1 > room) flush();
    cur += `${l}\n`;
  };
  for (const b of blocks) {
    if ('html' in b) {
      addLine(b.html);
      continue;
    }
    let open = false;
    for (const row of b.pre) {
      const line = esc(row.length > 120 ? `${row.slice(0, 119)}…` : row);
      if (!open) {
        if (cur.length + line.length + 12 > room) flush();
        cur += '<pre>';
        open = true;
      }
      if (cur.length + line.length + 7 > room) {
        cur = `${cur.replace(/\n$/, '')}</pre>\n`;
        flush();
        cur = '<pre>';
      }
      cur += `${line}\n`;
    }
    if (open) cur = `${cur.replace(/\n$/, '')}</pre>\n`;
  }
  flush();
  if (pages.length === 0) pages.push('(nothing to show)');
  let out = pages;
  if (pages.length > maxPages) {
    out = pages.slice(0, maxPages);
    out[maxPages - 1] += `\n<i>… ${pages.length - maxPages} more page(s) not sent; ask for fewer</i>`;
  }
  return out.length === 1 ? out : out.map((p, i) => (i === 0 ? p : `<i>(${i + 1}/${out.length})</i>\n${p}`));
}

/** A signed decimal string for display: "+12.50", "-3.00". */
export function signed(s: string): string {
  return s.startsWith('-') ? s : `+${s}`;
}

/** Pads rows of cells into aligned columns (numbers right-aligned). */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (/^[-+]?[\d.,]+%?$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' ').trimEnd());
}
