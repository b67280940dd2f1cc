/**
 * The kill switch for the Lambdas: reads through Powertools' SSMProvider (cached per process for
 * `maxAgeSeconds`, or always fresh with `fresh: true`, which the emergency stop uses: it must act on
 * the value that is stored now, not on one cached a few seconds ago), writes through the project's
 * SsmKillSwitchSource (PutParameter with the reason as description). After a write the cache is
 * bypassed once, so a sweep never reads back its own stale value.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SsmKillSwitchSource, isTransientSsmError } from '../../services/adapters/ssm/ssmKillSwitch.js';
import { KillSwitchReadError, type KillSwitchReading, type KillSwitchSource, type KillSwitchState } from '../../services/control/killSwitch.js';

export class CachedSsmKillSwitchSource implements KillSwitchSource {
  private readonly provider: SSMProvider;
  private readonly writer: SsmKillSwitchSource;
  private dirty = false;

  constructor(
    client: SSMClient,
    private readonly parameterName: string,
    private readonly options: { readonly maxAgeSeconds?: number; readonly fresh?: boolean } = {},
  ) {
    this.provider = new SSMProvider({ awsSdkV3Client: client });
    this.writer = new SsmKillSwitchSource(client, parameterName);
  }

  async read(): Promise<KillSwitchReading> {
    const forceFetch = this.options.fresh === true || this.dirty;
    try {
      const value = await this.provider.get(this.parameterName, { maxAge: this.options.maxAgeSeconds ?? 5, forceFetch });
      this.dirty = false;
      if (value === undefined) return { value: '', problem: `SSM parameter ${this.parameterName} has no value` };
      return { value };
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause ?? e;
      if ((cause as { name?: unknown }).name === 'ParameterNotFound') return { value: '', problem: `SSM parameter ${this.parameterName} does not exist` };
      throw new KillSwitchReadError(`cannot read SSM parameter ${this.parameterName}: ${cause instanceof Error ? cause.name : 'Error'}`, { cause, retryable: isTransientSsmError(cause) });
    }
  }

  async write(state: KillSwitchState, reason: string): Promise<void> {
    this.dirty = true;
    await this.writer.write(state, reason);
  }
}
