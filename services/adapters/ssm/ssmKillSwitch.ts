/**
 * The kill switch in AWS: an SSM String parameter holding RUNNING, PAUSED or EMERGENCY_STOP.
 *
 * - read: GetParameter. A missing parameter is returned as an unusable reading (the KillSwitch treats
 *   it as PAUSED and reports it). In AWS the stack creates the parameter, so its absence means a
 *   misconfigured name or a deleted parameter: the operator has lost the off switch, and trading on
 *   without one is the unsafe choice. (Locally, where there is no stack, a missing file is RUNNING.)
 * - Any other failure (throttling, 5xx, network, access denied) throws KillSwitchReadError, which the
 *   KillSwitch turns into "keep the last good value, then PAUSED after maxStaleMs".
 * - write: PutParameter with Overwrite; the reason goes to the parameter's Description, so the
 *   console and `aws ssm describe-parameters` show who paused and why.
 * - who changed it: GetParameter does not return the description, so when the value differs from
 *   the one this source read last, the newest version's description is read from
 *   GetParameterHistory (granted with the parameter's read access; at most 3 pages of 50, since
 *   SSM keeps 100 versions) and returned as the reading's reason. A failure there costs only the
 *   reason, never the value.
 *
 * The client is created once per process by the caller (and configured with its region, retries).
 */
import { GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import {
  KillSwitchReadError,
  KillSwitchWriteError,
  type KillSwitchReading,
  type KillSwitchSource,
  type KillSwitchState,
} from '../../control/killSwitch.js';
import { isTransientAwsError } from '../awsErrors.js';

/** SSM's limit on a parameter description; longer reasons are cut. */
export const MAX_SSM_DESCRIPTION = 1024;

/** Error names SSM (and the SDK) use for throttling and transient server faults. */
const TRANSIENT_NAMES = new Set(['ThrottlingException', 'TooManyUpdates', 'InternalServerError', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError', 'SsmTimeoutError', 'AbortError']);

/** Whether an SSM call's error is throttling, a 5xx or a network fault (worth reading again later). */
export function isTransientSsmError(e: unknown): boolean {
  return isTransientAwsError(e, TRANSIENT_NAMES);
}

/** Default bound on one SSM call: the hot path polls every 5 s and must not wait on a hung request. */
export const DEFAULT_SSM_TIMEOUT_MS = 3000;

/** An SSM call that did not answer within the timeout; it was aborted. */
export class SsmTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SsmTimeoutError';
  }
}

/** KillSwitchSource over one SSM parameter; see the file comment. */
export class SsmKillSwitchSource implements KillSwitchSource {
  private readonly timeoutMs: number;
  /** The value and reason of the last read, so the history is read only when the value changes. */
  private last: { value: string; version: number | undefined; reason: string | undefined } | undefined;

  /** `timeoutMs` bounds each GetParameter/PutParameter call (default 3000). */
  constructor(
    private readonly client: SSMClient,
    readonly parameterName: string,
    options: { timeoutMs?: number } = {},
  ) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_SSM_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
  }

  /** GetParameter; a missing parameter reads as unusable (PAUSED), other errors throw KillSwitchReadError. */
  async read(): Promise<KillSwitchReading> {
    try {
      const out = await this.bounded((signal) => this.client.send(new GetParameterCommand({ Name: this.parameterName }), { abortSignal: signal }));
      const value = out.Parameter?.Value;
      if (value === undefined) return { value: '', problem: `SSM parameter ${this.parameterName} has no value` };
      const version = out.Parameter?.Version;
      let reason = this.last?.reason;
      if (this.last === undefined || this.last.value !== value || this.last.version !== version) reason = await this.latestDescription();
      this.last = { value, version, reason };
      return { value, ...(reason ? { reason } : {}) };
    } catch (e) {
      if ((e as { name?: unknown }).name === 'ParameterNotFound') {
        return { value: '', problem: `SSM parameter ${this.parameterName} does not exist` };
      }
      throw new KillSwitchReadError(`cannot read SSM parameter ${this.parameterName}: ${describe(e)}`, { cause: e, retryable: isTransientSsmError(e) });
    }
  }

  /** The description of the parameter's newest version (who wrote it and why), or undefined. */
  private async latestDescription(): Promise<string | undefined> {
    try {
      let token: string | undefined;
      let newest: string | undefined;
      for (let page = 0; page < 3; page++) {
        const out = await this.bounded((signal) =>
          this.client.send(new GetParameterHistoryCommand({ Name: this.parameterName, MaxResults: 50, ...(token ? { NextToken: token } : {}) }), { abortSignal: signal }),
        );
        const versions = out.Parameters ?? [];
        if (versions.length > 0) newest = versions[versions.length - 1]?.Description;
        token = out.NextToken;
        if (!token) break;
      }
      return newest?.slice(0, MAX_SSM_DESCRIPTION);
    } catch {
      return undefined;
    }
  }

  /**
   * PutParameter (String, Overwrite) with the reason as the description; errors throw
   * KillSwitchWriteError. After a timeout the write may still have happened: read to find out.
   */
  async write(state: KillSwitchState, reason: string): Promise<void> {
    try {
      await this.bounded((signal) =>
        this.client.send(
          new PutParameterCommand({
            Name: this.parameterName,
            Value: state,
            Type: 'String',
            Overwrite: true,
            // An empty description is rejected by SSM; omit it instead.
            ...(reason ? { Description: reason.slice(0, MAX_SSM_DESCRIPTION) } : {}),
          }),
          { abortSignal: signal },
        ),
      );
    } catch (e) {
      throw new KillSwitchWriteError(`cannot write SSM parameter ${this.parameterName}: ${describe(e)}`, { cause: e });
    }
  }

  /**
   * Runs one call with an abort signal and a timer: the signal cancels the HTTP request, and the race
   * makes sure the caller is released even if the request ignores it.
   */
  private async bounded<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new SsmTimeoutError(`no answer from SSM within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([call(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
