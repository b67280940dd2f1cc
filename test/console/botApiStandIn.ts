/**
 * A local stand-in for Telegram's Bot API, over loopback: `POST /bot<token>/<method>` with a JSON
 * or form body. It records every call, hands queued updates to getUpdates (holding the request
 * until one arrives or a second passes, as long polling does), and answers sendMessage,
 * editMessageText, answerCallbackQuery, setWebhook, deleteWebhook and getMe with the shapes
 * Telegram documents. Unknown tokens get Telegram's 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiCall {
  readonly method: string;
  readonly payload: Record<string, unknown>;
}

export interface BotApiStandIn {
  readonly apiRoot: string;
  readonly calls: ApiCall[];
  /** Queues an update for getUpdates (update_id assigned when absent); returns its id. */
  push(update: Record<string, unknown>): number;
  /** Calls of one method. */
  callsOf(method: string): ApiCall[];
  /** Resolves when `cond` holds over the calls (polled every 20 ms, at most `ms`). */
  waitFor(cond: (calls: ApiCall[]) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export const BOT_INFO = { id: 999, is_bot: true, first_name: 'Scalper', username: 'scalper_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false };

export async function startBotApiStandIn(token: string): Promise<BotApiStandIn> {
  const calls: ApiCall[] = [];
  const queue: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  let nextId = 1000;
  let messageId = 1;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void (async () => {
        const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
        const reply = (code: number, json: unknown): void => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        if (!m) return reply(404, { ok: false, error_code: 404, description: 'Not Found' });
        if (m[1] !== token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
        const method = m[2]!;
        let payload: Record<string, unknown> = {};
        if (body) {
          try {
            payload = JSON.parse(body) as Record<string, unknown>;
          } catch {
            payload = Object.fromEntries(new URLSearchParams(body));
          }
        }
        calls.push({ method, payload });
        switch (method) {
          case 'getMe':
            return reply(200, { ok: true, result: BOT_INFO });
          case 'getUpdates': {
            const offset = Number(payload.offset ?? 0);
            while (queue.length && Number(queue[0]!.update_id) < offset) queue.shift();
            if (queue.length === 0) await new Promise<void>((r) => {
              const t = setTimeout(r, 1000);
              waiting.push(() => {
                clearTimeout(t);
                r();
              });
            });
            while (queue.length && Number(queue[0]!.update_id) < offset) queue.shift();
            return reply(200, { ok: true, result: queue.slice(0, 100) });
          }
          case 'sendMessage':
          case 'editMessageText':
            return reply(200, { ok: true, result: { message_id: messageId++, date: 1, chat: { id: Number(payload.chat_id), type: 'private' }, text: typeof payload.text === 'string' ? payload.text : '' } });
          case 'answerCallbackQuery':
          case 'setWebhook':
          case 'deleteWebhook':
            return reply(200, { ok: true, result: true });
          case 'getWebhookInfo':
            return reply(200, { ok: true, result: { url: '', has_custom_certificate: false, pending_update_count: 0 } });
          default:
            return reply(400, { ok: false, error_code: 400, description: `Bad Request: method ${method} is not served by the stand-in` });
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    push(update) {
      // Ids only grow, as Telegram's do: the bot acknowledges by offset, so a lower id would be lost.
      const id = typeof update.update_id === 'number' ? update.update_id : nextId++;
      nextId = Math.max(nextId, id + 1);
      queue.push({ ...update, update_id: id });
      queue.sort((a, b) => Number(a.update_id) - Number(b.update_id));
      for (const w of waiting.splice(0)) w();
      return id;
    },
    callsOf: (method) => calls.filter((c) => c.method === method),
    async waitFor(cond, ms = 10_000) {
      const end = Date.now() + ms;
      while (!cond(calls)) {
        if (Date.now() > end) throw new Error(`stand-in: condition not met; calls: ${calls.map((c) => c.method).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const w of waiting.splice(0)) w();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let seq = 0;

/** A text message update from `userId` in `chatId`. */
export function textUpdate(userId: number, chatId: number, text: string, updateId?: number): Record<string, unknown> {
  return {
    ...(updateId !== undefined ? { update_id: updateId } : {}),
    message: { message_id: ++seq, date: 1_700_000_000, chat: { id: chatId, type: chatId === userId ? 'private' : 'group' }, from: { id: userId, is_bot: false, first_name: `user${userId}`, username: `user${userId}` }, text, entities: text.startsWith('/') ? [{ type: 'bot_command', offset: 0, length: text.split(' ')[0]!.length }] : [] },
  };
}

/** A button tap by `userId` on message 1 of `chatId`. */
export function tapUpdate(userId: number, chatId: number, data: string, updateId?: number): Record<string, unknown> {
  return {
    ...(updateId !== undefined ? { update_id: updateId } : {}),
    callback_query: { id: `cb${++seq}`, chat_instance: 'ci', from: { id: userId, is_bot: false, first_name: `user${userId}`, username: `user${userId}` }, message: { message_id: 1, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, text: 'question' }, data },
  };
}
