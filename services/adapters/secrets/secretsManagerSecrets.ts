/**
 * SecretSource on AWS Secrets Manager through Powertools' SecretsProvider, which caches each value
 * for `maxAgeSeconds` (default 300) per process: a warm Lambda does not call Secrets Manager on every
 * invocation, and a rotated secret is picked up within the cache age.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretUnavailableError } from '../../ops/errors.js';
import type { SecretSource } from '../../ops/secrets.js';

export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

export class SecretsManagerSecretSource implements SecretSource {
  private readonly provider: SecretsProvider;

  constructor(
    client: SecretsManagerClient,
    private readonly maxAgeSeconds = DEFAULT_SECRET_MAX_AGE_SECONDS,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  /** The secret's string value; SecretUnavailableError names the id and the error class only. */
  async getSecret(id: string): Promise<string> {
    let value: string | Uint8Array | undefined;
    try {
      value = await this.provider.get(id, { maxAge: this.maxAgeSeconds });
    } catch (e) {
      // The SDK's message can quote the request; keep the class name and the id only.
      const name = e instanceof Error ? ((e.cause as { name?: string } | undefined)?.name ?? e.name) : 'Error';
      throw new SecretUnavailableError(`cannot read secret ${id} (${name})`);
    }
    if (value === undefined) throw new SecretUnavailableError(`secret ${id} has no value`);
    return typeof value === 'string' ? value : new TextDecoder().decode(value);
  }
}
