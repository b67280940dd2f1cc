/**
 * Hot reload of the live model: polls the model pointer at a bounded interval, loads a newly
 * promoted (or rolled-back-to) version in the background, and swaps it in atomically — a decision
 * uses either the old model or the new one, never a mix. When the new version fails to load (missing
 * files, bad format, wrong input shape) the old model keeps serving and the operator is alerted once
 * per failing version; the next polls retry it, so a transient store error heals itself.
 *
 * The replaced model is disposed once the decisions already using it have finished (`use` counts
 * them), so a slow predict never runs on freed weights.
 */
import type { ModelPointerRecord } from '../state/types.js';

/** Something the watcher serves: a model, or a model with its scaler. */
export interface Disposable {
  dispose(): void;
}

/** An alert for the operator (the caller maps it to its alert event). */
export interface ModelWatcherAlert {
  readonly title: string;
  readonly detail: string;
  readonly version: string;
}

/** Timers, passed in so tests drive polling themselves. */
export interface WatcherTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ModelWatcherOptions<M extends Disposable> {
  /** Reads the pointer (the registry's `current`). */
  readonly pointer: () => Promise<ModelPointerRecord | undefined>;
  /** Loads the model at a URI (e.g. the registry's `load` plus the scaler). */
  readonly load: (uri: string) => Promise<M>;
  /** Extra check of a loaded model before it serves (e.g. its input shape); returns why it is unfit, or undefined. */
  readonly accept?: (model: M) => string | undefined;
  /** Poll interval; clamped to MIN_POLL_MS..MAX_POLL_MS. Default 60 s. */
  readonly intervalMs?: number;
  readonly onAlert: (alert: ModelWatcherAlert) => void;
  /** Called after each swap (logging, metrics). */
  readonly onSwap?: (version: string, previous: string | undefined) => void;
  readonly timers: WatcherTimers;
}

export const MIN_POLL_MS = 1_000;
export const MAX_POLL_MS = 15 * 60_000;

/** What one poll did. */
export type PollResult = 'no-pointer' | 'unchanged' | 'swapped' | 'load-failed' | 'pointer-failed';

interface Active<M> {
  readonly model: M;
  readonly version: string;
  readonly uri: string;
  inFlight: number;
  retired: boolean;
}

export class ModelWatcher<M extends Disposable> {
  private active: Active<M> | undefined;
  private readonly alerted = new Set<string>();
  private timer: unknown;
  private running = false;
  private stopped = false;
  private polling: Promise<PollResult> | undefined;
  readonly intervalMs: number;

  constructor(private readonly opts: ModelWatcherOptions<M>) {
    this.intervalMs = Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, opts.intervalMs ?? 60_000));
  }

  /** The version serving now, or undefined before the first successful load. */
  get version(): string | undefined {
    return this.active?.version;
  }

  /** The model serving now (for a caller that does not need `use`'s disposal guard). */
  get model(): M | undefined {
    return this.active?.model;
  }

  /**
   * Runs `f` with the model serving now, or returns undefined when there is none yet. The model is
   * not disposed while `f` runs, even if a swap happens meanwhile.
   */
  async use<R>(f: (model: M, version: string) => Promise<R> | R): Promise<R | undefined> {
    const a = this.active;
    if (a === undefined) return undefined;
    a.inFlight++;
    try {
      return await f(a.model, a.version);
    } finally {
      a.inFlight--;
      if (a.retired && a.inFlight === 0) a.model.dispose();
    }
  }

  /** One poll. Concurrent calls share the poll in progress. */
  poll(): Promise<PollResult> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async pollOnce(): Promise<PollResult> {
    let pointer: ModelPointerRecord | undefined;
    try {
      pointer = await this.opts.pointer();
    } catch (err) {
      this.alertOnce('pointer', 'model pointer unreadable', `the model pointer could not be read: ${(err as Error).message}; the current model keeps serving`);
      return 'pointer-failed';
    }
    this.alerted.delete('pointer');
    if (pointer === undefined) return 'no-pointer';
    const { version, uri } = pointer.current;
    if (this.active !== undefined && this.active.version === version && this.active.uri === uri) return 'unchanged';
    let model: M;
    try {
      model = await this.opts.load(uri);
    } catch (err) {
      this.alertOnce(`load:${version}`, `model ${version} failed to load`, `${uri}: ${(err as Error).message}; still serving ${this.active?.version ?? 'no model'}`, version);
      return 'load-failed';
    }
    if (this.stopped) {
      // stop() was called while loading: nothing may serve any more.
      model.dispose();
      return 'unchanged';
    }
    const unfit = this.opts.accept?.(model);
    if (unfit !== undefined) {
      model.dispose();
      this.alertOnce(`load:${version}`, `model ${version} rejected`, `${uri}: ${unfit}; still serving ${this.active?.version ?? 'no model'}`, version);
      return 'load-failed';
    }
    this.alerted.delete(`load:${version}`);
    const old = this.active;
    // The swap: one assignment, so every later decision sees the new model.
    this.active = { model, version, uri, inFlight: 0, retired: false };
    if (old !== undefined) {
      old.retired = true;
      if (old.inFlight === 0) old.model.dispose();
    }
    this.opts.onSwap?.(version, old?.version);
    return 'swapped';
  }

  private alertOnce(key: string, title: string, detail: string, version = ''): void {
    if (this.alerted.has(key)) return;
    this.alerted.add(key);
    try {
      this.opts.onAlert({ title, detail, version });
    } catch {
      // The alert sink's failure must not stop the watcher.
    }
  }

  /** Polls now and then every intervalMs until stop(). */
  start(): Promise<PollResult> {
    this.running = true;
    this.stopped = false;
    const first = this.poll();
    const loop = (): void => {
      if (!this.running) return;
      this.timer = this.opts.timers.setTimeout(() => {
        void this.poll().finally(loop);
      }, this.intervalMs);
    };
    void first.finally(loop);
    return first;
  }

  /** Stops polling and disposes the serving model once idle. */
  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer !== undefined) this.opts.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const a = this.active;
    this.active = undefined;
    if (a !== undefined) {
      a.retired = true;
      if (a.inFlight === 0) a.model.dispose();
    }
  }
}
