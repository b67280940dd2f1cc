/**
 * Error classes of the core. Each has an `Error` suffix, keeps its `cause`, and declares its `name`
 * as a literal: bundlers rename classes (the Lambdas are minified), so a name taken from the class
 * (`new.target.name`, `constructor.name`) would read "o" in production. Code decides on an error's
 * type (`instanceof`) or on its `kind`, never on its name or message text; the literal name is
 * for logs and reports.
 */

export class DomainError extends Error {
  override readonly name: string = 'DomainError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input data (a candle file, a frame) that cannot be used. The message says where and why. */
export class DataValidationError extends DomainError {
  override readonly name: string = 'DataValidationError';
}

/** A configuration value that does not fit the schema. The message names the field's path. */
export class ConfigError extends DomainError {
  override readonly name: string = 'ConfigError';
}

/** An operation the current state does not allow (e.g. an illegal order transition). */
export class InvalidStateError extends DomainError {
  override readonly name: string = 'InvalidStateError';
}
