/** Errors of the ML models, their store and their lifecycle. */
import { DomainError } from '../core/errors.js';

/** A batch, label set or option that a model cannot use (wrong shape, non-finite values). */
export class ModelInputError extends DomainError {
  override readonly name: string = 'ModelInputError';
}

/** A model artifact that cannot be loaded (missing file, wrong format, weights that do not fit). */
export class ModelFormatError extends DomainError {
  override readonly name: string = 'ModelFormatError';
}

/** The model store could not read or write a model (the cause says why). */
export class ModelStoreError extends DomainError {
  override readonly name: string = 'ModelStoreError';
}
