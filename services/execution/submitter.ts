/**
 * The two submitters that carry out the executor's commands (commands.ts):
 *
 * - `AsyncSubmitter` (paper and live): one FIFO queue per symbol, each worked by its own chain of
 *   promises against the exchange port (SafeExchange behind the journal). A slow or retried order
 *   on one symbol holds only that symbol's queue. Work starts on a microtask, never inside `push`,
 *   so a command always runs after the step that emitted it (the same order the backtest has).
 * - `SyncSubmitter` (backtest): the same FIFO, run by `flush()` against a synchronous port (the
 *   matching engine in process); commands that running a command emits join the same flush.
 *
 * Bounds: at most `maxQueuedPerSymbol` commands wait per symbol; beyond that a command is refused
 * (reported as a rejected ack with kind `queue_full`), counted, and never silently dropped.
 */
import type { SymbolId } from '../core/types.js';
import type { CommandResults, CommandSink, ExecutionCommand } from './commands.js';
import type { OrderAck, OrderRequest } from '../model/orders.js';
import type { ExchangePort, Holding } from './types.js';
import { orderErrorKind, type OrderErrorKind } from './exchangeErrors.js';

/** An exchange port that answers at once (the matching engine in process). */
export interface SyncExchangePort extends ExchangePort {
  submitNow(req: OrderRequest): OrderAck;
  cancelNow(symbol: SymbolId, clientOrderId: string): OrderAck;
  holdingNow?(symbol: SymbolId, since: number): Holding;
}

export interface SubmitterStats {
  executed: number;
  refused: number;
  failures: number;
  maxQueued: number;
}

const DEFAULT_MAX_QUEUED = 1_000;

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

abstract class BaseSubmitter implements CommandSink {
  protected results: CommandResults | undefined;
  readonly stats: SubmitterStats = { executed: 0, refused: 0, failures: 0, maxQueued: 0 };

  constructor(protected readonly now: () => number) {}

  /** Connects the receiver of results (the executor does it when it is built). */
  bind(results: CommandResults): void {
    this.results = results;
  }

  abstract push(command: ExecutionCommand): void;
  abstract idle(): Promise<void>;

  /** A command that could not be carried out is answered as a rejected ack, so the executor moves on. */
  protected refuse(cmd: ExecutionCommand, reason: string, errorKind: OrderErrorKind): void {
    const ack: OrderAck = { clientOrderId: cmd.clientOrderId, exchangeOrderId: '', status: 'rejected', reason, errorKind };
    if (cmd.kind === 'submit') this.results?.onSubmitAck(cmd, ack, this.now());
    else if (cmd.kind === 'cancel') this.results?.onCancelAck(cmd, ack, this.now());
    else this.results?.onHolding(cmd, undefined, this.now());
  }
}

/** Per-symbol queues worked asynchronously (see the file comment). */
export class AsyncSubmitter extends BaseSubmitter {
  private readonly queues = new Map<SymbolId, ExecutionCommand[]>();
  private readonly running = new Map<SymbolId, Promise<void>>();
  private readonly maxQueued: number;

  constructor(
    private readonly port: ExchangePort,
    now: () => number,
    opts: { maxQueuedPerSymbol?: number; onError?: (line: string) => void } = {},
  ) {
    super(now);
    this.maxQueued = opts.maxQueuedPerSymbol ?? DEFAULT_MAX_QUEUED;
    this.onError = opts.onError ?? (() => undefined);
  }

  private readonly onError: (line: string) => void;

  push(command: ExecutionCommand): void {
    let q = this.queues.get(command.symbol);
    if (!q) this.queues.set(command.symbol, (q = []));
    if (q.length >= this.maxQueued) {
      this.stats.refused++;
      this.onError(`submitter: ${command.symbol} has ${q.length} commands waiting; ${command.kind} ${command.clientOrderId} refused`);
      queueMicrotask(() => this.refuse(command, `queue_full: ${q.length} commands already wait on ${command.symbol}`, 'queue_full'));
      return;
    }
    q.push(command);
    if (q.length > this.stats.maxQueued) this.stats.maxQueued = q.length;
    if (!this.running.has(command.symbol)) {
      const sym = command.symbol;
      const run = Promise.resolve()
        .then(() => this.work(sym))
        .finally(() => this.running.delete(sym));
      this.running.set(sym, run);
    }
  }

