/**
 * Raising the kill switch from a job (risk sweep, emergency stop) without ever lowering it.
 *
 * The rule: a job may move the switch only towards more restriction (RUNNING -> PAUSED ->
 * EMERGENCY_STOP). It reads the parameter first and writes only when the wanted state is more
 * restrictive than what is stored. When it cannot tell what is stored (the read failed, or the value
 * is not a valid state, e.g. a mistyped EMERGENCY_STOP), it writes only EMERGENCY_STOP, the one
 * value that cannot be a downgrade of anything; a PAUSED is then not written and the caller alerts.
 *
 * Residual race (documented, not solvable with SSM, which has no conditional put): an operator's
 * EMERGENCY_STOP written between our read and our PAUSED write would be overwritten. The window is
 * one SSM round trip, and the emergency-stop Lambda triggered by that write reads the parameter,
 * so the case is reported by the job's own alert (it says what it read and what it wrote).
 */
import type { AlertEvent } from '../events/types.js';
import { makeAlert } from './alerts.js';
import {
  mostRestrictive,
  parseKillSwitchValue,
  type KillSwitchSource,
  type KillSwitchState,
} from '../control/killSwitch.js';

/** What the switch held before the escalation. */
export type SwitchReading = { readonly kind: 'valid'; readonly state: KillSwitchState } | { readonly kind: 'invalid'; readonly detail: string } | { readonly kind: 'unreadable'; readonly detail: string };

/** The outcome of one escalation. */
export interface EscalationResult {
  readonly wanted: KillSwitchState;
  readonly before: SwitchReading;
  /** The state the switch holds after this call, as far as this process knows (undefined when unknown). */
  readonly after: KillSwitchState | undefined;
  readonly wrote: boolean;
  /** Set when the escalation could not be done as wanted (not written, or the write failed). */
  readonly problem?: string;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Reads the switch once, without caching and without throwing. */
export async function readSwitch(source: KillSwitchSource): Promise<SwitchReading> {
  try {
    const parsed = parseKillSwitchValue(await source.read());
    return parsed.ok ? { kind: 'valid', state: parsed.state } : { kind: 'invalid', detail: parsed.detail };
  } catch (e) {
    return { kind: 'unreadable', detail: describe(e) };
  }
}

/**
 * Moves the switch to `wanted` unless it already holds that or something more restrictive.
 * Never throws: a failed write is returned as `problem`.
 */
export async function escalateKillSwitch(source: KillSwitchSource, wanted: KillSwitchState, reason: string): Promise<EscalationResult> {
  const before = await readSwitch(source);
  let target: KillSwitchState | undefined;
  if (before.kind === 'valid') {
    target = mostRestrictive(wanted, before.state);
    if (target === before.state) return { wanted, before, after: before.state, wrote: false };
  } else if (wanted === 'EMERGENCY_STOP') {
    target = 'EMERGENCY_STOP';
  } else {
    return { wanted, before, after: undefined, wrote: false, problem: `switch not written: its current value is ${before.kind} (${before.detail}), so writing ${wanted} could be a downgrade` };
  }
  if (wanted === 'RUNNING') return { wanted, before, after: before.kind === 'valid' ? before.state : undefined, wrote: false };
  try {
    await source.write(target, reason);
    return { wanted, before, after: target, wrote: true };
  } catch (e) {
    return { wanted, before, after: before.kind === 'valid' ? before.state : undefined, wrote: false, problem: `writing ${target} failed: ${describe(e)}` };
  }
}

/**
 * The alert every reader of the switch sends when it holds a value that is not a state
 * (`emergency_stop`, `EMERGENCY STOP`, an empty value): a mistyped emergency stop must page someone,
 * not silently do nothing. `consequence` says what this reader does about it. Undefined for a valid
 * or an unreadable switch (a failed read is each reader's own problem to report).
 */
export function unknownSwitchAlert(source: string, reading: SwitchReading, at: number, consequence: string): AlertEvent | undefined {
  if (reading.kind !== 'invalid') return undefined;
  return makeAlert(
    source,
    'KILL-SWITCH-UNKNOWN',
    at,
    'critical',
    'Kill switch holds an unknown value',
    `${reading.detail}. ${consequence} Set it to exactly RUNNING, PAUSED or EMERGENCY_STOP.`,
  );
}
