/**
 * SecretSource for local mode: secrets from environment variables (or a .env file loaded by the
 * caller), under the same ids the cloud uses. A secret id maps to a variable by `mapping`; the MEXC
 * secret can also be assembled from the variables `npm start --live` already uses.
 */
import { SecretUnavailableError } from '../../ops/errors.js';
import type { SecretSource } from '../../ops/secrets.js';

export class EnvSecretSource implements SecretSource {
  /**
   * `env`: the environment (passed in, not read here). `mapping`: secret id -> variable name.
   * The id `mexc` (or any id mapped to `MEXC_API_KEY+MEXC_API_SECRET`) is built as the MEXC JSON.
   */
  constructor(
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly mapping: Readonly<Record<string, string>> = {},
  ) {}

  getSecret(id: string): Promise<string> {
    return Promise.resolve().then(() => this.read(id));
  }

  private read(id: string): string {
    const variable = this.mapping[id] ?? id;
    if (variable === 'MEXC_API_KEY+MEXC_API_SECRET') {
      const apiKey = this.env['MEXC_API_KEY'];
      const apiSecret = this.env['MEXC_API_SECRET'];
      if (!apiKey || !apiSecret) throw new SecretUnavailableError(`secret ${id}: MEXC_API_KEY and MEXC_API_SECRET must both be set`);
      return JSON.stringify({ apiKey, apiSecret });
    }
    const v = this.env[variable];
    if (v === undefined || v === '') throw new SecretUnavailableError(`secret ${id}: environment variable ${variable} is not set`);
    return v;
  }
}
