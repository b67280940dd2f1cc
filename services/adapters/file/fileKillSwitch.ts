/**
 * The local kill switch: a small JSON file, `{ "state": "PAUSED", "reason": "...", "at": "ISO" }`,
 * under the data folder (`npm run pause|resume|stop` write it, the running process polls it).
 *
 * - A missing file means RUNNING: that is the local default, a fresh checkout trades on paper.
 * - A file that is not JSON, or has no string `state`, is returned as an unusable reading, which the
 *   KillSwitch treats as PAUSED and reports (someone edited it by hand and got it wrong).
 * - Writes are atomic: the JSON goes to a temporary file in the same folder, then is renamed over
 *   the old one, so a reader never sees half a file.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  KillSwitchReadError,
  KillSwitchWriteError,
  type KillSwitchReading,
  type KillSwitchSource,
  type KillSwitchState,
} from '../../control/killSwitch.js';

/** The file name under the data folder. */
export const KILL_SWITCH_FILE = 'kill-switch.json';

/** Reasons longer than this are cut: the file is read every 5 s and should stay small. */
export const MAX_REASON_LENGTH = 500;

/** Files larger than this are not parsed (a kill-switch file is a few hundred bytes). */
const MAX_FILE_BYTES = 64 * 1024;

/** The file's content. */
export interface KillSwitchFile {
  readonly state: KillSwitchState;
  readonly reason: string;
  /** ISO-8601 time of the write. */
  readonly at: string;
}

/** The kill-switch file's path under a data folder. */
export function killSwitchFilePath(dataDir: string): string {
  return join(dataDir, KILL_SWITCH_FILE);
}

/** KillSwitchSource over a JSON file; see the file comment. */
export class FileKillSwitchSource implements KillSwitchSource {
  private readonly now: () => number;
  private tmpSeq = 0;

  /** `now` stamps the `at` field of writes (default Date.now). */
  constructor(
    readonly path: string,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Reads the file; missing = RUNNING; unparsable = a reading with a problem (PAUSED). */
  async read(): Promise<KillSwitchReading> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { value: 'RUNNING' };
      throw new KillSwitchReadError(`cannot read kill-switch file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e, retryable: true });
    }
    return parseKillSwitchFile(text, this.path);
  }

  /** Writes `{ state, reason, at }` atomically (temporary file, then rename); creates the folder. */
  async write(state: KillSwitchState, reason: string): Promise<void> {
    const content: KillSwitchFile = { state, reason: reason.slice(0, MAX_REASON_LENGTH), at: new Date(this.now()).toISOString() };
    // pid and a counter make the temporary name unique per writer, so two writers never share one.
    const tmp = `${this.path}.${process.pid}.${++this.tmpSeq}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(tmp, JSON.stringify(content, null, 2) + '\n', 'utf8');
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new KillSwitchWriteError(`cannot write kill-switch file ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
  }
}

/** Parses the file's text into a reading; anything unusable comes back with a `problem`. */
export function parseKillSwitchFile(text: string, path: string): KillSwitchReading {
  if (text.length > MAX_FILE_BYTES) return { value: text.slice(0, 64), problem: `kill-switch file ${path} is larger than ${MAX_FILE_BYTES} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { value: text.trim().slice(0, 64), problem: `kill-switch file ${path} is not valid JSON (${(e as Error).message})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { value: text.trim().slice(0, 64), problem: `kill-switch file ${path} is not a JSON object` };
  }
  const state = (parsed as Record<string, unknown>).state;
  if (typeof state !== 'string') return { value: text.trim().slice(0, 64), problem: `kill-switch file ${path} has no string "state" field` };
  // The state string itself is validated by the KillSwitch, in one place for every adapter.
  const reason = (parsed as Record<string, unknown>).reason;
  return { value: state, ...(typeof reason === 'string' && reason.trim() !== '' ? { reason: reason.slice(0, MAX_REASON_LENGTH) } : {}) };
}
