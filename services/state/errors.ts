/**
 * The state store's errors. Each has a literal `name` (bundlers rename classes) and keeps its
 * `cause`; callers switch on the class (`instanceof`), never on the message.
 */
import { DomainError } from '../core/errors.js';

/** A conditional write lost: the item's version was not the expected one (another writer won). */
export class VersionConflictError extends DomainError {
  override readonly name = 'VersionConflictError';
  constructor(
    message: string,
    readonly key: string,
    readonly expectedVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another owner holds a live (unexpired) lease on the symbol. */
export class LeaseHeldError extends DomainError {
  override readonly name = 'LeaseHeldError';
  constructor(
    message: string,
    readonly symbol: string,
    /** The live holder, or undefined when the lease is free or expired (renewing a lease that is not held). */
    readonly holder: string | undefined,
    readonly expiresAt: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The table could not be reached: transient errors persisted past the retry bound, or a non-retryable failure. */
export class StateUnavailableError extends DomainError {
  override readonly name = 'StateUnavailableError';
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An item failed validation when read; it was moved to the quarantine partition. Carried in a QuarantineReport. */
export class QuarantinedItemError extends DomainError {
  override readonly name = 'QuarantinedItemError';
}
