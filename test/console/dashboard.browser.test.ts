/**
 * The dashboard in a real browser: `npm start` replaying the bundled sample offline (the simulator
 * in process), Debian's headless Chromium driven by puppeteer-core. Waits for the first trade (an
 * open position or a closed trade in /status), then checks that the page shows the position with
 * its quantity, the equity, the candle chart and the equity chart (drawn: their canvases hold
 * more than the background), that it updates without a reload, and saves a screenshot to
 * out/test/dashboard/dashboard.png. Waits are bounded polls, never fixed delays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { openLocalState } from '../../cli/localState.js';
import { afterAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const OUT = join('out', 'test', 'dashboard');
let child: ChildProcess | undefined;
let browser: Browser | undefined;
const dirs: string[] = [];

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (child && child.exitCode === null) child.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('dashboard (headless Chromium)', () => {
  it.skipIf(!existsSync(CHROMIUM))('shows the position, the charts and the equity of a running replay, live', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dash-'));
    dirs.push(dir);
    // A review published before the start (the runtime writes daily reports itself as the replay's days end; reviews it does not).
    mkdirSync(join(dir, 'state'));
    const seeded = await openLocalState({ dataDir: dir, now: () => Date.now() });
    await seeded.store.putPublication({ kind: 'review', period: 'weekly', key: '2026-05-18', label: 'ISO week 2026-W21', at: Date.UTC(2026, 4, 25, 8, 20), headline: 'deterministic: 2 recommendation(s), 0 supported by the test', path: 'reviews/weekly/2026-05-18/review.html' });
    await seeded.close();
    const env = { ...process.env, MEXC_PING_URL: 'http://127.0.0.1:9/api/v3/ping', MEXC_EXCHANGE_URL: '', STATUS_PORT: '', MEXC_API_KEY: '', MEXC_API_SECRET: '', TELEGRAM_BOT_TOKEN: '' };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts', '--status-port', '0', '--data-dir', dir, '--symbols', 'DOGEUSDT'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const url = await until('the status URL', () => /status server (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 20_000);

    // The first trade of the replay: an open position (or one already closed).
    type Doc = { positions: { symbol: string; quantityDisplay: string }[]; recentTrades: unknown[] };
    const doc = await until('the first trade', async () => {
      const r = await fetch(`${url}/status`).catch(() => undefined);
      if (!r?.ok) return undefined;
      const d = (await r.json()) as Doc;
      return d.positions.length > 0 || d.recentTrades.length > 0 ? d : undefined;
    }, 40_000);

    const userDataDir = await mkdtemp(join(tmpdir(), 'chromium-'));
    dirs.push(userDataDir);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // Tall enough for the reports and reviews panel at the bottom of the right column.
    await page.setViewport({ width: 1280, height: 1000 });
    await page.goto(`${url}/`, { waitUntil: 'domcontentloaded' });
    // Browser-side code as strings: this project's TypeScript has no DOM types.
    await page.waitForFunction('Number(document.body.dataset.rendered || 0) >= 1', { timeout: 10_000 });

    expect(String(await page.evaluate("document.querySelector('#equity-value').textContent"))).toMatch(/^\d+\.\d\d USDT$/);
    if (doc.positions.length > 0) {
      // The position's row, with its quantity, as /status has it (or a later state of it).
      await page.waitForSelector('#positions tr[data-symbol="DOGEUSDT"], #trades tr[data-trade]', { timeout: 10_000 });
    } else {
      await page.waitForSelector('#trades tr[data-trade]', { timeout: 10_000 });
    }
    const rowText = String(await page.evaluate(`[...document.querySelectorAll('#positions tr[data-symbol], #trades tr[data-trade]')].map((r) => r.textContent).join(' ')`));
    expect(rowText).toMatch(/DOGE/);
    const qty = await page.evaluate(`document.querySelector('#positions tr[data-symbol="DOGEUSDT"]')?.children[1].textContent ?? null`);
    if (qty !== null) expect(qty as string).toMatch(/^[\d.]+ DOGE$/);

    // The latest reports and reviews, from the state's publication records.
    await page.waitForSelector('#reports tr[data-kind="review"]', { timeout: 10_000 });
    expect(String(await page.evaluate(`document.querySelector('#reports tr[data-kind="review"]').textContent`))).toContain('weekly reviewISO week 2026-W21');

    // The charts are drawn: some canvas of each holds pixels other than the background.
    const drawn = async (sel: string): Promise<number> =>
      Number(await page.evaluate(`(() => {
        let varied = 0;
        for (const c of document.querySelectorAll(${JSON.stringify(sel)} + ' canvas')) {
          const ctx = c.getContext('2d');
          if (!ctx || c.width === 0 || c.height === 0) continue;
          const px = ctx.getImageData(0, 0, c.width, c.height).data;
          const colours = new Set();
          for (let i = 0; i < px.length; i += 28) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
          varied = Math.max(varied, colours.size);
        }
        return varied;
      })()`));
    await page.waitForSelector('#chart-DOGEUSDT canvas', { timeout: 10_000 });
    expect(await drawn('#chart-DOGEUSDT')).toBeGreaterThan(5);
    expect(await drawn('#equity-chart')).toBeGreaterThan(2);

    // Live: the page renders again without a reload (server-sent events every 2 s).
    const rendered = await page.evaluate('Number(document.body.dataset.rendered)');
    await page.waitForFunction(`Number(document.body.dataset.rendered) > ${Number(rendered)}`, { timeout: 10_000 });
    expect(errors).toEqual([]);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'dashboard.png'), fullPage: false });
    expect(existsSync(join(OUT, 'dashboard.png'))).toBe(true);

    proc.kill('SIGINT');
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 75_000);
});
