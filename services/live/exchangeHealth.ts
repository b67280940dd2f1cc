/**
 * Halts new entries while the exchange is failing: its REST API (SafeExchange retrying or with an
 * open circuit, and no success since) or one of its streams (disconnected, stale or reconnecting)
 * for `haltAfterMs` (5 minutes by default). Lifts as soon as what failed works again. Exits are
 * never refused here: closing a position must stay possible whenever the exchange answers.
 *
 * Pure: fed events with their times, asked with a time; the runtime wires it to SafeExchange's
 * events, its successful calls and the venue's stream_status events, and alerts on each change.
 */

export const DEFAULT_HALT_AFTER_MS = 5 * 60_000;

/** A change of the halt, for the caller to alert on. */
export type ExchangeHealthChange = { readonly kind: 'halted'; readonly reason: string } | { readonly kind: 'lifted'; readonly after: string };

export class ExchangeHealth {
  private restFailingSince: number | undefined;
  private restLastError = '';
  /** Per stream, since when it has been down (absent: up). Bounded by the venue's few streams. */
  private readonly streamDownSince = new Map<string, { since: number; status: string }>();
  private halted: string | undefined;

  constructor(private readonly haltAfterMs = DEFAULT_HALT_AFTER_MS) {}

  /** A REST call failed (a retry, an open circuit, a failed catch-up). */
  restFailed(at: number, detail: string): void {
    this.restFailingSince ??= at;
    this.restLastError = detail;
  }

  /** A REST call succeeded: the API answers again. */
  restOk(): void {
    this.restFailingSince = undefined;
  }

  /** A stream's status (the venue's stream_status events). */
  stream(name: string, status: 'connected' | 'disconnected' | 'stale' | 'reconnecting' | 'backfilled', at: number): void {
    if (status === 'connected' || status === 'backfilled') this.streamDownSince.delete(name);
    else if (!this.streamDownSince.has(name)) this.streamDownSince.set(name, { since: at, status });
  }

  /** Why entries are refused at `now`, or undefined. */
  problem(now: number): string | undefined {
    const out: string[] = [];
    if (this.restFailingSince !== undefined && now - this.restFailingSince >= this.haltAfterMs) {
      out.push(`the exchange's API has been failing for ${Math.round((now - this.restFailingSince) / 1000)} s (${this.restLastError})`);
    }
    for (const [name, d] of this.streamDownSince) {
      if (now - d.since >= this.haltAfterMs) out.push(`stream ${name} ${d.status} for ${Math.round((now - d.since) / 1000)} s`);
    }
    return out.length === 0 ? undefined : `${out.join('; ')}: no new entries until it recovers`;
  }

  /** The halt's change since the last call, if any (call it on a timer). */
  update(now: number): ExchangeHealthChange | undefined {
    const p = this.problem(now);
    if (p !== undefined && this.halted === undefined) {
      this.halted = p;
      return { kind: 'halted', reason: p };
    }
    if (p === undefined && this.halted !== undefined) {
      const after = this.halted;
      this.halted = undefined;
      return { kind: 'lifted', after };
    }
    return undefined;
  }
}
