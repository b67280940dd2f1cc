/**
 * Domain events that leave the hot path (trade closed, alert, retrain request) or the console
 * (operator command, backtest request), their schemas, the
 * ports that carry them, and which queue each goes to.
 *
 * Delivery is at-least-once (SQS standard queues, and the in-process queue that mimics them): an
 * event can arrive twice and in any order. So every event carries an `id` chosen by the producer
 * and derived from what the event is about (the trade's id, the alert's dedup key and time), never
 * random: a producer that retries after a crash sends the same id, and consumers de-duplicate on it.
 *
 * Routing (one queue per consumer, each with a dead-letter queue):
 *
 * | event type        | queue     | consumer (issue 5)                                   |
 * |-------------------|-----------|------------------------------------------------------|
 * | `trade_closed`    | `events`  | analytics, reports, daily stats                      |
 * | `alert`           | `alerts`  | the alert dispatcher (SNS, Telegram)                 |
 * | `retrain_request` | `retrain` | the retrain Lambda                                   |
 * | `operator_command`| `commands`| the hot path (an operator's /forceexit: only the lease holder trades) |
 * | `backtest_request`| `backtests`| the backtest Lambda (an operator's /backtest, answered through `alerts`) |
 *
 * Bodies are JSON. Decimals (prices, quantities, PnL) travel as strings so no float rounding creeps
 * in; times are epoch ms. On receipt a body is validated with `domainEventSchema`; unknown keys are
 * dropped rather than rejected, so a producer deployed before its consumer can add a field without
 * sending every message to the dead-letter queue.
 */
import { z } from 'zod';
import { Dec } from '../core/money.js';
import { DomainError } from '../core/errors.js';
import type { ClosedTrade } from '../analytics/types.js';

/** Logical queue names; the deployment (or localSqs) maps them to real queues, each with a DLQ. */
export type QueueName = 'events' | 'alerts' | 'retrain' | 'commands' | 'backtests';
export const QUEUE_NAMES: readonly QueueName[] = ['events', 'alerts', 'retrain', 'commands', 'backtests'];

/** Largest message body, in UTF-8 bytes: SQS's limit (256 KiB). Bigger events are rejected at publish. */
export const MAX_EVENT_BYTES = 256 * 1024;

/** An event id: 1-128 characters of letters, digits and `:_.-` (safe as a key in DynamoDB and logs). */
const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9:_.-]+$/, 'id may contain only letters, digits and : _ . -');
/** Epoch milliseconds. */
const timeSchema = z.number().int().nonnegative();
/** A finite decimal as a string, e.g. "-12.5" or "0.00001". */
const decimalSchema = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string such as "12.5"');

/** A ClosedTrade with its decimals as strings. */
export const serialisedTradeSchema = z.object({
  id: z.string().min(1).max(128),
  symbol: z.string().min(1).max(32),
  direction: z.enum(['long', 'short']),
  entryTime: timeSchema,
  exitTime: timeSchema,
  entryPrice: decimalSchema,
  exitPrice: decimalSchema,
  quantity: decimalSchema,
  fees: decimalSchema,
  grossPnl: decimalSchema,
  netPnl: decimalSchema,
  exitReason: z.string().min(1).max(64),
  exits: z.number().int().nonnegative(),
  returnPct: z.number().finite(),
});
export type SerialisedTrade = z.infer<typeof serialisedTradeSchema>;

export const tradeClosedEventSchema = z.object({
  type: z.literal('trade_closed'),
  id: idSchema,
  time: timeSchema,
  trade: serialisedTradeSchema,
});

export const alertSeveritySchema = z.enum(['info', 'warning', 'critical']);
export type AlertSeverity = z.infer<typeof alertSeveritySchema>;

