/**
 * The Telegram console end to end: grammY long-polling a local stand-in of the Bot API over
 * loopback, the real ConsoleService, the real kill switch (a file) and the real in-process queues.
 * Every command; the allowlist and roles; duplicates by update_id; the confirmation flow (one tap
 * for /pause, /emergency_stop and /forceexit; a one-time code and a tap for /resume); a resume
 * racing an emergency stop; paging within Telegram's limits; and the webhook's secret header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleBot, handleWebhookRequest, startPolling, type ConsoleBot, type Polling } from '../../services/adapters/telegram/consoleBot.js';
import { MAX_MESSAGE_CHARS } from '../../services/console/format.js';
import { MemoryOnceStore } from '../../services/console/ports.js';
import { base32Decode, totp } from '../../services/console/totp.js';
import { Dec } from '../../services/core/money.js';
import { BOT_INFO, startBotApiStandIn, tapUpdate, textUpdate, type ApiCall, type BotApiStandIn } from './botApiStandIn.js';
import { consoleHarness, GROUP, OPERATOR, OPERATOR_2, STRANGER, T, TOTP_SECRET, trade, VIEWER, type ConsoleHarness } from './fixtures.js';

const TOKEN = '123456:TEST-token';
let api: BotApiStandIn;
let h: ConsoleHarness;
let bot: ConsoleBot;
let polling: Polling;
const DAY = 86_400_000;

beforeAll(async () => {
  api = await startBotApiStandIn(TOKEN);
  h = consoleHarness({
    backtest: ({ jobId }, notify) => {
      // A runner that finishes at once: what is tested is that the answer arrives later, by notify.
      setTimeout(() => void notify(`job ${jobId} done: 3 trades`), 10);
      return Promise.resolve(`Backtest queued as job ${jobId}`);
    },
    optimize: (jobId, notify) => {
      setTimeout(() => void notify(`Job ${jobId} done: walk-forward optimisation`), 10);
      return Promise.resolve(`Optimisation queued as job ${jobId}: space spaces/sr.json`);
    },
  });
  // Trades and daily stats worked out by hand: today +5 and -2 (net +3); yesterday +10.
  await h.store.putClosedTradeOnce(trade('t1', T - 3_600_000, '5'));
  await h.store.putClosedTradeOnce(trade('t2', T - 1_800_000, '-2', 'PEPEUSDT'));
  await h.store.putClosedTradeOnce(trade('t0', T - DAY, '10'));
  const day = (d: string, start: string, end: string, pnl: string, trades: number, wins: number) =>
    h.store.put('day', { day: d, startEquity: Dec.from(start), endEquity: Dec.from(end), realizedPnl: Dec.from(pnl), fees: Dec.from('0.1'), trades, wins, losses: trades - wins, updatedAt: T }, undefined);
  await day('2026-06-09', '9990', '10000', '10', 1, 1);
  await day('2026-06-10', '10000', '10003', '3', 2, 1);
  bot = createConsoleBot({ token: TOKEN, apiRoot: api.apiRoot, service: h.service, once: new MemoryOnceStore(() => h.clock.now) });
  polling = startPolling(bot, (w, e) => console.error(w, e));
  expect(await polling.ready).toBe(true);
});

afterAll(async () => {
  await polling?.stop();
  await api?.close();
});

/** Sends an update and waits until the bot made `calls` more API calls of the answering kind. */
async function say(userId: number, chatId: number, text: string, expect = 1): Promise<ApiCall[]> {
  const before = api.callsOf('sendMessage').length;
  api.push(textUpdate(userId, chatId, text));
  await api.waitFor(() => api.callsOf('sendMessage').length >= before + expect);
  return api.callsOf('sendMessage').slice(before);
}

async function tap(userId: number, chatId: number, data: string): Promise<{ toast: string; edit?: string; sent: ApiCall[] }> {
  const answers = api.callsOf('answerCallbackQuery').length;
  const edits = api.callsOf('editMessageText').length;
  const sends = api.callsOf('sendMessage').length;
  api.push(tapUpdate(userId, chatId, data));
  await api.waitFor(() => api.callsOf('answerCallbackQuery').length > answers);
  await new Promise((r) => setTimeout(r, 50)); // the edit or message follows the answer
  const e = api.callsOf('editMessageText').slice(edits)[0];
  return { toast: (api.callsOf('answerCallbackQuery')[answers]!.payload.text as string | undefined) ?? '', ...(e ? { edit: String(e.payload.text) } : {}), sent: api.callsOf('sendMessage').slice(sends) };
}

