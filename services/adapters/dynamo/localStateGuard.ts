/**
 * The checks the local embedded store (dynalite on LevelDB files, `npm start`) makes before it
 * opens a state folder, and the backup it takes first.
 *
 * LevelDB treats a folder without its 16-byte `CURRENT` file as a new database: it starts empty and
 * deletes the old tables as obsolete, so a lost `CURRENT` silently erased the whole history. Opening
 * also compacts in the background. So before dynalite sees the folder:
 *
 * - a folder that holds LevelDB files must be whole: `CURRENT` present, non-empty, naming a MANIFEST
 *   that exists; no zero-length MANIFEST or table; otherwise the start is refused (`partial`,
 *   `missing-manifest`, `zero-length`);
 * - it must be writable (`read-only`);
 * - it is copied to `<folder>-backups/<time>` (the newest BACKUPS_KEPT are kept) before anything
 *   opens it, so whatever an open's recovery or compaction does, the state as it was stays on disk;
 * - a scratch copy of that backup is opened without creating anything and read end to end (a few MB
 *   locally), which finds a damaged table (`corrupt`) without LevelDB touching the original;
 * - the original is opened once, which finds another process, or another instance in this one,
 *   that has it open (`locked`).
 *
 * A refusal never changes a file: the message says what is wrong, that the files are kept, and
 * where the last good copy is. Each problem is a LocalStateError with its kind: one line, no stack.
 */
import { constants } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { DomainError } from '../../core/errors.js';

export type LocalStateProblem = 'not-a-folder' | 'read-only' | 'partial' | 'missing-manifest' | 'zero-length' | 'corrupt' | 'locked';

