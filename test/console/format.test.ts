/** Paging for Telegram: limits, tags never split, the page bound. */
import { describe, expect, it } from 'vitest';
import { esc, MAX_CAPTION_CHARS, MAX_MESSAGE_CHARS, paginate, table } from '../../services/console/format.js';

describe('paginate', () => {
  it('a long table continues on the next page with its <pre> closed and reopened, numbered pages', () => {
    const rows = Array.from({ length: 400 }, (_, i) => `row ${String(i).padStart(3, '0')} ${'x'.repeat(30)}`);
    const pages = paginate([{ html: '<b>Title</b>' }, { pre: rows }]);
    expect(pages.length).toBe(4); // 400 rows of 39 chars + newline: 15,600 characters, ~3,990 per page
    for (const p of pages) {
      expect(p.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
      expect((p.match(/<pre>/g) ?? []).length).toBe((p.match(/<\/pre>/g) ?? []).length);
    }
    expect(pages[1]).toMatch(/^<i>\(2\/4\)<\/i>\n<pre>row /);
    const all = pages.join('\n');
    for (const r of [rows[0]!, rows[199]!, rows[399]!]) expect(all).toContain(r);
  });
  it('past the page bound the rest is dropped and the last page says so; captions have their own limit', () => {
    const pages = paginate(Array.from({ length: 3000 }, (_, i) => ({ html: `line ${i} ${'y'.repeat(40)}` })), MAX_MESSAGE_CHARS, 2);
    expect(pages).toHaveLength(2);
    expect(pages[1]).toMatch(/more page\(s\) not sent; ask for fewer<\/i>$/);
    for (const p of paginate([{ html: 'z'.repeat(5000) }], MAX_CAPTION_CHARS)) expect(p.length).toBeLessThanOrEqual(MAX_CAPTION_CHARS);
  });
  it('escapes table text and aligns numbers right', () => {
    const out = paginate([{ pre: table([['a<b', '1.5'], ['c', '-10.25']]) }]);
    expect(out[0]).toBe('<pre>a&lt;b    1.5\nc   -10.25</pre>');
    expect(esc('<&>')).toBe('&lt;&amp;&gt;');
  });
});
