/**
 * The local embedded store on disk refuses a damaged or partial state instead of starting empty
 * (issue 15, defect 3: deleting CURRENT made LevelDB start a new database and delete the old tables),
 * keeps every file, backs the state up before opening it, and says what is wrong in one line.
 * A real dynalite state is written through the state store, then damaged the way the adversarial
 * run did.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { BACKUPS_KEPT, LocalStateError, backupFolderOf, checkLocalState } from '../../services/adapters/dynamo/localStateGuard.js';
import { REPO_ROOT } from '../../lib/paths.js';

const TABLE = 'guard-test';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A state folder with a lease and a heartbeat written through the store, closed again. */
async function writtenState(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'local-state-'));
  dirs.push(root);
  const dir = join(root, 'state');
  const d = await startLocalDynamo({ path: dir });
  await createTable(d.client, TABLE);
  const store = createDynamoStore({ client: d.client, tableName: TABLE, clock: () => 1_700_000_000_000 });
  for (let i = 0; i < 30; i++) await store.acquireLease(`SYM${i}USDT`, 'owner', 60_000, 1_700_000_000_000);
  await d.close();
  // Opened once more: LevelDB turns its write-ahead log into a compacted table (.ldb) on open.
  await (await startLocalDynamo({ path: dir })).close();
  return dir;
}

