/**
 * The asynchronous front of the router, shared by every channel (webhook, queue, file): it awaits
 * what must be fresh before a decision (the runtime reads the kill switch again here, so a signal
 * that arrives just after the operator paused trading is refused even if the periodic poll has not
 * run yet), then lets the router decide synchronously on the market clock of that moment.
 *
 * The decision itself is synchronous on purpose: between the kernel's entry gate and the
 * executor's order there is no await, so a kill-switch change can only land before the decision
 * (and refuse it) or after it (and then the order is already the executor's, which manages it
 * like any other position, PAUSED or not). Signals are decided one at a time, in arrival order.
 */
import type { SignalRouter } from './router.js';
import type { SignalChannel, SignalResult } from './types.js';

export interface SignalIntakeOptions {
  readonly router: SignalRouter;
  /** The market clock, read at the moment of the decision. */
  readonly now: () => number;
  /** Awaited before each decision (refresh the kill switch); a failure is logged, and the decision goes on with what is known. */
  readonly beforeRoute?: () => Promise<void>;
  readonly log?: (line: string) => void;
  /** Signals waiting for their turn at most; one beyond is refused at once (default 100). */
  readonly maxWaiting?: number;
}

export class SignalIntake {
  private chain: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private readonly maxWaiting: number;

  constructor(private readonly opts: SignalIntakeOptions) {
    this.maxWaiting = opts.maxWaiting ?? 100;
  }

  /** Decides on one signal (after the ones before it); never rejects. */
  submit(input: unknown, channel: SignalChannel): Promise<SignalResult> {
    if (this.waiting >= this.maxWaiting) {
      // Bounded: a flood must not queue decisions without end. Refused (and audited) at once.
      return Promise.resolve(this.opts.router.refuse(input, channel, this.opts.now(), 'OVERLOADED', `${this.waiting} signals are waiting for a decision (maximum ${this.maxWaiting})`));
    }
    this.waiting++;
    const run = this.chain.then(async () => {
      try {
        if (this.opts.beforeRoute) {
          try {
            await this.opts.beforeRoute();
          } catch (e) {
            this.opts.log?.(`signal intake: refreshing before the decision failed (${e instanceof Error ? e.message : String(e)}); deciding on what is known`);
          }
        }
        return this.opts.router.route(input, channel, this.opts.now());
      } finally {
        this.waiting--;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every signal submitted so far is decided. */
  async idle(): Promise<void> {
    await this.chain;
  }
}
