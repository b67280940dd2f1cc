/**
 * Reconcile Lambda: placeholder. The reconciliation logic belongs in services/recovery/ (the lead
 * writes it); until then this handler fails loudly so a deployed schedule cannot silently succeed.
 */
import middy from '@middy/core';

/** Thrown while the reconcile job is not implemented yet. */
export class ReconcileNotImplementedError extends Error {
  override readonly name = 'ReconcileNotImplementedError';
  constructor(options?: { cause?: unknown }) {
    super('reconcile is not implemented yet (services/recovery/ pending)', options);
  }
}

function reconcile(_event: unknown): Promise<never> {
  return Promise.reject(new ReconcileNotImplementedError());
}

export const handler = middy(reconcile);