export const alertEventSchema = z.object({
  type: z.literal('alert'),
  id: idSchema,
  time: timeSchema,
  severity: alertSeveritySchema,
  /** One line, for a phone notification. */
  title: z.string().min(1).max(200),
  detail: z.string().max(4000),
  /** Alerts with the same key are one problem; the dispatcher sends it once per window. */
  dedupKey: z.string().min(1).max(128).optional(),
});

export const retrainRequestEventSchema = z.object({
  type: z.literal('retrain_request'),
  id: idSchema,
  time: timeSchema,
  reason: z.string().min(1).max(500),
  symbol: z.string().min(1).max(32).optional(),
  /** Set when an operator asked for it (Telegram /ml_retrain): the job whose answer the run sends. */
  jobId: idSchema.optional(),
});

/**
 * An operator's command for the hot path, which alone holds the symbols' leases and so alone may
 * trade them: `force_exit` closes the symbol's open position at market through the executor.
 * Pausing and stopping go through the kill switch instead (it survives restarts on its own).
 */
export const operatorCommandEventSchema = z.object({
  type: z.literal('operator_command'),
  id: idSchema,
  time: timeSchema,
  command: z.literal('force_exit'),
  symbol: z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected an upper-case symbol such as BTCUSDT'),
  /** Who asked (e.g. "telegram:12345 @name"), for the log and the answer; never a secret. */
  requestedBy: z.string().min(1).max(200),
});

/** Longest backtest an operator may ask for, in days of the candle archive. */
export const MAX_BACKTEST_DAYS = 90;

/**
 * An operator's backtest job (Telegram /backtest): the kernel backtest of the traded symbols over
 * the candle archive's last `days` days (the runner's default when absent), answered in the chat.
 * The id is derived from the job id, so a retried publish is the same event.
 */
export const backtestRequestEventSchema = z.object({
  type: z.literal('backtest_request'),
  id: idSchema,
  time: timeSchema,
  /** Names the job's folder (backtests/<jobId>/): it starts with a letter or digit, so it is never "." or "..". */
  jobId: idSchema.regex(/^[A-Za-z0-9]/, 'a job id starts with a letter or digit'),
  /** Who asked (e.g. "telegram:12345 @name"), for the log and the answer; never a secret. */
  requestedBy: z.string().min(1).max(200),
  days: z.number().int().min(1).max(MAX_BACKTEST_DAYS).optional(),
});

/** The schema every received body is validated with. */
export const domainEventSchema = z.discriminatedUnion('type', [tradeClosedEventSchema, alertEventSchema, retrainRequestEventSchema, operatorCommandEventSchema, backtestRequestEventSchema]);

export type TradeClosedEvent = z.infer<typeof tradeClosedEventSchema>;
export type AlertEvent = z.infer<typeof alertEventSchema>;
export type RetrainRequestEvent = z.infer<typeof retrainRequestEventSchema>;
export type OperatorCommandEvent = z.infer<typeof operatorCommandEventSchema>;
export type BacktestRequestEvent = z.infer<typeof backtestRequestEventSchema>;
/** Any event on the queues. */
export type DomainEvent = z.infer<typeof domainEventSchema>;
export type DomainEventType = DomainEvent['type'];

/** Which queue each event type goes to (see the table in the file comment). */
export const QUEUE_FOR_EVENT: Readonly<Record<DomainEventType, QueueName>> = {
  trade_closed: 'events',
  alert: 'alerts',
  retrain_request: 'retrain',
  operator_command: 'commands',
  backtest_request: 'backtests',
};

/** The queue an event is published to. */
export function queueFor(event: DomainEvent): QueueName {
  return QUEUE_FOR_EVENT[event.type];
}

/** Producer side of the queues. `publish` resolves once the event is stored by the queue. */
export interface EventPublisher {
  /** Validates, routes by type and stores the event; throws EventValidationError, QueueFullError or EventPublishError. */
  publish(event: DomainEvent): Promise<void>;
}

