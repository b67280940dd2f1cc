/**
 * Reports to Telegram through grammY's Bot API client: the chart as a photo with the caption
 * (Telegram HTML parse mode, within the 1,024-character limit), then the page as a document.
 * `apiRoot` points the client at a stand-in of the Bot API in tests. The bot token is in every
 * request's path, so errors are re-made here with the token removed and no cause attached.
 */
import { Api, InputFile } from 'grammy';
import { ChannelSendError } from '../../ops/errors.js';
import type { PhotoChannel } from '../../reporting/delivery.js';

export interface TelegramReportOptions {
  /** Read when sending (the secrets port caches it). */
  readonly token: () => Promise<string>;
  readonly chatId: string;
  /** Default https://api.telegram.org. */
  readonly apiRoot?: string;
  /** Bound on each request (default 30 s: a document upload). */
  readonly timeoutSeconds?: number;
}

export class TelegramReportChannel implements PhotoChannel {
  readonly name = 'telegram';
  constructor(private readonly o: TelegramReportOptions) {}

  async send(m: Parameters<PhotoChannel['send']>[0]): Promise<void> {
    const token = await this.o.token();
    const api = new Api(token, { ...(this.o.apiRoot ? { apiRoot: this.o.apiRoot } : {}), timeoutSeconds: this.o.timeoutSeconds ?? 30 });
    const redact = (s: string): string => (token ? s.split(token).join('<token>') : s);
    try {
      if (m.photo) await api.sendPhoto(this.o.chatId, new InputFile(m.photo.bytes, m.photo.name), { caption: m.caption, parse_mode: 'HTML' });
      await api.sendDocument(this.o.chatId, new InputFile(m.document.bytes, m.document.name), m.photo ? (m.document.caption ? { caption: m.document.caption } : {}) : { caption: m.caption, parse_mode: 'HTML' });
    } catch (e) {
      const code = (e as { error_code?: unknown }).error_code;
      const retryable = code === undefined || code === 429 || (typeof code === 'number' && code >= 500);
      throw new ChannelSendError(`Telegram: ${redact(e instanceof Error ? e.message : String(e)).slice(0, 300)}`, this.name, retryable);
    }
  }
}
