/**
 * What a handler accepts as its event, checked before anything reads it: a Lambda can be invoked by
 * hand with any JSON (`null`, a number, `{"Records": [null]}`), and a handler that throws a
 * TypeError on it fails the invocation, trips the Errors alarm and, for an SQS batch, gets the
 * whole batch redelivered. Bad input is counted and dropped instead, never thrown.
 */
import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';

/** The usable records of an SQS batch, and what was dropped. */
export interface SqsBatch {
  /** Records with a message id (the only thing a partial-failure answer can name). */
  readonly records: SQSRecord[];
  /** Records that were not objects with a non-empty string `messageId`: they cannot be reported or retried. */
  readonly dropped: number;
  /** The event was not an SQS batch at all (no `Records` array). */
  readonly notSqs: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether `event` has a `Records` array (an SQS batch, possibly with bad records). */
export function hasRecords(event: unknown): event is { Records: unknown[] } {
  return isObject(event) && Array.isArray(event.Records);
}

/** Splits an SQS event into its usable records and the dropped rest (see SqsBatch). */
export function sqsBatch(event: unknown): SqsBatch {
  if (!hasRecords(event)) return { records: [], dropped: 0, notSqs: true };
  const records: SQSRecord[] = [];
  let dropped = 0;
  for (const r of event.Records) {
    if (isObject(r) && typeof r.messageId === 'string' && r.messageId !== '') records.push(r as unknown as SQSRecord);
    else dropped++;
  }
  return { records, dropped, notSqs: false };
}

/** Whether `event` is an EventBridge scheduled event (`source` aws.events, detail-type Scheduled Event). */
export function isScheduledEvent(event: unknown): event is { time?: string; source: 'aws.events'; 'detail-type': 'Scheduled Event' } {
  return isObject(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event';
}

/** A short description of what an unusable event was, for the log (never its content: it could be anything). */
export function eventShape(event: unknown): string {
  if (event === null) return 'null';
  if (Array.isArray(event)) return `an array of ${event.length}`;
  if (isObject(event)) return `an object with keys ${Object.keys(event).slice(0, 10).join(', ') || '(none)'}`;
  return typeof event;
}

/** A Function URL request, its fields checked for type (what the handlers read of it). */
export interface FunctionUrlRequest {
  /** `requestContext.http.method`, undefined when absent. */
  readonly method: string | undefined;
  /** `rawPath`, undefined when absent. */
  readonly path: string | undefined;
  /** The headers with a string value (others are dropped). */
  readonly headers: Record<string, string>;
  /** The body, decoded from base64 when flagged so; '' when absent. */
  readonly body: string;
  readonly rawQueryString: string;
  /** The query parameters with a string value. */
  readonly query: Record<string, string>;
  readonly sourceIp: string | undefined;
}

const strings = (v: unknown): Record<string, string> | undefined => {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};
const optString = (v: unknown): v is string | undefined | null => v === undefined || v === null || typeof v === 'string';

/**
 * Checks what a Function URL handler reads of its event. A Function URL always sends an object
 * with these fields, but the function can be invoked by hand with anything (`null`, `[]`,
 * `{"rawPath": 7}`): the answer to that is a refusal naming the first bad field (for a 400), never
 * a TypeError out of the handler.
 */
export function functionUrlRequest(event: unknown): { ok: true; request: FunctionUrlRequest } | { ok: false; why: string } {
  if (!isObject(event)) return { ok: false, why: `not a Function URL request (${eventShape(event)})` };
  const rc = event.requestContext;
  if (rc !== undefined && rc !== null && !isObject(rc)) return { ok: false, why: 'requestContext is not an object' };
  const http = isObject(rc) ? rc.http : undefined;
  if (http !== undefined && http !== null && !isObject(http)) return { ok: false, why: 'requestContext.http is not an object' };
  const method = isObject(http) ? http.method : undefined;
  if (!optString(method)) return { ok: false, why: 'requestContext.http.method is not a string' };
  const sourceIp = isObject(http) && typeof http.sourceIp === 'string' ? http.sourceIp : undefined;
  if (!optString(event.rawPath)) return { ok: false, why: 'rawPath is not a string' };
  if (!optString(event.rawQueryString)) return { ok: false, why: 'rawQueryString is not a string' };
  if (!optString(event.body)) return { ok: false, why: 'body is not a string' };
  if (event.isBase64Encoded !== undefined && event.isBase64Encoded !== null && typeof event.isBase64Encoded !== 'boolean') return { ok: false, why: 'isBase64Encoded is not a boolean' };
  const headers = strings(event.headers);
  if (!headers) return { ok: false, why: 'headers is not an object' };
  const query = strings(event.queryStringParameters);
  if (!query) return { ok: false, why: 'queryStringParameters is not an object' };
  const raw = event.body ?? '';
  return {
    ok: true,
    request: {
      method: method ?? undefined,
      path: event.rawPath ?? undefined,
      headers,
      body: event.isBase64Encoded === true ? Buffer.from(raw, 'base64').toString('utf8') : raw,
      rawQueryString: event.rawQueryString ?? '',
      query,
      sourceIp,
    },
  };
}

/**
 * A Step Functions task's input that does not match its schema. Thrown, not answered: for a task
 * the thrown error is the failure signal the state machine acts on (and shows in the execution's
 * history as `EventValidationError` with this message), so it names the fields and what was wrong
 * with each, on one line, rather than zod's JSON dump of issues.
 */
export class EventValidationError extends Error {
  override readonly name = 'EventValidationError';
  constructor(
    readonly handler: string,
    readonly fields: readonly string[],
    message: string,
  ) {
    super(message);
  }
}

/** Parses a task's input with `schema`, or throws an EventValidationError naming each bad field. */
export function parseTaskInput<S extends z.ZodType>(handler: string, schema: S, event: unknown): z.infer<S> {
  const r = schema.safeParse(event);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 10);
  const fields = issues.map((i) => (i.path.length ? i.path.map(String).join('.') : '(the input)'));
  const text = issues.map((i, n) => `${fields[n]!}: ${i.message}`).join('; ');
  throw new EventValidationError(handler, [...new Set(fields)], `${handler}: task input refused (${eventShape(event)}): ${text}`);
}