  /** Commands waiting or running, per symbol. */
  queued(symbol: SymbolId): number {
    return this.queues.get(symbol)?.length ?? 0;
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private async work(symbol: SymbolId): Promise<void> {
    const q = this.queues.get(symbol);
    if (!q) return;
    for (let cmd = q[0]; cmd; cmd = q[0]) {
      try {
        await this.execute(cmd);
      } catch (e) {
        // A result handler that throws is a bug on its side; the queue must keep going.
        this.stats.failures++;
        this.onError(`submitter: ${cmd.kind} ${cmd.clientOrderId} on ${symbol}: ${describe(e)}`);
      }
      q.shift();
    }
  }

  private async execute(cmd: ExecutionCommand): Promise<void> {
    this.stats.executed++;
    if (cmd.kind === 'submit') {
      const req = cmd.build();
      if (!req) {
        this.results?.onSubmitAck(cmd, null, this.now());
        return;
      }
      let ack: OrderAck;
      try {
        ack = await this.port.submit(req);
      } catch (e) {
        this.stats.failures++;
        ack = { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason: describe(e), errorKind: orderErrorKind(e) };
      }
      this.results?.onSubmitAck(cmd, ack, this.now());
      return;
    }
    if (cmd.kind === 'holding') {
      let h: Holding | undefined;
      try {
        h = this.port.holding ? await this.port.holding(cmd.symbol, cmd.since) : undefined;
      } catch (e) {
        this.stats.failures++;
        this.onError(`submitter: holding of ${cmd.symbol} for ${cmd.clientOrderId}: ${describe(e)}`);
      }
      this.results?.onHolding(cmd, h, this.now());
      return;
    }
    let ack: OrderAck;
    try {
      ack = await this.port.cancel(cmd.symbol, cmd.clientOrderId);
    } catch (e) {
      this.stats.failures++;
      ack = { clientOrderId: cmd.clientOrderId, exchangeOrderId: '', status: 'rejected', reason: describe(e), errorKind: orderErrorKind(e) };
    }
    this.results?.onCancelAck(cmd, ack, this.now());
  }
}

/** One FIFO run by `flush()` against a synchronous port (see the file comment). */
export class SyncSubmitter extends BaseSubmitter {
  private readonly queue: ExecutionCommand[] = [];
  private head = 0;
  private flushing = false;

  constructor(
    private readonly port: SyncExchangePort,
    now: () => number,
    private readonly maxQueued = DEFAULT_MAX_QUEUED,
  ) {
    super(now);
  }

  push(command: ExecutionCommand): void {
    if (this.queue.length - this.head >= this.maxQueued) {
      this.stats.refused++;
      this.refuse(command, `queue_full: ${this.maxQueued} commands already wait`, 'queue_full');
      return;
    }
    this.queue.push(command);
  }

  /** True when commands wait. */
  get pending(): boolean {
    return this.head < this.queue.length;
  }

  /** Carries out every waiting command (and those they cause), in order. */
  flush(): void {
    if (this.flushing || this.head >= this.queue.length) return;
    this.flushing = true;
    try {
      while (this.head < this.queue.length) {
        const cmd = this.queue[this.head++] as ExecutionCommand;
        this.stats.executed++;
        if (cmd.kind === 'submit') {
          const req = cmd.build();
          this.results?.onSubmitAck(cmd, req ? this.port.submitNow(req) : null, this.now());
        } else if (cmd.kind === 'holding') {
          this.results?.onHolding(cmd, this.port.holdingNow?.(cmd.symbol, cmd.since), this.now());
        } else {
          this.results?.onCancelAck(cmd, this.port.cancelNow(cmd.symbol, cmd.clientOrderId), this.now());
        }
      }
    } finally {
      this.queue.length = 0;
      this.head = 0;
      this.flushing = false;
    }
  }

  idle(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}