/** The local state cannot be opened safely; `kind` says why. */
export class LocalStateError extends DomainError {
  override readonly name = 'LocalStateError';
  constructor(
    readonly kind: LocalStateProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Backups kept per state folder (oldest removed first). */
export const BACKUPS_KEPT = 3;

/** What the check found and did. */
export interface LocalStateCheck {
  /** No LevelDB files yet: the store starts empty, nothing was backed up. */
  readonly fresh: boolean;
  /** The copy taken before opening, when there was something to copy. */
  readonly backup?: string;
  /** Entries read end to end. */
  readonly entries: number;
}

const TABLE = /^\d+\.(ldb|sst)$/;
const MANIFEST = /^MANIFEST-\d+$/;
const WAL = /^\d+\.log$/;

/** Where the backups of `dir` go. */
export function backupFolderOf(dir: string): string {
  return join(dirname(dir), `${basename(dir)}-backups`);
}

interface LevelLike {
  open(): Promise<void>;
  close(): Promise<void>;
  iterator(): AsyncIterable<[unknown, unknown]>;
}
type LevelCtor = new (location: string, options: { createIfMissing: boolean; valueEncoding: string }) => LevelLike;

const codeOf = (e: unknown): string | undefined => (typeof e === 'object' && e !== null && 'code' in e ? String((e).code) : undefined);
const causeOf = (e: unknown): unknown => (e instanceof Error ? e.cause : undefined);

/** Checks `dir` and backs it up (see the file comment). `stamp` names the backup (an ISO time). */
export async function checkLocalState(dir: string, stamp: string): Promise<LocalStateCheck> {
  const kept = (await latestBackup(dir)) ?? 'none yet';
  const refuse = (kind: LocalStateProblem, what: string, cause?: unknown): LocalStateError =>
    new LocalStateError(kind, `local state ${dir}: ${what}. Nothing was changed (the files are kept); last backup: ${kept}. Restore it, or move the folder away to start empty.`, { cause });

  let names: string[];
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw refuse('not-a-folder', 'is not a folder');
    names = await readdir(dir);
  } catch (e) {
    if (e instanceof LocalStateError) throw e;
    if (codeOf(e) !== 'ENOENT') throw refuse('read-only', `cannot be read (${codeOf(e) ?? String(e)})`, e);
    try {
      await mkdir(dir, { recursive: true });
    } catch (m) {
      throw refuse('read-only', `cannot be created (${codeOf(m) ?? String(m)})`, m);
    }
    names = [];
  }
  await writable(dir, refuse);

  const leveldb = names.filter((n) => n === 'CURRENT' || TABLE.test(n) || MANIFEST.test(n) || WAL.test(n));
  if (leveldb.length === 0) return { fresh: true, entries: 0 };
  if (!names.includes('CURRENT')) {
    throw refuse('partial', `CURRENT is missing while ${leveldb.length} LevelDB file(s) are there (${leveldb.slice(0, 5).join(', ')}); opening it would start an empty store and delete them`);
  }
  const empty: string[] = [];
  for (const n of names.filter((x) => x === 'CURRENT' || TABLE.test(x) || MANIFEST.test(x))) if ((await stat(join(dir, n))).size === 0) empty.push(n);
  if (empty.length > 0) throw refuse('zero-length', `zero-length file(s): ${empty.join(', ')}`);
  const current = (await readFile(join(dir, 'CURRENT'), 'utf8')).trim();
  if (!MANIFEST.test(current)) throw refuse('corrupt', `CURRENT does not name a MANIFEST (it holds ${JSON.stringify(current.slice(0, 40))})`);
  if (!names.includes(current)) throw refuse('missing-manifest', `${current}, which CURRENT names, is missing`);

  const backup = await takeBackup(dir, stamp);
  const dropBackup = () => rm(backup, { recursive: true, force: true });
  const scratch = await mkdtemp(join(tmpdir(), 'local-state-check-'));
  let entries: number;
  try {
    await cp(backup, scratch, { recursive: true });
    entries = await readThrough(scratch, refuse);
  } catch (e) {
    // A copy of a damaged state is no backup: the older ones stay the last good copies.
    await dropBackup();
    throw e;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  try {
    await readThrough(dir, refuse, false);
  } catch (e) {
    await dropBackup();
    throw e;
  }
  return { fresh: false, backup, entries };
}

async function writable(dir: string, refuse: (k: LocalStateProblem, w: string, c?: unknown) => LocalStateError): Promise<void> {
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    await access(dir, constants.W_OK);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (e) {
    throw refuse('read-only', `is not writable (${codeOf(e) ?? String(e)}); the store writes there on every change`, e);
  }
}

/** Opens the folder without creating anything and reads every entry (or only opens it). */
async function readThrough(dir: string, refuse: (k: LocalStateProblem, w: string, c?: unknown) => LocalStateError, read = true): Promise<number> {
  const require = createRequire(import.meta.url);
  const { ClassicLevel } = require('classic-level') as { ClassicLevel: LevelCtor };
  const db = new ClassicLevel(dir, { createIfMissing: false, valueEncoding: 'utf8' });
  try {
    await db.open();
  } catch (e) {
    const code = codeOf(causeOf(e)) ?? codeOf(e);
    const detail = causeOf(e) instanceof Error ? (causeOf(e) as Error).message : e instanceof Error ? e.message : String(e);
    if (code === 'LEVEL_LOCKED') throw refuse('locked', `is open in another process (or another instance of this one): one store per folder at a time`, e);
    throw refuse('corrupt', `LevelDB cannot open it (${detail})`, e);
  }
  let n = 0;
  try {
    if (read) for await (const entry of db.iterator()) if (entry) n++;
  } catch (e) {
    throw refuse('corrupt', `a table is damaged (${e instanceof Error ? e.message : String(e)})`, e);
  } finally {
    await db.close().catch(() => undefined);
  }
  return n;
}

/** Copies the folder (but its LOCK) to a new backup and keeps the newest BACKUPS_KEPT. */
async function takeBackup(dir: string, stamp: string): Promise<string> {
  const root = backupFolderOf(dir);
  const target = join(root, stamp.replace(/[:.]/g, '-'));
  await mkdir(root, { recursive: true });
  await cp(dir, target, { recursive: true, filter: (src) => basename(src) !== 'LOCK' && !basename(src).startsWith('.write-probe') });
  const all = (await readdir(root)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - BACKUPS_KEPT))) await rm(join(root, old), { recursive: true, force: true });
  return target;
}

async function latestBackup(dir: string): Promise<string | undefined> {
  try {
    const all = (await readdir(backupFolderOf(dir))).sort();
    const last = all[all.length - 1];
    return last === undefined ? undefined : join(backupFolderOf(dir), last);
  } catch {
    return undefined;
  }
}
