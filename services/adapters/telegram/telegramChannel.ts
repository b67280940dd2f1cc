/**
 * AlertChannel on the Telegram Bot API (`sendMessage`). HTTP goes through an injected `fetch`
 * (the global fetch to https://api.telegram.org in production; tests point `baseUrl` at a loopback
 * server). The bot token is part of the URL path, so it is never put in an error, a log line or a
 * cause: failures carry the HTTP status and Telegram's `description` with the token redacted.
 *
 * Errors: 429 (with `retry_after`) and 5xx and network faults are retryable; other 4xx (bad chat
 * id, bot blocked, bad token) are not, but still fail the record so the dead-letter queue shows it.
 */
import type { AlertEvent } from '../../events/types.js';
import { ChannelSendError } from '../../ops/errors.js';
import type { AlertChannel } from '../../ops/alertDispatch.js';
import type { FormattedAlert } from '../../ops/alertFormat.js';

export const TELEGRAM_API = 'https://api.telegram.org';

/** The part of fetch the channel uses. */
export type HttpFetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

export interface TelegramChannelOptions {
  /** The bot token, read when needed (from the secrets port, cached there). */
  readonly token: () => Promise<string>;
  readonly chatId: string;
  readonly fetch: HttpFetch;
  /** Default https://api.telegram.org. */
  readonly baseUrl?: string;
  /** Bound on one request (default 5000 ms). */
  readonly timeoutMs?: number;
}

function redact(s: string, token: string): string {
  return token ? s.split(token).join('<token>') : s;
}

export class TelegramChannel implements AlertChannel {
  readonly name = 'telegram';
  private readonly baseUrl: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: TelegramChannelOptions) {
    this.baseUrl = (options.baseUrl ?? TELEGRAM_API).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  async send(message: FormattedAlert, _alert: AlertEvent): Promise<void> {
    const token = await this.options.token();
    let res: { status: number; text(): Promise<string> };
    try {
      res = await this.options.fetch(`${this.baseUrl}/bot${token}/sendMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: this.options.chatId, text: message.text, disable_web_page_preview: true }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      // fetch's own errors can quote the URL: keep only a redacted message, no cause object.
      const code = (e as { cause?: { code?: unknown } }).cause?.code;
      const what = e instanceof Error ? `${e.name}${typeof code === 'string' ? ` ${code}` : ''}` : 'error';
      throw new ChannelSendError(`Telegram sendMessage failed: ${redact(what, token)}`, this.name, true);
    }
    const body = await res.text().catch(() => '');
    if (res.status >= 200 && res.status < 300) {
      let ok: unknown;
      try {
        ok = (JSON.parse(body) as { ok?: unknown }).ok;
      } catch {
        ok = undefined;
      }
      if (ok === true) return;
      throw new ChannelSendError(`Telegram sendMessage answered ${res.status} without ok:true`, this.name, true);
    }
    let description = '';
    try {
      const j = JSON.parse(body) as { description?: unknown; parameters?: { retry_after?: unknown } };
      description = typeof j.description === 'string' ? j.description.slice(0, 200) : '';
      if (typeof j.parameters?.retry_after === 'number') description += ` (retry after ${j.parameters.retry_after} s)`;
    } catch {
      description = '';
    }
    const retryable = res.status === 429 || res.status >= 500;
    throw new ChannelSendError(`Telegram sendMessage failed: HTTP ${res.status}${description ? ` ${redact(description, token)}` : ''}`, this.name, retryable);
  }
}
