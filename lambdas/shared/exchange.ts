/**
 * The exchange for the Lambdas: a CcxtMexcVenue built once per process from the MEXC secret (see
 * services/ops/secrets.ts for its shape), markets loaded once; and per invocation, the venue behind
 * a fresh guard (services/execution/guardedVenue.ts: breakers, order rate limit, bounded retries)
 * and, for the jobs that trade, a fresh SafeExchange on that same guard (its order tracking belongs
 * to one run; its calls and the job's own listings share one limiter and one set of breakers). A
 * guard per run, not per process: an emergency must not start with a breaker a failed run opened.
 * MEXC_REST_URL points it at the simulator.
 */
import { randomInt } from 'node:crypto';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { GuardedVenue, type GuardedVenueOptions } from '../../services/execution/guardedVenue.js';
import { SafeExchange, type SafeExchangeOptions } from '../../services/execution/safeExchange.js';
import { flattenExchange, type FlattenDeps } from '../../services/ops/flatten.js';
import { parseMexcSecret, type SecretSource } from '../../services/ops/secrets.js';
import type { VenueClient } from '../../services/venue/types.js';

/** A draw in [0, 1) from node:crypto (backoff jitter). */
export function cryptoRandom(): number {
  return randomInt(0, 2 ** 32) / 2 ** 32;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface VenueSettings {
  readonly secretId: string;
  readonly restUrl?: string;
  readonly timeoutMs?: number;
}

/** Builds the venue once per process (cached promise; a failed build is retried on the next call). */
export function venueFactory(secrets: SecretSource, settings: VenueSettings, onWarning: (m: string) => void): () => Promise<CcxtMexcVenue> {
  let pending: Promise<CcxtMexcVenue> | undefined;
  return () => {
    pending ??= (async () => {
      const creds = parseMexcSecret(settings.secretId, await secrets.getSecret(settings.secretId));
      const venue = new CcxtMexcVenue({
        apiKey: creds.apiKey,
        secret: creds.secret,
        ...(settings.restUrl ? { restUrl: settings.restUrl } : {}),
        timeoutMs: settings.timeoutMs ?? 5000,
        // The guard paces orders; ccxt's own throttle would only add delay to an emergency.
        enableRateLimit: false,
        onWarning,
      });
      await venue.loadMarkets();
      return venue;
    })().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}

/** The run's clock: the wall clock and real sleeps in production, shortened in tests. */
export interface RunClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The venue behind a fresh guard, for one run of a job that only reads (the reconciliation). */
export function guardedVenueFor(venue: VenueClient, clock: RunClock, options: Partial<GuardedVenueOptions> = {}): GuardedVenue {
  return new GuardedVenue(venue, { now: clock.now, sleep: clock.sleep, random: cryptoRandom }, options);
}

/** What a trading job's run uses: the guarded venue, a SafeExchange on it, and the flatten's view of both. */
export interface TradingExchange extends FlattenDeps {
  readonly venue: GuardedVenue;
  readonly safe: SafeExchange;
}

/** A guard and a SafeExchange sharing it, for one run of a job that trades (emergency stop, risk sweep). */
export function tradingExchangeFor(venue: VenueClient, clock: RunClock, options: Partial<SafeExchangeOptions> = {}): TradingExchange {
  const guarded = guardedVenueFor(venue, clock, options);
  const safe = new SafeExchange(guarded, { now: clock.now, sleep: clock.sleep, random: cryptoRandom }, options);
  return { venue: guarded, safe, exchange: flattenExchange(safe) };
}
