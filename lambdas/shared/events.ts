/**
 * What a handler accepts as its event, checked before anything reads it: a Lambda can be invoked by
 * hand with any JSON (`null`, a number, `{"Records": [null]}`), and a handler that throws a
 * TypeError on it fails the invocation, trips the Errors alarm and, for an SQS batch, gets the
 * whole batch redelivered. Bad input is counted and dropped instead, never thrown.
 */
import type { SQSRecord } from 'aws-lambda';

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