/** One delivery of an event. The same event can be delivered again (at-least-once). */
export interface ReceivedEvent {
  /** Handle of this delivery, for ack/nack; a later delivery of the same message has a new one. */
  readonly receiptHandle: string;
  readonly event: DomainEvent;
  /** How many times the message has been delivered, this delivery included (1 the first time). */
  readonly receiveCount: number;
}

/**
 * Consumer side of one queue. A received message is invisible to other receives for `visibilityMs`;
 * unless acked in that time it is delivered again, and after the queue's maximum number of receives
 * it goes to the dead-letter queue. Order is not guaranteed. Malformed bodies are reported and sent
 * to the dead-letter queue, never returned or thrown.
 */
export interface EventQueue {
  /** Up to `max` (1-10) events, each hidden for `visibilityMs`; an empty array when none is available. */
  receive(max: number, visibilityMs: number): Promise<ReceivedEvent[]>;
  /** Deletes the delivered message. A stale handle (the message was delivered again since) may be ignored. */
  ack(receiptHandle: string): Promise<void>;
  /**
   * Gives the message back: visible again after `delayMs` (default 0). The receive it came from
   * still counts towards the queue's maximum, so a message nacked forever ends in the dead-letter queue.
   */
  nack(receiptHandle: string, delayMs?: number): Promise<void>;
}

/** Something a queue could not deliver; reported to the operator, never thrown into the consumer loop. */
export interface QueueProblem {
  readonly kind: 'malformed' | 'dead_letter_failed' | 'dead_letter_overflow';
  readonly queue: string;
  /** The transport's message id, when there is one. */
  readonly messageId?: string;
  /** What was wrong (schema issues, JSON error). Never the whole body: it is cut to BODY_PREVIEW chars. */
  readonly detail: string;
  readonly bodyPreview: string;
}

/** Characters of a bad body quoted in a QueueProblem. */
export const BODY_PREVIEW = 200;

/** Base class of event errors. */
export class EventError extends DomainError {
  override readonly name: string = 'EventError';
}
/** An event that does not fit its schema (at publish), or arguments a queue cannot accept. */
export class EventValidationError extends EventError {
  override readonly name: string = 'EventValidationError';
}
/** The queue is at its bound; the event was not stored (never dropped silently). */
export class QueueFullError extends EventError {
  override readonly name: string = 'QueueFullError';
}
/** A receive, ack or nack failed at the transport (network, throttling); the message is redelivered later. */
export class EventQueueError extends EventError {
  override readonly name: string = 'EventQueueError';
}
/** Publishing failed after the bounded retries; `attempts` says how many were made. */
export class EventPublishError extends EventError {
  override readonly name: string = 'EventPublishError';
  readonly attempts: number;
  constructor(message: string, options: { cause?: unknown; attempts: number }) {
    super(message, { cause: options.cause });
    this.attempts = options.attempts;
  }
}

const UTF8 = new TextEncoder();

/** Formats zod issues as "path: message" on one line. */
function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/**
 * Parses a received body: JSON, then the schema. Returns the event or why it is malformed; never
 * throws (a bad message must not break the consumer loop).
 */
export function parseEventBody(body: string): { ok: true; event: DomainEvent } | { ok: false; detail: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return { ok: false, detail: `body is not JSON: ${(e as Error).message}` };
  }
  const r = domainEventSchema.safeParse(json);
  if (!r.success) return { ok: false, detail: `body does not fit the event schema: ${issuesText(r.error)}` };
  return { ok: true, event: r.data };
}

/**
 * Validates an event before it is published and returns its JSON body. Throws EventValidationError
 * naming the field, or when the body is over MAX_EVENT_BYTES.
 */
export function serialiseEvent(event: DomainEvent): string {
  const r = domainEventSchema.safeParse(event);
  if (!r.success) throw new EventValidationError(`invalid ${String((event as { type?: unknown }).type)} event: ${issuesText(r.error)}`, { cause: r.error });
  const body = JSON.stringify(r.data);
  const bytes = UTF8.encode(body).length;
  if (bytes > MAX_EVENT_BYTES) throw new EventValidationError(`event ${event.id} is ${bytes} bytes, above the ${MAX_EVENT_BYTES}-byte limit`);
  return body;
}

