/** Error classes of the core. Each has a `name`, an `Error` suffix and keeps its `cause`. */

export class DomainError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input data (a candle file, a frame) that cannot be used. The message says where and why. */
export class DataValidationError extends DomainError {}

/** A configuration value that does not fit the schema. The message names the field's path. */
export class ConfigError extends DomainError {}

/** An operation the current state does not allow (e.g. an illegal order transition). */
export class InvalidStateError extends DomainError {}
