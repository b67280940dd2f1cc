/**
 * The console on Telegram, with grammY: updates become ConsoleService calls, answers become
 * sendMessage / answerCallbackQuery / editMessageText calls. Two ways in:
 *
 * - long polling (`startPolling`), for `npm start` with a bot token in the environment;
 * - the webhook (`handleWebhookRequest`), for the Lambda behind a Function URL: the secret header
 *   is checked in constant time before anything else is read, the body is parsed and bounded, and
 *   the update is handled within a time bound, so Telegram gets its answer in time.
 *
 * Both de-duplicate by `update_id` (Telegram resends an update it thinks was not delivered) through
 * the OnceStore before the service sees it. Telegram's limits are the service's concern (paged HTML
 * of at most 4,096 characters); this adapter sends what it is given, in order.
 */
import { Bot, type Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { ConsoleService, Answer } from '../../console/consoleService.js';
import type { OnceStore } from '../../console/ports.js';
import { hasWebhookSecret } from '../../console/signing.js';

/** How long an update id is remembered (Telegram gives up on an update within a day). */
const UPDATE_TTL_MS = 24 * 3_600_000;
/** Largest webhook body read (an update is a few KB). */
export const MAX_UPDATE_BYTES = 256 * 1024;

export interface ConsoleBotOptions {
  readonly token: string;
  /** The Bot API's base URL (tests: the local stand-in). Default Telegram's. */
  readonly apiRoot?: string;
  readonly service: ConsoleService;
  readonly once: OnceStore;
  /** getMe's answer, when known, saves the call on a Lambda's cold start. */
  readonly botInfo?: UserFromGetMe;
  /** Failures of a handler or an API call (logged by the caller; never the token). */
  readonly onProblem?: (what: string, error: unknown) => void;
}

/** Counters for tests and logs. */
export interface BotCounters {
  updates: number;
  duplicates: number;
  sent: number;
}

export interface ConsoleBot {
  readonly bot: Bot;
  readonly counters: BotCounters;
  /** Sends an HTML message to a chat (job answers, notices). */
  send(chatId: number, html: string): Promise<void>;
}

/** Builds the bot: dedup, commands, taps. */
export function createConsoleBot(opts: ConsoleBotOptions): ConsoleBot {
  const bot = new Bot(opts.token, {
    ...(opts.botInfo ? { botInfo: opts.botInfo } : {}),
    client: { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}), timeoutSeconds: 10 },
  });
  const counters: BotCounters = { updates: 0, duplicates: 0, sent: 0 };
  const problem = (what: string, e: unknown): void => {
    try {
      opts.onProblem?.(what, e);
    } catch {
      /* the reporter's own failure */
    }
  };
  const send = async (chatId: number, html: string, buttons?: Answer['messages'][number]['buttons']): Promise<void> => {
    await bot.api.sendMessage(chatId, html, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...(buttons ? { reply_markup: { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) } } : {}),
    });
    counters.sent++;
  };
  const deliver = async (chatId: number, answer: Answer): Promise<void> => {
    for (const m of answer.messages) await send(chatId, m.html, m.buttons);
  };

  bot.use(async (ctx, next) => {
    counters.updates++;
    if (!(await opts.once.claim(`telegram-update:${ctx.update.update_id}`, UPDATE_TTL_MS))) {
      counters.duplicates++;
      return;
    }
    await next();
  });
  bot.on('message:text', async (ctx: Context) => {
    const msg = ctx.message!;
    const from = msg.from;
    if (!from || from.is_bot) return;
    const answer = await opts.service.onMessage(ctx.update.update_id, msg.chat.id, { id: from.id, ...(from.username ? { username: from.username } : {}), firstName: from.first_name }, msg.text ?? '');
    if (answer) await deliver(msg.chat.id, answer);
  });
  bot.on('callback_query:data', async (ctx: Context) => {
    const q = ctx.callbackQuery!;
    const chatId = q.message?.chat.id;
    if (chatId === undefined) return;
    const answer = await opts.service.onTap(ctx.update.update_id, chatId, { id: q.from.id, ...(q.from.username ? { username: q.from.username } : {}), firstName: q.from.first_name }, q.data ?? '');
    if (!answer) return;
    await ctx.answerCallbackQuery(answer.toast ? { text: answer.toast.slice(0, 200) } : {});
    if (answer.editTo && q.message) {
      await ctx.api.editMessageText(chatId, q.message.message_id, answer.editTo, { parse_mode: 'HTML' }).catch((e: unknown) => problem('editing the confirmation', e));
    }
    // The answer's text replaces the question; other messages (a refusal) are sent.
    if (!answer.editTo) await deliver(chatId, answer);
  });
  bot.catch((err) => problem(`update ${err.ctx.update.update_id}`, err.error));
  return { bot, counters, send: (chatId, html) => send(chatId, html) };
}

