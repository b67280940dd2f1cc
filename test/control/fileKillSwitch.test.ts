import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileKillSwitchSource, killSwitchFilePath, MAX_REASON_LENGTH } from '../../services/adapters/file/fileKillSwitch.js';
import { KillSwitch, KillSwitchReadError, KillSwitchWriteError, type KillSwitchProblem } from '../../services/control/killSwitch.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ks-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileKillSwitchSource', () => {
  it('a missing file reads as RUNNING (the local default)', async () => {
    expect(await new FileKillSwitchSource(join(dir, 'none', 'kill-switch.json')).read()).toEqual({ value: 'RUNNING' });
  });

  it('writes { state, reason, at } and reads the state back; creates the folder', async () => {
    const path = killSwitchFilePath(join(dir, 'data', 'local'));
    const src = new FileKillSwitchSource(path, { now: () => Date.UTC(2026, 11, 1, 13, 0, 0) });
    await src.write('PAUSED', 'maintenance');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ state: 'PAUSED', reason: 'maintenance', at: '2026-12-01T13:00:00.000Z' });
    expect(await src.read()).toEqual({ value: 'PAUSED', reason: 'maintenance' });
    await src.write('EMERGENCY_STOP', 'x');
    expect(await src.read()).toEqual({ value: 'EMERGENCY_STOP', reason: 'x' });
    // The rename left no temporary file behind.
    expect(await readdir(join(dir, 'data', 'local'))).toEqual(['kill-switch.json']);
  });

  it('cuts a long reason', async () => {
    const path = join(dir, 'k.json');
    await new FileKillSwitchSource(path).write('PAUSED', 'x'.repeat(MAX_REASON_LENGTH + 100));
    expect((JSON.parse(await readFile(path, 'utf8')) as { reason: string }).reason).toHaveLength(MAX_REASON_LENGTH);
  });

  it('an unparsable file is PAUSED and reported by the switch', async () => {
    const path = join(dir, 'k.json');
    await writeFile(path, '{ "state": "RUNNING", ');
    const reading = await new FileKillSwitchSource(path).read();
    expect(reading.problem).toMatch(/is not valid JSON/);
    const problems: KillSwitchProblem[] = [];
    const ks = new KillSwitch(new FileKillSwitchSource(path), { now: () => 0, onProblem: (p) => problems.push(p) });
    expect(await ks.current()).toBe('PAUSED');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'invalid_value' });
  });

  it('JSON without a string state, or not an object, is unusable too', async () => {
    const path = join(dir, 'k.json');
    const src = new FileKillSwitchSource(path);
    await writeFile(path, '{"status":"RUNNING"}');
    expect((await src.read()).problem).toMatch(/no string "state"/);
    await writeFile(path, '["RUNNING"]');
    expect((await src.read()).problem).toMatch(/not a JSON object/);
  });

  it('a hand-written file with a typo in the state comes back as is (PAUSED in the switch)', async () => {
    const path = join(dir, 'k.json');
    await writeFile(path, '{"state":"STOP"}');
    expect(await new FileKillSwitchSource(path).read()).toEqual({ value: 'STOP' });
    expect(await new KillSwitch(new FileKillSwitchSource(path), { now: () => 0 }).current()).toBe('PAUSED');
  });

  it('a path that is a folder is a read failure; writing under a file is a write failure', async () => {
    await mkdir(join(dir, 'k.json'));
    await expect(new FileKillSwitchSource(join(dir, 'k.json')).read()).rejects.toBeInstanceOf(KillSwitchReadError);
    await writeFile(join(dir, 'plain'), 'x');
    const err = await new FileKillSwitchSource(join(dir, 'plain', 'k.json')).write('PAUSED', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KillSwitchWriteError);
    expect((err as Error).cause).toBeDefined();
  });
});