const textOf = (calls: ApiCall[]): string => calls.map((c) => String(c.payload.text)).join('\n');
const buttonData = (call: ApiCall): string => ((call.payload.reply_markup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!).callback_data;

describe('read commands', () => {
  it('/status and /positions: equity, today, the position with quantity, price, uPnL, stop and targets', async () => {
    const st = textOf(await say(VIEWER, VIEWER, '/status'));
    expect(st).toContain('Equity: <b>10012.35 USDT</b>');
    expect(st).toContain('Today: +12.35 USDT');
    expect(st).toContain('Open positions: 1 (DOGEUSDT)');
    const pos = await say(VIEWER, GROUP, '/positions@scalper_test_bot');
    expect(pos[0]!.payload.chat_id).toBe(GROUP);
    expect(pos[0]!.payload.parse_mode).toBe('HTML');
    const p = textOf(pos);
    for (const s of ['9444.52 DOGE', '0.10000', '0.10125', '+11.81 USDT', '0.09920', 'primary   0.10150 (0/3116.69)', 'secondary 0.10220']) expect(p).toContain(s);
  });

  it('/trades, /profit, /daily, /weekly, /monthly, /performance and /report from the state table', async () => {
    const tr = textOf(await say(VIEWER, VIEWER, '/trades 2'));
    expect(tr).toContain('Last 2 trade(s)');
    expect(tr).toMatch(/PEPE\s+stop\s+-2\.00/);
    expect(tr).toMatch(/DOGE\s+target\s+\+5\.00/);
    expect(tr).not.toContain('+10.00'); // yesterday's is the third newest
    const pr = textOf(await say(VIEWER, VIEWER, '/profit 2'));
    expect(pr).toContain('+13.00 USDT'); // 10 + 3
    expect(pr).toContain('0.20 USDT'); // fees 0.1 + 0.1
    expect(pr).toContain('3 (2 won, 66.7%)');
    expect(pr).toContain('9990.00 -&gt; 10003.00');
    const daily = textOf(await say(VIEWER, VIEWER, '/daily'));
    expect(daily.indexOf('2026-06-10')).toBeLessThan(daily.indexOf('2026-06-09')); // newest first
    expect(textOf(await say(VIEWER, VIEWER, '/weekly 1'))).toMatch(/wk 2026-06-08\s+3\s+67%\s+\+13\.00\s+10003\.00/);
    expect(textOf(await say(VIEWER, VIEWER, '/monthly'))).toMatch(/2026-06\s+3\s+67%\s+\+13\.00/);
    const perf = textOf(await say(VIEWER, VIEWER, '/performance'));
    expect(perf).toMatch(/DOGEUSDT\s+2\s+100%\s+\+15\.00/);
    expect(perf).toMatch(/PEPEUSDT\s+1\s+0%\s+-2\.00/);
    // The report generator's figures for the ISO week so far (Mon 2026-06-08 to now): +10, +5, -2.
    const rep = textOf(await say(VIEWER, VIEWER, '/report week'));
    expect(rep).toContain('<b>weekly report ISO week 2026-W24 (Mon 2026-06-08 to Sun 2026-06-14, UTC)</b>');
    expect(rep).toContain('Net PnL 13.00 USDT'); // 10 + 5 - 2
    expect(rep).toContain('Fees 0.15 USDT'); // 3 x 0.05
    expect(rep).toContain('Trades 3, win rate 66.67%, profit factor 7.50, expectancy 4.33'); // 15 / 2; 13 / 3
    expect(rep).toContain('So far: to now');
    expect(rep).toMatch(/2026-06-10 2\s+50%\s+\+3\.00/); // then the days
    expect(textOf(await say(VIEWER, VIEWER, '/report year'))).toContain('Usage: /report day');
    expect(textOf(await say(VIEWER, VIEWER, '/trades lots'))).toContain('expected a whole number');
  });

  it('/risk, /health and /help (a viewer sees the read commands only)', async () => {
    const r = textOf(await say(VIEWER, VIEWER, '/risk'));
    expect(r).toMatch(/daily loss\s+0\.00% of 2\.00%/);
    expect(r).toMatch(/stops in a row\s+1 of 3/);
    expect(r).toMatch(/exposure\s+9\.55% of 50\.00%/);
    expect(r).toContain('No halt.');
    const hl = textOf(await say(VIEWER, VIEWER, '/health'));
    expect(hl).toContain('Last report from the hot path: 2 s ago');
    expect(hl).toMatch(/kline:DOGEUSDT:1m\s+1\.5 s/);
    expect(hl).toMatch(/trades:DOGEUSDT\s+none yet/);
    const help = textOf(await say(VIEWER, VIEWER, '/help'));
    expect(help).toContain('/trades [n]');
    expect(help).not.toContain('/pause');
    expect(textOf(await say(OPERATOR, OPERATOR, '/start'))).toContain('/emergency_stop');
  });

  it('no status from the hot path is said plainly', async () => {
    h.setStatus(undefined);
    expect(textOf(await say(VIEWER, VIEWER, '/positions'))).toContain('No status from the hot path');
    const { statusDoc } = await import('./fixtures.js');
    h.setStatus(statusDoc());
  });

  it('/trades 100 over 120 trades: all 100 rows arrive, each message within 4,096 characters', async () => {
    for (let i = 0; i < 120; i++) await h.store.putClosedTradeOnce(trade(`bulk${i}`, T - 7_200_000 - i * 1000, i % 2 ? '1.5' : '-0.5'));
    const msgs = await say(VIEWER, VIEWER, '/trades 100', 1);
    await new Promise((r) => setTimeout(r, 200));
    const all = api.callsOf('sendMessage').slice(api.callsOf('sendMessage').indexOf(msgs[0]!));
    for (const m of all) expect(String(m.payload.text).length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
    const rows = all.map((m) => String(m.payload.text)).join('\n').split('\n').filter((l) => /^\d\d-\d\d \d\d:\d\d /.test(l.replace(/^<pre>/, '')));
    expect(rows).toHaveLength(100);
  });
});

describe('access', () => {
  it('ignores strangers and allowlisted users in foreign chats (no answer at all), and counts them', async () => {
    const ignored = h.service.counters.ignored;
    const sent = api.callsOf('sendMessage').length;
    api.push(textUpdate(STRANGER, STRANGER, '/status'));
    api.push(textUpdate(STRANGER, GROUP, '/pause'));
    api.push(textUpdate(OPERATOR, -999, '/status'));
    // A probe after them: once it is answered, the three before were handled.
    await say(VIEWER, VIEWER, '/help');
    expect(api.callsOf('sendMessage').length).toBe(sent + 1);
    expect(h.service.counters.ignored).toBe(ignored + 3);
    // Each one is also handed on to be counted durably (metric on AWS, ops log locally).
    expect(h.ignored.slice(-3).map((e) => [e.userId, e.chatId, e.kind])).toEqual([
      [STRANGER, STRANGER, 'message'],
      [STRANGER, GROUP, 'message'],
      [OPERATOR, -999, 'message'],
    ]);
  });

  it('a viewer cannot pause, stop, exit or resume', async () => {
    for (const c of ['/pause', '/emergency_stop', '/forceexit DOGEUSDT', '/resume 123456', '/ml_retrain', '/dashboard']) {
      expect(textOf(await say(VIEWER, GROUP, c))).toContain('needs the operator role');
    }
    expect((await h.killSwitch.current())).toBe('RUNNING');
  });

  it('an update delivered twice (same update_id) is answered once', async () => {
    const sent = api.callsOf('sendMessage').length;
    api.push(textUpdate(VIEWER, VIEWER, '/status', 777_001));
    api.push(textUpdate(VIEWER, VIEWER, '/status', 777_001));
    await say(VIEWER, VIEWER, '/help');
    expect(api.callsOf('sendMessage').length).toBe(sent + 2);
    expect(bot.counters.duplicates).toBeGreaterThanOrEqual(1);
  });
});

describe('confirmations', () => {
  it('/pause: one tap by the asker; others cannot confirm it; a second tap does nothing', async () => {
    const [q] = await say(OPERATOR, GROUP, '/pause');
    expect(String(q!.payload.text)).toContain('Pause trading?');
    const data = buttonData(q!);
    expect((await tap(OPERATOR_2, GROUP, data)).toast).toBe('Only the operator who asked can confirm');
    expect(await h.killSwitch.current()).toBe('RUNNING');
    const ok = await tap(OPERATOR, GROUP, data);
    expect(ok.toast).toBe('Paused');
    expect(ok.edit).toContain('PAUSED');
    expect(await h.killSwitch.current()).toBe('PAUSED');
    expect((await h.source.read()).reason).toBe(`telegram ${OPERATOR} @user${OPERATOR}: /pause`);
    expect((await tap(OPERATOR, GROUP, data)).toast).toBe('Already done');
    expect(textOf(await say(OPERATOR, GROUP, '/pause'))).toContain('Already PAUSED');
  });

  it('/resume needs a valid one-time code, once, then the tap', async () => {
    const key = base32Decode(TOTP_SECRET);
    expect(textOf(await say(OPERATOR, OPERATOR, '/resume'))).toContain('followed by the 6-digit code');
    const wrong = String((Number(totp(key, T / 1000)) + 1) % 1_000_000).padStart(6, '0');
    expect(textOf(await say(OPERATOR, OPERATOR, `/resume ${wrong}`))).toContain('not valid now');
    const code = totp(key, T / 1000);
    const [q] = await say(OPERATOR, OPERATOR, `/resume ${code}`);
    expect(String(q!.payload.text)).toContain('Resume trading?');
    expect(textOf(await say(OPERATOR, OPERATOR, `/resume ${code}`))).toContain('used already');
    const ok = await tap(OPERATOR, OPERATOR, buttonData(q!));
    expect(ok.toast).toBe('Resumed');
    expect(await h.killSwitch.current()).toBe('RUNNING');
    // The code is never logged.
    const logged = await h.store.listCommandLog('2026-06-10');
    expect(logged.some((l) => l.command === '/resume ******')).toBe(true);
    expect(JSON.stringify(logged)).not.toContain(code);
  });

  it('a resume racing an emergency stop: the stop wins, the resume tap is refused', async () => {
    h.clock.now = T + 60_000; // a fresh code step
    await h.killSwitch.set('PAUSED', 'test');
    const code = totp(base32Decode(TOTP_SECRET), h.clock.now / 1000);
    const [resumeQ] = await say(OPERATOR, OPERATOR, `/resume ${code}`);
    // Meanwhile another operator stops everything.
    const [stopQ] = await say(OPERATOR_2, GROUP, '/emergency_stop');
    expect(String(stopQ!.payload.text)).toContain('EMERGENCY STOP?');
    expect((await tap(OPERATOR_2, GROUP, buttonData(stopQ!))).toast).toBe('Emergency stop sent');
    expect(await h.killSwitch.current()).toBe('EMERGENCY_STOP');
    const late = await tap(OPERATOR, OPERATOR, buttonData(resumeQ!));
    expect(late.toast).toBe('The kill switch changed: not done');
    expect(textOf(late.sent)).toContain('changed from PAUSED to <b>EMERGENCY_STOP</b>');
    expect(await h.killSwitch.current()).toBe('EMERGENCY_STOP');
    // Nor does a pause relax it, nor is a force exit queued on top of the flattening.
    expect(textOf(await say(OPERATOR, GROUP, '/pause'))).toContain('pausing would relax it');
    const [fx] = await say(OPERATOR, GROUP, '/forceexit DOGEUSDT');
    expect((await tap(OPERATOR, GROUP, buttonData(fx!))).toast).toBe('Emergency stop in progress');
    expect(h.queues.queue('commands').size()).toBe(0);
    await h.killSwitch.set('RUNNING', 'test');
  });

  it('/forceexit: the symbol is checked, the tap queues one operator command for the hot path', async () => {
    h.clock.now = T + 120_000;
    expect(textOf(await say(OPERATOR, GROUP, '/forceexit'))).toContain('Usage: /forceexit SYMBOL');
    expect(textOf(await say(OPERATOR, GROUP, '/forceexit BTCUSDT'))).toContain('BTCUSDT is not traded here (traded: DOGEUSDT, PEPEUSDT)');
    const [q] = await say(OPERATOR, GROUP, '/forceexit dogeusdt');
    expect(String(q!.payload.text)).toContain('9444.52 DOGE, uPnL 11.81 USDT');
    const ok = await tap(OPERATOR, GROUP, buttonData(q!));
    expect(ok.toast).toBe('Force exit queued');
    const [msg] = await h.queues.queue('commands').receive(10, 1000);
    expect(msg!.event).toMatchObject({ type: 'operator_command', command: 'force_exit', symbol: 'DOGEUSDT', requestedBy: `telegram ${OPERATOR} @user${OPERATOR}` });
  });

  it('an expired button and a forged one are refused', async () => {
    const [q] = await say(OPERATOR, GROUP, '/pause');
    const data = buttonData(q!);
    h.clock.now += 121_000;
    expect((await tap(OPERATOR, GROUP, data)).toast).toContain('expired');
    expect((await tap(OPERATOR, GROUP, data.replace(/.$/, data.endsWith('A') ? 'B' : 'A'))).toast).toBe('Not a valid button');
    expect(await h.killSwitch.current()).toBe('RUNNING');
  });
});

describe('jobs and links', () => {
  it('/ml_retrain is queued with a job id; /backtest and /optimize answer now with a job id and again when done', async () => {
    const r = textOf(await say(OPERATOR, OPERATOR, '/ml_retrain'));
    const jobId = /job <code>(retrain-[a-z0-9]+-\d+)<\/code>/.exec(r)?.[1];
    expect(jobId).toBeDefined();
    const [m] = await h.queues.queue('retrain').receive(10, 1000);
    expect(m!.event).toMatchObject({ type: 'retrain_request', jobId, id: `retrain_request:${jobId}` });
    const b = textOf(await say(OPERATOR, OPERATOR, '/backtest'));
    expect(b).toMatch(/Backtest queued as job backtest-/);
    await new Promise((res) => setTimeout(res, 50));
    expect(h.notices.some((n) => /^job backtest-.* done: 3 trades$/.test(n))).toBe(true);
    const o = textOf(await say(OPERATOR, OPERATOR, '/optimize'));
    const optimizeId = /Optimisation queued as job (optimize-[a-z0-9]+-\d+)/.exec(o)?.[1];
    expect(optimizeId).toBeDefined();
    await new Promise((res) => setTimeout(res, 50));
    expect(h.notices).toContain(`Job ${optimizeId} done: walk-forward optimisation`);
    expect(textOf(await say(OPERATOR, OPERATOR, '/dashboard'))).toContain(`https://dash.example/?t=token-for-${OPERATOR}`);
  });

  it('every command is logged to the state table with who sent it and the result', async () => {
    const log = await h.store.listCommandLog('2026-06-10');
    const pause = log.find((l) => l.command === '/pause' && l.userId === String(OPERATOR));
    expect(pause).toMatchObject({ role: 'operator', user: `@user${OPERATOR}` });
    expect(log.some((l) => l.command === 'tap pause' && l.result.includes('PAUSED'))).toBe(true);
    expect(log.some((l) => l.userId === String(VIEWER) && l.result.includes('needs the operator role'))).toBe(true);
    expect(log.some((l) => l.userId === String(STRANGER))).toBe(false);
  });
});

describe('webhook', () => {
  it('checks the secret header first (any case), refuses garbage, de-duplicates by update_id', async () => {
    const hook = createConsoleBot({ token: TOKEN, apiRoot: api.apiRoot, service: h.service, once: new MemoryOnceStore(() => h.clock.now), botInfo: BOT_INFO as never });
    const body = JSON.stringify({ ...textUpdate(VIEWER, VIEWER, '/status'), update_id: 888_001 });
    const problems: unknown[] = [];
    const call = (headers: Record<string, string>, b = body) => handleWebhookRequest(hook, { headers, body: b }, 'the-secret', 5000, (_w, e) => problems.push(e));
    const sent = api.callsOf('sendMessage').length;
    expect((await call({})).statusCode).toBe(401);
    expect((await call({ 'x-telegram-bot-api-secret-token': 'the-secreT' })).statusCode).toBe(401);
    expect(api.callsOf('sendMessage').length).toBe(sent);
    expect((await call({ 'x-telegram-bot-api-secret-token': 'the-secret' }, '{not json')).statusCode).toBe(400);
    expect((await call({ 'x-telegram-bot-api-secret-token': 'the-secret' }, '{"message":{}}')).statusCode).toBe(400);
    expect((await call({ 'x-telegram-bot-api-secret-token': 'the-secret' })).statusCode).toBe(200);
    expect((await call({ 'X-Telegram-Bot-Api-Secret-Token': 'the-secret' })).statusCode).toBe(200);
    expect(api.callsOf('sendMessage').length).toBe(sent + 1);
    expect(hook.counters.duplicates).toBe(1);
    expect(problems).toEqual([]);
  });
});