async function refusal(dir: string): Promise<LocalStateError> {
  try {
    await checkLocalState(dir, '2026-01-01T00:00:00.000Z');
  } catch (e) {
    if (e instanceof LocalStateError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function listing(dir: string): Promise<string> {
  const out: string[] = [];
  for (const n of (await readdir(dir)).sort()) if (n !== 'LOCK') out.push(`${n}:${(await stat(join(dir, n))).size}`);
  return out.join(' ');
}

describe('the local state on disk', () => {
  it('reopens with its data, after a backup taken before the open (the newest three kept)', async () => {
    const dir = await writtenState();
    for (let i = 0; i < BACKUPS_KEPT + 1; i++) {
      const d = await startLocalDynamo({ path: dir });
      expect(d.state?.fresh).toBe(false);
      expect(d.state?.entries).toBeGreaterThanOrEqual(30);
      expect(d.state?.backup?.startsWith(backupFolderOf(dir))).toBe(true);
      const store = createDynamoStore({ client: d.client, tableName: TABLE, clock: () => 1_700_000_000_000 });
      expect((await store.getLease('SYM7USDT'))?.owner).toBe('owner');
      await d.close();
    }
    expect(await readdir(backupFolderOf(dir))).toHaveLength(BACKUPS_KEPT);
    // The backup is a working state of its own.
    const latest = (await readdir(backupFolderOf(dir))).sort().at(-1)!;
    const copy = await startLocalDynamo({ path: join(backupFolderOf(dir), latest) });
    const store = createDynamoStore({ client: copy.client, tableName: TABLE, clock: () => 1_700_000_000_000 });
    expect((await store.getLease('SYM29USDT'))?.owner).toBe('owner');
    await copy.close();
  }, 30_000);

  it('refuses a state whose CURRENT was deleted and keeps every file (it used to start empty and delete the tables)', async () => {
    const dir = await writtenState();
    await unlink(join(dir, 'CURRENT'));
    const before = await listing(dir);
    const e = await refusal(dir);
    expect(e.kind).toBe('partial');
    expect(e.message).toMatch(/CURRENT is missing/);
    expect(e.message).toMatch(/the files are kept/);
    expect(e.message).not.toContain('\n');
    expect(await listing(dir)).toBe(before);
    await expect(startLocalDynamo({ path: dir })).rejects.toBeInstanceOf(LocalStateError);
    expect(await listing(dir)).toBe(before);
  }, 30_000);

  it('refuses a missing MANIFEST, a zero-length table, a damaged table and a CURRENT that names nothing, each in one line', async () => {
    const manifest = await writtenState();
    const named = (await readFile(join(manifest, 'CURRENT'), 'utf8')).trim();
    await unlink(join(manifest, named));
    expect((await refusal(manifest)).kind).toBe('missing-manifest');

    const zero = await writtenState();
    const table = (await readdir(zero)).find((n) => n.endsWith('.ldb'));
    expect(table, 'the state has a compacted table').toBeDefined();
    await truncate(join(zero, table!), 0);
    const z = await refusal(zero);
    expect(z.kind).toBe('zero-length');
    expect(z.message).toContain(table!);

    const damaged = await writtenState();
    const t = (await readdir(damaged)).find((n) => n.endsWith('.ldb'))!;
    const bytes = await readFile(join(damaged, t));
    for (let i = 0; i < Math.min(200, bytes.length - 100); i++) bytes[i] = bytes[i]! ^ 0x5a;
    await writeFile(join(damaged, t), bytes);
    const damagedFiles = await listing(damaged);
    const d = await refusal(damaged);
    expect(d.kind).toBe('corrupt');
    expect(await listing(damaged)).toBe(damagedFiles);

    const garbled = await writtenState();
    await writeFile(join(garbled, 'CURRENT'), 'hello\n');
    expect((await refusal(garbled)).kind).toBe('corrupt');

    const emptyCurrent = await writtenState();
    await writeFile(join(emptyCurrent, 'CURRENT'), '');
    expect((await refusal(emptyCurrent)).kind).toBe('zero-length');

    for (const e of [z, d]) expect(e.message).not.toContain('\n');
  }, 60_000);

  it('refuses a second instance on the same folder while the first has it open', async () => {
    const dir = await writtenState();
    const first = await startLocalDynamo({ path: dir });
    // dynalite opens LevelDB lazily: one request makes sure it holds the lock.
    await createTable(first.client, 'other').catch(() => undefined);
    try {
      const e = await startLocalDynamo({ path: dir }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(LocalStateError);
      expect((e as LocalStateError).kind).toBe('locked');
      expect((e as LocalStateError).message).toMatch(/is open in another process/);
    } finally {
      await first.close();
    }
  }, 30_000);

  it('refuses a read-only folder (checked as an unprivileged user when the tests run as root)', async () => {
    const dir = await writtenState();
    await chmod(dir, 0o555);
    try {
      if (process.getuid?.() === 0) {
        // root writes anywhere: run the check as `nobody`, who only has the folder's r-x.
        await chmod(join(dir, '..'), 0o755);
        const script = `import('./services/adapters/dynamo/localStateGuard.ts').then((m) => m.checkLocalState(${JSON.stringify(dir)}, 'x')).then(() => console.log('opened'), (e) => console.log(e.kind + ' | ' + e.message))`;
        const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: REPO_ROOT, uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, HOME: '/tmp' }, timeout: 60_000 });
        expect(r.stdout.trim()).toMatch(/^read-only \| local state .* is not writable \(EACCES\)/);
      } else {
        expect((await refusal(dir)).kind).toBe('read-only');
      }
    } finally {
      await chmod(dir, 0o755);
    }
  }, 60_000);

  it('npm start on a state without CURRENT prints one error line, no stack, and exits 1', async () => {
    const dir = await writtenState();
    await unlink(join(dir, 'CURRENT'));
    const env = { ...process.env, MEXC_PING_URL: 'http://127.0.0.1:9/api/v3/ping', MEXC_EXCHANGE_URL: '', STATUS_PORT: '', MEXC_API_KEY: '', MEXC_API_SECRET: '' };
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/start.ts', '--status-port', '0', '--data-dir', join(dir, '..')], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(errors.filter((l) => l.startsWith('error: LocalStateError: local state'))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/CURRENT is missing/);
  }, 60_000);

  it('starts empty on a new or empty folder, and takes no backup of nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'local-state-'));
    dirs.push(root);
    const r = await checkLocalState(join(root, 'new', 'state'), 'x');
    expect(r).toEqual({ fresh: true, entries: 0 });
    await expect(readdir(backupFolderOf(join(root, 'new', 'state')))).rejects.toThrow();
  });
});