export interface Polling {
  /** True once polling runs; false if it was stopped first or Telegram refused the token. Never rejects. */
  readonly ready: Promise<boolean>;
  /** Ends polling, or the attempts to reach the Bot API; bounded by `stopWithinMs`. */
  stop(): Promise<void>;
}

export interface PollingOptions {
  /** First wait between attempts to reach the Bot API, doubled up to `maxRetryMs`. */
  readonly firstRetryMs?: number;
  readonly maxRetryMs?: number;
  /** Longest `stop()` waits for grammY to confirm the update offset with Telegram. */
  readonly stopWithinMs?: number;
}

/**
 * Long polling (local mode). Returns at once: the bot reaches Telegram in the background, so an
 * unreachable Bot API (offline, a firewall) never holds up trading or a shutdown. grammY's own
 * `init` retries a network error for ever and silently; here each attempt is one `getMe` bounded by
 * the client's timeout, the first failure and every tenth are reported, and `stop()` ends the
 * attempts. A token Telegram refuses (401, 404) is reported once and the bot stays off.
 */
export function startPolling(b: ConsoleBot, onProblem: (what: string, e: unknown) => void, opts: PollingOptions = {}): Polling {
  const abort = new AbortController();
  let stopped = false;
  const first = opts.firstRetryMs ?? 2_000;
  const max = opts.maxRetryMs ?? 60_000;
  // Each wait removes its abort listener when it ends: offline for a day is about 1,500 waits.
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  const report = (what: string, e: unknown): void => {
    try {
      onProblem(what, e);
    } catch {
      /* the reporter's own failure */
    }
  };
  const ready = (async (): Promise<boolean> => {
    for (let attempt = 1, wait = first; !b.bot.isInited(); attempt++, wait = Math.min(max, wait * 2)) {
      if (stopped) return false;
      try {
        // grammY types its signal with its abort-controller shim; a native one is what it uses at run time.
        b.bot.botInfo = await b.bot.api.getMe(abort.signal as unknown as Parameters<typeof b.bot.api.getMe>[0]);
      } catch (e) {
        if (stopped) return false;
        const code = (e as { error_code?: unknown }).error_code;
        if (code === 401 || code === 404) {
          report('Telegram refused the bot token (check TELEGRAM_BOT_TOKEN); the bot is off', e);
          return false;
        }
        if (attempt === 1 || attempt % 10 === 0) report(`the Bot API cannot be reached (attempt ${attempt}; next try in ${Math.round(wait / 1000)} s, backing off to one every ${Math.round(max / 1000)} s; trading goes on)`, e);
        await pause(wait);
      }
    }
    if (stopped) return false;
    // Local polling and a registered webhook exclude each other: grammY's start deletes the webhook
    // first. `isRunning()` is true as soon as start is called, so a stop from now on ends it.
    void b.bot.start({ allowed_updates: ['message', 'callback_query'], drop_pending_updates: false }).catch((e: unknown) => {
      if (!stopped) report('polling', e);
    });
    return true;
  })();
  return {
    ready,
    stop: async () => {
      stopped = true;
      abort.abort();
      await ready;
      if (!b.bot.isRunning()) return;
      let t: NodeJS.Timeout | undefined;
      await Promise.race([b.bot.stop().catch(() => undefined), new Promise<void>((r) => (t = setTimeout(r, opts.stopWithinMs ?? 5_000)))]);
      clearTimeout(t);
    },
  };
}

export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | undefined;
  readonly isBase64Encoded?: boolean;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: string;
}

/**
 * One webhook call: 401 without the right secret (checked first, in constant time), 400 for a body
 * that is not an update, 200 once handled (also when the handler failed: it is logged, and a
 * retried update would only be a duplicate). The handler is bounded by `budgetMs`.
 */
export async function handleWebhookRequest(b: ConsoleBot, req: WebhookRequest, secret: string, budgetMs: number, onProblem: (what: string, e: unknown) => void): Promise<WebhookResponse> {
  if (!hasWebhookSecret(req.headers, secret)) return { statusCode: 401, body: 'unauthorized' };
  const raw = req.body === undefined ? '' : req.isBase64Encoded ? Buffer.from(req.body, 'base64').toString('utf8') : req.body;
  if (raw.length > MAX_UPDATE_BYTES) return { statusCode: 413, body: 'too large' };
  let update: Update;
  try {
    update = JSON.parse(raw) as Update;
  } catch {
    return { statusCode: 400, body: 'not JSON' };
  }
  if (typeof update !== 'object' || update === null || !Number.isSafeInteger(update.update_id)) return { statusCode: 400, body: 'not an update' };
  if (!b.bot.isInited()) await b.bot.init();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), budgetMs)));
  try {
    const r = await Promise.race([b.bot.handleUpdate(update).then(() => 'ok' as const), timeout]);
    if (r === 'timeout') onProblem(`update ${update.update_id}`, new Error(`not handled within ${budgetMs} ms`));
  } catch (e) {
    onProblem(`update ${update.update_id}`, e);
  } finally {
    clearTimeout(timer);
  }
  return { statusCode: 200, body: 'ok' };
}
