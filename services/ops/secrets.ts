/**
 * The secrets port and the shapes of the secrets the jobs read. Values never appear in errors or
 * logs: messages name the secret id and the fields, never the content.
 *
 * Scheme (one of the two the deployment issue allowed): one Secrets Manager secret per credential
 * set, named by an environment variable:
 * - `MEXC_SECRET_ID`: JSON `{"apiKey": "...", "apiSecret": "..."}`.
 * - `TELEGRAM_SECRET_ID`: the bot token as plain text, or JSON `{"token": "..."}`.
 * Locally the env adapter (services/adapters/secrets/envSecrets.ts) serves the same ids from
 * environment variables.
 */
import { z } from 'zod';
import { SecretFormatError } from './errors.js';

/** Reads a secret's text by id. Throws SecretUnavailableError. */
export interface SecretSource {
  getSecret(id: string): Promise<string>;
}

export interface MexcCredentials {
  readonly apiKey: string;
  readonly secret: string;
}

const mexcSecretSchema = z.object({ apiKey: z.string().min(1), apiSecret: z.string().min(1) });

/** Parses the MEXC secret; SecretFormatError names the missing fields (never the values). */
export function parseMexcSecret(id: string, text: string): MexcCredentials {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SecretFormatError(`secret ${id} is not JSON (expected {"apiKey": ..., "apiSecret": ...})`);
  }
  const r = mexcSecretSchema.safeParse(json);
  if (!r.success) throw new SecretFormatError(`secret ${id} lacks ${r.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')} (expected {"apiKey": ..., "apiSecret": ...})`);
  return { apiKey: r.data.apiKey, secret: r.data.apiSecret };
}

/** Parses the Telegram secret: a plain token, or JSON with `token`. */
export function parseTelegramSecret(id: string, text: string): string {
  const t = text.trim();
  if (t.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch {
      throw new SecretFormatError(`secret ${id} starts like JSON but is not JSON`);
    }
    const token = (json as { token?: unknown }).token;
    if (typeof token !== 'string' || token.length === 0) throw new SecretFormatError(`secret ${id} has no "token" field`);
    return token;
  }
  if (t.length === 0) throw new SecretFormatError(`secret ${id} is empty`);
  return t;
}