/** The first BODY_PREVIEW characters of a body, for reports. */
export function bodyPreview(body: string): string {
  return body.length > BODY_PREVIEW ? `${body.slice(0, BODY_PREVIEW)}...` : body;
}

/** The trade-closed event of a trade; its id is derived from the trade's id, so a resend has the same id. */
export function tradeClosedEvent(trade: ClosedTrade, time: number): TradeClosedEvent {
  return {
    type: 'trade_closed',
    id: `trade_closed:${trade.id}`,
    time,
    trade: {
      id: trade.id,
      symbol: trade.symbol,
      direction: trade.direction,
      entryTime: trade.entryTime,
      exitTime: trade.exitTime,
      entryPrice: trade.entryPrice.toString(),
      exitPrice: trade.exitPrice.toString(),
      quantity: trade.quantity.toString(),
      fees: trade.fees.toString(),
      grossPnl: trade.grossPnl.toString(),
      netPnl: trade.netPnl.toString(),
      exitReason: trade.exitReason,
      exits: trade.exits,
      returnPct: trade.returnPct,
    },
  };
}

/** The backtest request of a console job; its id is derived from the job id, so a resend has the same id. */
export function backtestRequestEvent(job: { jobId: string; time: number; requestedBy: string; days?: number }): BacktestRequestEvent {
  return {
    type: 'backtest_request',
    id: `backtest_request:${job.jobId}`.slice(0, 128),
    time: job.time,
    jobId: job.jobId,
    requestedBy: job.requestedBy.slice(0, 200),
    ...(job.days !== undefined ? { days: job.days } : {}),
  };
}

/** The ClosedTrade carried by a trade-closed event, with exact decimals again. */
export function closedTradeFromEvent(event: TradeClosedEvent): ClosedTrade {
  const t = event.trade;
  return {
    ...t,
    entryPrice: Dec.from(t.entryPrice),
    exitPrice: Dec.from(t.exitPrice),
    quantity: Dec.from(t.quantity),
    fees: Dec.from(t.fees),
    grossPnl: Dec.from(t.grossPnl),
    netPnl: Dec.from(t.netPnl),
  };
}

/** Most messages one receive returns (SQS's limit, kept for the in-process queue too). */
export const MAX_RECEIVE_BATCH = 10;
/** Longest visibility timeout: 12 hours (SQS's limit). */
export const MAX_VISIBILITY_MS = 12 * 60 * 60 * 1000;

/** Checks receive/nack arguments the same way for every queue; throws EventValidationError. */
export function checkReceiveArgs(max: number, visibilityMs: number): void {
  if (!Number.isInteger(max) || max < 1 || max > MAX_RECEIVE_BATCH) throw new EventValidationError(`receive: max must be an integer from 1 to ${MAX_RECEIVE_BATCH}, got ${max}`);
  checkDelayMs('visibilityMs', visibilityMs);
}

/** Checks a visibility or nack delay: finite, from 0 to MAX_VISIBILITY_MS; throws EventValidationError. */
export function checkDelayMs(what: string, ms: number): void {
  if (!(Number.isFinite(ms) && ms >= 0 && ms <= MAX_VISIBILITY_MS)) throw new EventValidationError(`${what} must be from 0 to ${MAX_VISIBILITY_MS} ms, got ${ms}`);
}

/**
 * The queues' problem reporter, made safe: a reporter that throws must not break a receive (the
 * message is dead-lettered either way); its own failure is its concern.
 */
export function guardedReporter(report: ((problem: QueueProblem) => void) | undefined): (problem: QueueProblem) => void {
  return (p) => {
    try {
      report?.(p);
    } catch {
      /* see above */
    }
  };
}
