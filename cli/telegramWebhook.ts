/**
 * `npm run telegram:webhook -- --url <TelegramWebhookUrl> [--delete] [--api-url <url>]`
 *
 * Registers the deployed webhook with Telegram (setWebhook with its secret token, for messages and
 * button taps only), then prints what Telegram reports (getWebhookInfo). The bot token and the
 * webhook secret come from the environment (TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET) or from
 * Secrets Manager (--token-secret-id, --webhook-secret-id: the stack's TelegramBotTokenSecretArn and
 * TelegramWebhookSecretArn outputs). Neither is ever printed.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Api } from 'grammy';
import { SecretsManagerSecretSource } from '../services/adapters/secrets/secretsManagerSecrets.js';
import { parseTelegramSecret } from '../services/ops/secrets.js';
import { UsageError, parseFlags } from './args.js';

export const TELEGRAM_WEBHOOK_USAGE = `usage: npm run telegram:webhook -- --url <https URL> [--token-secret-id <arn>] [--webhook-secret-id <arn>]
       npm run telegram:webhook -- --delete [--token-secret-id <arn>]

  --url                the TelegramWebhookUrl output of the stack (the webhook Lambda's Function URL)
  --token-secret-id    Secrets Manager id of the bot token (TelegramBotTokenSecretArn); default env TELEGRAM_BOT_TOKEN
  --webhook-secret-id  Secrets Manager id of the webhook secret (TelegramWebhookSecretArn); default env TELEGRAM_WEBHOOK_SECRET
  --delete             remove the webhook (for local long polling with npm start)
  --api-url            the Bot API's base URL (default Telegram's)`;

export interface WebhookIo {
  readonly log: (s: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Reads a secret by id (default Secrets Manager). */
  readonly secret?: (id: string) => Promise<string>;
}

export async function telegramWebhookCommand(argv: readonly string[], io: WebhookIo): Promise<void> {
  const { values: v } = parseFlags(argv, {
    url: { type: 'string' },
    'token-secret-id': { type: 'string' },
    'webhook-secret-id': { type: 'string' },
    delete: { type: 'boolean', default: false },
    'api-url': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (v.help) {
    io.log(TELEGRAM_WEBHOOK_USAGE);
    throw new UsageError('');
  }
  const secret = io.secret ?? ((id: string) => new SecretsManagerSecretSource(new SecretsManagerClient({})).getSecret(id));
  const tokenId = v['token-secret-id'];
  const token = tokenId ? parseTelegramSecret(tokenId, await secret(tokenId)) : io.env.TELEGRAM_BOT_TOKEN;
  if (!token) throw new UsageError('the bot token is needed: --token-secret-id <arn> or TELEGRAM_BOT_TOKEN');
  const api = new Api(token, v['api-url'] ? { apiRoot: v['api-url'] } : undefined);
  if (v.delete) {
    await api.deleteWebhook();
    io.log('webhook removed: the bot can be polled again (npm start with TELEGRAM_BOT_TOKEN)');
    return;
  }
  const url = v.url;
  if (!url) throw new UsageError('--url is required (the stack output TelegramWebhookUrl)');
  if (!/^https:\/\/\S+$/.test(url)) throw new UsageError(`--url must be an https URL, got "${url}"`);
  const hookId = v['webhook-secret-id'];
  const hookSecret = hookId ? (await secret(hookId)).trim() : io.env.TELEGRAM_WEBHOOK_SECRET;
  if (!hookSecret) throw new UsageError('the webhook secret is needed: --webhook-secret-id <arn> or TELEGRAM_WEBHOOK_SECRET');
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(hookSecret)) throw new UsageError('the webhook secret must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram\'s rule)');
  await api.setWebhook(url, { secret_token: hookSecret, allowed_updates: ['message', 'callback_query'], max_connections: 5 });
  const info = await api.getWebhookInfo();
  io.log(`webhook registered: ${info.url} (pending updates ${info.pending_update_count}${info.last_error_message ? `, last error: ${info.last_error_message}` : ''})`);
  io.log('Telegram now sends every update with the secret header; the Lambda refuses any request without it.');
}
