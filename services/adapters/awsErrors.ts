/**
 * Which AWS SDK v3 errors are worth another attempt: the service's throttling and timeout names,
 * any error the SDK marks `$retryable`, a 5xx, or a network fault. Shared by the SQS and SSM
 * adapters, each with its own list of error names.
 */

/** Node network error codes after which another attempt can succeed. */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/** True when `e` is throttling or a timeout (by `transientNames`), retryable per the SDK, a 5xx, or a network fault. */
export function isTransientAwsError(e: unknown, transientNames: ReadonlySet<string>): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (typeof err.name === 'string' && transientNames.has(err.name)) return true;
  if (typeof err.code === 'string' && TRANSIENT_NETWORK_CODES.has(err.code)) return true;
  if (err.$retryable !== undefined) return true;
  const status = err.$metadata?.httpStatusCode;
  return status !== undefined && status >= 500;
}
