/**
 * The alert dispatcher's core: one queue record -> a validated AlertEvent -> each channel (SNS,
 * Telegram) once.
 *
 * - Malformed records (not JSON, not an event, not an alert) throw MalformedAlertRecordError: the
 *   batch handler fails only that record, SQS delivers it again and, after maxReceiveCount, moves
 *   it to the dead-letter queue, where an operator can read it.
 * - De-duplication: the alert's key is its `dedupKey` (one problem) or else its `id` (one event).
 *   Each channel's send goes through the `DeliveryLedger` under `<key>#<channel>`: a key already
 *   delivered within the window is not sent again. Per channel, so when SNS delivered and Telegram
 *   failed, the retry sends only to Telegram.
 * - A channel that fails makes the record fail (AlertDeliveryError), so SQS retries it and the
 *   dead-letter queue catches it after maxReceiveCount.
 */
import { parseEventBody, type AlertEvent } from '../events/types.js';
import { AlertDeliveryError, MalformedAlertRecordError } from './errors.js';
import { formatAlert, type FormattedAlert } from './alertFormat.js';

/** A destination for alerts. `send` throws (ChannelSendError) when the message was not taken. */
export interface AlertChannel {
  readonly name: string;
  send(message: FormattedAlert, alert: AlertEvent): Promise<void>;
}

/**
 * Remembers what was delivered. `once(key, send)` runs `send` unless `key` was delivered within the
 * ledger's window (or is being delivered right now by another invocation: then it throws, and the
 * record is retried later). A `send` that throws leaves the key undelivered.
 */
export interface DeliveryLedger {
  once(key: string, send: () => Promise<void>): Promise<'sent' | 'duplicate'>;
}

/** What happened to one alert. */
export interface DispatchResult {
  readonly alertId: string;
  readonly key: string;
  /** Per channel: sent now, or already delivered (duplicate). */
  readonly channels: Readonly<Record<string, 'sent' | 'duplicate'>>;
}

/** The de-duplication key of an alert. */
export function alertKey(alert: AlertEvent): string {
  return alert.dedupKey ?? alert.id;
}

/** Parses a queue body into an alert; throws MalformedAlertRecordError (fails only this record). */
export function parseAlertRecord(body: string): AlertEvent {
  const r = parseEventBody(body);
  if (!r.ok) throw new MalformedAlertRecordError(r.detail);
  if (r.event.type !== 'alert') throw new MalformedAlertRecordError(`expected an alert event on the alerts queue, got ${r.event.type}`);
  return r.event;
}

/** Sends one alert to every channel through the ledger; see the file comment. */
export async function dispatchAlert(alert: AlertEvent, channels: readonly AlertChannel[], ledger: DeliveryLedger, stage?: string): Promise<DispatchResult> {
  const message = formatAlert(alert, stage);
  const key = alertKey(alert);
  const results: Record<string, 'sent' | 'duplicate'> = {};
  const failed: string[] = [];
  const errors: unknown[] = [];
  for (const ch of channels) {
    try {
      results[ch.name] = await ledger.once(`${key}#${ch.name}`, () => ch.send(message, alert));
    } catch (e) {
      failed.push(ch.name);
      errors.push(e);
    }
  }
  if (failed.length > 0) {
    const why = errors.map((e) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e))).join('; ');
    throw new AlertDeliveryError(`alert ${alert.id} not delivered to ${failed.join(', ')}: ${why}`, failed, { cause: errors.length === 1 ? errors[0] : new AggregateError(errors) });
  }
  return { alertId: alert.id, key, channels: results };
}

/** Processes one queue record body: parse, then dispatch. */
export async function processAlertRecord(body: string, channels: readonly AlertChannel[], ledger: DeliveryLedger, stage?: string): Promise<DispatchResult> {
  return dispatchAlert(parseAlertRecord(body), channels, ledger, stage);
}

/**
 * An in-memory ledger for local mode and unit tests: keys delivered within `windowMs` (by the
 * injected clock) are duplicates; at most `maxKeys` remembered (oldest forgotten first). Keys being
 * delivered right now wait for that delivery instead of sending again.
 */
export class MemoryDeliveryLedger implements DeliveryLedger {
  private readonly delivered = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<'sent' | 'duplicate'>>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  async once(key: string, send: () => Promise<void>): Promise<'sent' | 'duplicate'> {
    const at = this.delivered.get(key);
    if (at !== undefined && this.now() - at < this.windowMs) return 'duplicate';
    const running = this.inflight.get(key);
    if (running) {
      await running.catch(() => undefined);
      return this.once(key, send);
    }
    const p = (async (): Promise<'sent'> => {
      await send();
      this.delivered.delete(key);
      this.delivered.set(key, this.now());
      while (this.delivered.size > this.maxKeys) this.delivered.delete(this.delivered.keys().next().value as string);
      return 'sent';
    })();
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }
}
