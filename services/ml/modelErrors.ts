/** Errors of the ML models, their store and their lifecycle. */
import { DomainError } from '../core/errors.js';

/** A batch, label set or option that a model cannot use (wrong shape, non-finite values). */
export class ModelInputError extends DomainError {}

/** A model artifact that cannot be loaded (missing file, wrong format, weights that do not fit). */
export class ModelFormatError extends DomainError {}

/** The model store could not read or write a model (the cause says why). */
export class ModelStoreError extends DomainError {}
