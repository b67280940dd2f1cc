/** Errors of the operational jobs (risk sweep, emergency stop, alert dispatch). */
import { DomainError } from '../core/errors.js';

/** Base class of the ops errors. */
export class OpsError extends DomainError {
  override readonly name: string = 'OpsError';
}

/** A queue record that cannot be an alert (bad JSON, wrong schema, wrong event type): fails only that record. */
export class MalformedAlertRecordError extends OpsError {
  override readonly name: string = 'MalformedAlertRecordError';
}

/**
 * One or more channels could not deliver an alert. The record fails, so SQS delivers it again
 * (channels that did deliver are remembered by the ledger and are not sent twice).
 */
export class AlertDeliveryError extends OpsError {
  override readonly name: string = 'AlertDeliveryError';
  constructor(
    message: string,
    /** Channel names that failed. */
    readonly failedChannels: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A channel refused or could not take a message. `retryable` says whether a later attempt can help. */
export class ChannelSendError extends OpsError {
  override readonly name: string = 'ChannelSendError';
  constructor(
    message: string,
    readonly channel: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A secret could not be read (missing, access denied, network). The message names the secret id, never its value. */
export class SecretUnavailableError extends OpsError {
  override readonly name: string = 'SecretUnavailableError';
}

/** A secret was read but does not have the expected shape. The message names the fields, never the values. */
export class SecretFormatError extends OpsError {
  override readonly name: string = 'SecretFormatError';
}
