/**
 * `npm run pause|resume|stop [-- --data-dir <dir>] [--reason <text>]`
 *
 * Sets the local kill switch: writes `kill-switch.json` under the data folder that `npm start` uses
 * (default data/local/, created if missing). The running process reads it at most every 5 s.
 * In AWS the same switch is the SSM parameter (see the README's operations section).
 */
import { FileKillSwitchSource, killSwitchFilePath, MAX_REASON_LENGTH } from '../services/adapters/file/fileKillSwitch.js';
import { DEFAULT_MIN_READ_INTERVAL_MS, parseKillSwitchValue, type KillSwitchState } from '../services/control/killSwitch.js';
import { UsageError, parseFlags } from './args.js';

/** The data folder `npm start` uses. */
export const DEFAULT_DATA_DIR = 'data/local';

/** The three commands and the state each writes. */
export const CONTROL_ACTIONS = { pause: 'PAUSED', resume: 'RUNNING', stop: 'EMERGENCY_STOP' } as const satisfies Record<string, KillSwitchState>;
export type ControlAction = keyof typeof CONTROL_ACTIONS;

export const CONTROL_USAGE = `usage: npm run pause  [-- --data-dir <dir>] [--reason <text>]
       npm run resume [-- --data-dir <dir>] [--reason <text>]
       npm run stop   [-- --data-dir <dir>] [--reason <text>]

  pause     PAUSED: no new entries; open positions are still managed
  resume    RUNNING: new entries allowed again
  stop      EMERGENCY_STOP: cancel every open order, close every position, halt

  --data-dir  the data folder of the running process (default ${DEFAULT_DATA_DIR})
  --reason    why, kept in the file with the time (default: the command's name)`;

const TAKES_EFFECT = `takes effect within ${DEFAULT_MIN_READ_INTERVAL_MS / 1000} s`;

/** What the running process does in each state, as printed after the change. */
export const STATE_EFFECT: Readonly<Record<KillSwitchState, string>> = {
  PAUSED: `PAUSED: no new entries; open positions are still managed; ${TAKES_EFFECT}.`,
  RUNNING: `RUNNING: new entries allowed; ${TAKES_EFFECT}. A process that has made an emergency stop stays halted until it is restarted.`,
  EMERGENCY_STOP: `EMERGENCY_STOP: every open order is cancelled, every position closed at market, then trading halts; ${TAKES_EFFECT}. To trade again: npm run resume, then restart.`,
};

/** The parsed command line. */
export interface ControlArgs {
  readonly action: ControlAction;
  readonly dataDir: string;
  readonly reason: string;
}

/** Parses argv (the action, then flags); throws UsageError naming the bad flag or action. */
export function parseControlArgs(argv: readonly string[], log: (s: string) => void): ControlArgs {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        'data-dir': { type: 'string' },
        reason: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    log(CONTROL_USAGE);
    throw new UsageError('');
  }
  const [action, ...extra] = parsed.positionals;
  if (action === undefined) throw new UsageError('missing the command: pause, resume or stop');
  if (!Object.hasOwn(CONTROL_ACTIONS, action)) throw new UsageError(`unknown command "${action}" (expected pause, resume or stop)`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const dataDir = v['data-dir'] ?? DEFAULT_DATA_DIR;
  if (dataDir.trim() === '') throw new UsageError('--data-dir must not be empty');
  const reason = v.reason ?? `npm run ${action}`;
  if (reason.trim() === '') throw new UsageError('--reason must not be empty');
  if (reason.length > MAX_REASON_LENGTH) throw new UsageError(`--reason must be at most ${MAX_REASON_LENGTH} characters, got ${reason.length}`);
  return { action: action as ControlAction, dataDir, reason };
}

export interface ControlIo {
  readonly log: (s: string) => void;
  readonly err: (s: string) => void;
  /** Clock for the file's `at` (default Date.now). */
  readonly now?: () => number;
}

/**
 * Runs the command: reads the current state (to say what changes), writes the new one, prints both
 * and what the running process will do. Throws UsageError for bad flags, KillSwitchWriteError when
 * the file cannot be written.
 */
export async function controlCommand(argv: readonly string[], io: ControlIo): Promise<KillSwitchState> {
  const args = parseControlArgs(argv, io.log);
  const path = killSwitchFilePath(args.dataDir);
  const source = new FileKillSwitchSource(path, io.now ? { now: io.now } : {});
  const to = CONTROL_ACTIONS[args.action];
  let before: string;
  try {
    const parsed = parseKillSwitchValue(await source.read());
    before = parsed.ok ? parsed.state : `unreadable (${parsed.detail})`;
    if (!parsed.ok) io.err(`warning: the kill switch held an unknown value (${parsed.detail}); the running process treated it as PAUSED. It is replaced now.`);
  } catch (e) {
    // The old value only makes the message friendlier; the write below is what matters.
    before = `unreadable (${(e as Error).message})`;
  }
  await source.write(to, args.reason);
  io.log(`kill switch: ${before} -> ${to} (${path}, reason: ${args.reason})`);
  io.log(STATE_EFFECT[to]);
  return to;
}
