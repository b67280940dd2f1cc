/**
 * The hot path's consumer of operator commands (the `commands` queue: SQS in the task, in process
 * locally). Delivery is at least once, so each command id is carried out once (a bounded memory of
 * ids) and acked after it was; a command older than MAX_COMMAND_AGE_MS when it arrives (the task
 * was down) is answered as expired rather than carried out long after the operator asked.
 */
import type { EventQueue } from '../services/events/types.js';

/** A force exit asked for more than this long ago is not carried out. */
export const MAX_COMMAND_AGE_MS = 10 * 60_000;
/** Command ids remembered against redelivery. */
const HANDLED_BOUND = 500;

export interface CommandConsumerOptions {
  readonly queue: EventQueue;
  /** Carries out a force exit; resolves with what happened, in words. */
  readonly forceExit: (symbol: string, requestedBy: string) => Promise<string>;
  /** Answers the operator (an alert, which reaches Telegram; and the local bot). */
  readonly answer: (commandId: string, title: string, detail: string) => Promise<void>;
  readonly log: (line: string) => void;
  readonly err: (line: string) => void;
  /** Wall clock (epoch ms). */
  readonly now: () => number;
}

export class CommandConsumer {
  private busy = false;
  private readonly handled = new Set<string>();
  /** Counters for tests and the status line. */
  readonly stats = { received: 0, executed: 0, expired: 0, duplicates: 0, errors: 0 };

  constructor(private readonly opts: CommandConsumerOptions) {}

  /** Receives and carries out the waiting commands; never throws, never overlaps itself. */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const got = await this.opts.queue.receive(10, 30_000);
      for (const r of got) {
        const e = r.event;
        this.stats.received++;
        if (e.type !== 'operator_command') {
          this.opts.err(`a ${e.type} event on the commands queue was dropped`);
          await this.opts.queue.ack(r.receiptHandle);
          continue;
        }
        if (this.handled.has(e.id)) {
          this.stats.duplicates++;
          await this.opts.queue.ack(r.receiptHandle);
          continue;
        }
        const age = this.opts.now() - e.time;
        let result: string;
        if (age > MAX_COMMAND_AGE_MS) {
          this.stats.expired++;
          result = `${e.symbol}: not carried out, the command is ${Math.round(age / 60_000)} minutes old (the limit is ${MAX_COMMAND_AGE_MS / 60_000}); ask again if it still stands`;
        } else {
          try {
            result = await this.opts.forceExit(e.symbol, e.requestedBy);
            this.stats.executed++;
          } catch (error) {
            // Not acked: the queue delivers it again (and dead-letters it after its bound).
            this.stats.errors++;
            this.opts.err(`force exit ${e.symbol} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}; it will be retried`);
            continue;
          }
        }
        this.opts.log(`force exit ${e.symbol} by ${e.requestedBy}: ${result}`);
        this.handled.add(e.id);
        if (this.handled.size > HANDLED_BOUND) this.handled.delete(this.handled.values().next().value as string);
        await this.opts.answer(e.id, `force exit ${e.symbol}`, result);
        await this.opts.queue.ack(r.receiptHandle);
      }
    } catch (error) {
      this.stats.errors++;
      this.opts.err(`reading the commands queue failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    } finally {
      this.busy = false;
    }
  }
}
