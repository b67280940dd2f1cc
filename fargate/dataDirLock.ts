/**
 * One `npm start` per data folder. The embedded state (dynalite on LevelDB under `<dataDir>/state`)
 * can be opened by one process only; a second start on the same folder would fail deep inside the
 * database with a stack trace, or worse, race the first for the kill-switch file. So the runtime
 * takes `<dataDir>/runtime.lock` (created exclusively, holding the pid and start time) before it
 * opens anything, and says plainly who holds it.
 *
 * A lock whose pid no longer runs (the process was killed: crash-only) is stale and taken over;
 * so is one holding this process's own pid (a container restarted with the same pid 1).
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DomainError } from '../services/core/errors.js';

export const LOCK_FILE = 'runtime.lock';

/** Another live process holds the data folder. */
export class DataDirLockedError extends DomainError {
  override readonly name = 'DataDirLockedError';
}

export interface DataDirLock {
  readonly path: string;
  /** Set when a stale lock was replaced: its pid. */
  readonly replacedPid?: number;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock of `dataDir` (see the file comment); throws DataDirLockedError naming the holder. */
export function lockDataDir(dataDir: string, now: number): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  let replacedPid: number | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date(now).toISOString() }) + '\n');
      closeSync(fd);
      let released = false;
      return {
        path,
        ...(replacedPid !== undefined ? { replacedPid } : {}),
        release: () => {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: { pid?: unknown; startedAt?: unknown } = {};
    try {
      holder = JSON.parse(readFileSync(path, 'utf8')) as typeof holder;
    } catch {
      // Unreadable or half-written: treated as stale below (no pid to be alive).
    }
    const pid = typeof holder.pid === 'number' && Number.isInteger(holder.pid) && holder.pid > 0 ? holder.pid : undefined;
    if (pid !== undefined && pid !== process.pid && alive(pid)) {
      throw new DataDirLockedError(
        `another npm start (pid ${pid}${typeof holder.startedAt === 'string' ? `, started ${holder.startedAt}` : ''}) is using the data folder ${dataDir}; ` +
          `stop it first (Ctrl-C in its terminal), or give this one its own folder with --data-dir <dir> (and --status-port <n>)`,
      );
    }
    replacedPid = pid;
    rmSync(path, { force: true });
  }
  throw new DataDirLockedError(`cannot take the lock ${path}: another process keeps creating it`);
}
