/**
 * The exchange for the Lambdas: a CcxtMexcVenue built once per process from the MEXC secret (see
 * services/ops/secrets.ts for its shape), markets loaded once, and a fresh SafeExchange per
 * invocation (its order tracking belongs to one run). MEXC_REST_URL points it at the simulator.
 */
import { randomInt } from 'node:crypto';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { SafeExchange, type SafeExchangeOptions } from '../../services/execution/safeExchange.js';
import { parseMexcSecret, type SecretSource } from '../../services/ops/secrets.js';

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
        // SafeExchange paces orders; ccxt's own throttle would only add delay to an emergency.
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

/** A SafeExchange for one run, on the wall clock. */
export function safeExchangeFor(venue: CcxtMexcVenue, options: Partial<SafeExchangeOptions> = {}): SafeExchange {
  return new SafeExchange(venue, { now: () => Date.now(), sleep, random: cryptoRandom }, options);
}
