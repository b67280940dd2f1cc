/**
 * A bounded pool of worker threads that run one module's tasks: the way backtests (and the research
 * engine's trials) use every core. Each worker loads `workerUrl` once and answers tasks posted to
 * it; the pool keeps at most `size` workers and a bounded queue of waiting tasks, and a task that
 * throws in its worker rejects its own promise without taking the pool down. A worker that dies is
 * replaced.
 *
 * The worker module calls `serveTasks(handler)` (worker.ts). Each worker starts in bootstrap.mjs,
 * which registers tsx's loader first when the module is TypeScript (the CLI runs from source).
 */
import { Worker } from 'node:worker_threads';

interface Pending<R> {
  readonly id: number;
  readonly task: unknown;
  readonly resolve: (r: R) => void;
  readonly reject: (e: Error) => void;
}

interface Slot<R> {
  worker: Worker;
  busy: Pending<R> | undefined;
}

/** Thrown when more tasks wait than `maxQueued`. */
export class PoolQueueFullError extends Error {
  override readonly name: string = 'PoolQueueFullError';
}

/** A task failed in its worker; the worker's message is kept. */
export class WorkerTaskError extends Error {
  override readonly name: string = 'WorkerTaskError';
}

export interface WorkerPoolOptions {
  /** Workers (default: 1). */
  readonly size?: number;
  /** Tasks allowed to wait for a worker (default 10,000). */
  readonly maxQueued?: number;
}

export class WorkerPool<T, R> {
  private readonly slots: Slot<R>[] = [];
  private readonly queue: Pending<R>[] = [];
  private seq = 0;
  private closed = false;
  private readonly maxQueued: number;

  constructor(
    private readonly workerUrl: URL,
    opts: WorkerPoolOptions = {},
  ) {
    const size = opts.size ?? 1;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`WorkerPool: size must be an integer >= 1, got ${size}`);
    this.maxQueued = opts.maxQueued ?? 10_000;
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one task on the next free worker. */
  run(task: T): Promise<R> {
    if (this.closed) return Promise.reject(new Error('WorkerPool: closed'));
    if (this.queue.length >= this.maxQueued) return Promise.reject(new PoolQueueFullError(`WorkerPool: ${this.queue.length} tasks already wait`));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: ++this.seq, task, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; waiting tasks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.reject(new Error('WorkerPool: closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot<R> {
    // Resolved here, not at load: a bundle that merely contains this module must not need the file.
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), { workerData: { target: this.workerUrl.href } });
    const slot: Slot<R> = { worker, busy: undefined };
    worker.on('message', (m: { id: number; ok: boolean; result?: R; error?: string }) => {
      const p = slot.busy;
      if (!p || p.id !== m.id) return;
      slot.busy = undefined;
      if (m.ok) p.resolve(m.result as R);
      else p.reject(new WorkerTaskError(m.error ?? 'the task failed'));
      this.dispatch();
    });
    worker.on('error', (e) => this.onDeath(slot, e));
    worker.on('exit', (code) => {
      if (!this.closed) this.onDeath(slot, new Error(`worker exited with code ${code}`));
    });
    worker.unref();
    return slot;
  }

  private onDeath(slot: Slot<R>, e: Error): void {
    const p = slot.busy;
    slot.busy = undefined;
    p?.reject(new WorkerTaskError(`worker failed: ${e.message}`));
    if (this.closed) return;
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots[i] = this.spawn();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const p = this.queue.shift() as Pending<R>;
      slot.busy = p;
      slot.worker.ref();
      slot.worker.postMessage({ id: p.id, task: p.task });
    }
    for (const slot of this.slots) if (!slot.busy) slot.worker.unref();
  }
}
