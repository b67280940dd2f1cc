/**
 * Shadow start: the candidate config of a past recommendation, for paper trading beside live.
 *
 * The review never changes the live configuration (run.ts); an operator may run a supported
 * recommendation in paper trading to watch it on the live market. This reads the recommendation's
 * ledger record, refuses an unknown id and (unless forced) one whose verdict is not "supported",
 * and applies its changes to the live config with the same applyChanges the tester and the ledger
 * use, so the shadow runs exactly the candidate that was tested. Nothing is written: the ledger
 * record, the live config and the live run's state are left as they are.
 */
import type { Config } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import type { StateStore } from '../state/types.js';
import { applyChanges, readKey } from './configKeys.js';

export interface ShadowChange {
  readonly key: string;
  /** The value in the live config the shadow starts from (undefined: the key was not set). */
  readonly live: number | undefined;
  /** The value the recommendation recorded as the live one when it was made. */
  readonly recorded: number;
  /** The value in the shadow's config. */
  readonly to: number;
}

export interface ShadowPlan {
  readonly id: string;
  readonly title: string;
  readonly verdict: 'supported' | 'not_supported';
  readonly forced: boolean;
  readonly config: Config;
  readonly changes: readonly ShadowChange[];
  /** One line each, for the operator: changed keys, a live value that moved since, a forced start. */
  readonly lines: readonly string[];
}

/** The shadow config of recommendation `id` (see the file comment); ConfigError when it must not start. */
export async function shadowPlan(store: StateStore, id: string, live: Config, opts: { force?: boolean } = {}): Promise<ShadowPlan> {
  const got = await store.get('recommendation', id);
  if (!got) throw new ConfigError(`--recommendation: no recommendation ${id} in the ledger (ids look like rec:weekly:2026-11-30:0; npm run review prints them)`);
  const rec = got.value;
  const forced = rec.test.verdict !== 'supported';
  if (forced && !opts.force) {
    throw new ConfigError(`--recommendation: ${id} ("${rec.title}") is not supported by its test (${rec.test.reasons.join('; ')}); refusing to start it. --force starts it in paper anyway, labelled as not supported`);
  }
  let config: Config;
  try {
    config = applyChanges(
      live,
      rec.changes.map((c) => ({ key: c.key, value: c.to })),
    );
  } catch (e) {
    throw new ConfigError(`--recommendation: ${id}'s change no longer makes a valid config: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const changes = rec.changes.map((c) => ({ key: c.key, live: readKey(live, c.key), recorded: c.from, to: readKey(config, c.key) ?? c.to }));
  const lines = [
    `shadow ${id} ("${rec.title}"), verdict ${forced ? 'NOT SUPPORTED (started with --force)' : 'supported'}:`,
    ...changes.map((c) => `  changed ${c.key}: ${c.live ?? 'unset'} -> ${c.to}${c.live !== undefined && Math.abs(c.live - c.recorded) > 1e-12 ? ` (the recommendation was made when live had ${c.recorded})` : ''}`),
  ];
  return { id, title: rec.title, verdict: rec.test.verdict, forced, config, changes, lines };
}
