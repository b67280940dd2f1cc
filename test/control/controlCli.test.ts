import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseControlArgs, controlCommand } from '../../cli/control.js';
import { UsageError } from '../../cli/args.js';
import { FileKillSwitchSource } from '../../services/adapters/file/fileKillSwitch.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ks-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/control.ts', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run pause|resume|stop (bin/control.ts)', () => {
  it('pause writes PAUSED under the data folder, says what happens; the file source then reads PAUSED', async () => {
    const dataDir = join(dir, 'data', 'local');
    const r = run('pause', '--data-dir', dataDir, '--reason', 'checking fills');
    expect(r.code).toBe(0);
    expect(r.out).toContain('RUNNING -> PAUSED');
    expect(r.out).toContain('PAUSED: no new entries; open positions are still managed; takes effect within 5 s');
    const file = JSON.parse(await readFile(join(dataDir, 'kill-switch.json'), 'utf8')) as Record<string, string>;
    expect(file.state).toBe('PAUSED');
    expect(file.reason).toBe('checking fills');
    expect(Number.isNaN(Date.parse(file.at!))).toBe(false);
    expect(await new FileKillSwitchSource(join(dataDir, 'kill-switch.json')).read()).toEqual({ value: 'PAUSED', reason: 'checking fills' });
  }, 30_000);

  it('a bad flag prints one error line naming it and exits 2, writing nothing', async () => {
    const r = run('stop', '--data-dir', dir, '--force');
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toMatch(/^error: .*--force/);
    await expect(readFile(join(dir, 'kill-switch.json'))).rejects.toThrow(/ENOENT/);
  }, 30_000);
});

describe('controlCommand', () => {
  it('stop then resume: each says the previous and new state and what the process does', async () => {
    const lines: string[] = [];
    const io = { log: (s: string) => lines.push(s), err: (s: string) => lines.push(s), now: () => Date.UTC(2026, 0, 2) };
    expect(await controlCommand(['stop', '--data-dir', dir], io)).toBe('EMERGENCY_STOP');
    expect(lines[0]).toContain('RUNNING -> EMERGENCY_STOP');
    expect(lines[0]).toContain('reason: npm run stop');
    expect(lines[1]).toMatch(/^EMERGENCY_STOP: every open order is cancelled, every position closed/);
    lines.length = 0;
    expect(await controlCommand(['resume', '--data-dir', dir], io)).toBe('RUNNING');
    expect(lines[0]).toContain('EMERGENCY_STOP -> RUNNING');
    expect(lines[1]).toContain('stays halted until it is restarted');
    expect(JSON.parse(await readFile(join(dir, 'kill-switch.json'), 'utf8'))).toEqual({ state: 'RUNNING', reason: 'npm run resume', at: '2026-01-02T00:00:00.000Z' });
  });

  it.each(['emergency_stop', 'EMERGENCY STOP', ''])('warns when the switch held an unknown value (%j) before replacing it', async (bad) => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'kill-switch.json'), JSON.stringify({ state: bad, reason: 'typed by hand', at: new Date().toISOString() }));
    const out: string[] = [];
    const err: string[] = [];
    await controlCommand(['pause', '--data-dir', dir], { log: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/^warning: the kill switch held an unknown value \(unknown kill-switch value ".*" \(expected RUNNING, PAUSED, EMERGENCY_STOP\)\); the running process treated it as PAUSED/);
    expect(await new FileKillSwitchSource(join(dir, 'kill-switch.json')).read()).toEqual({ value: 'PAUSED' });
  });

  it('defaults to data/local', () => {
    expect(parseControlArgs(['pause'], () => undefined)).toEqual({ action: 'pause', dataDir: 'data/local', reason: 'npm run pause' });
  });

  it.each([
    [[], /missing the command/],
    [['halt'], /unknown command "halt"/],
    [['pause', 'extra'], /unexpected argument "extra"/],
    [['pause', '--data-dir'], /--data-dir/],
    [['pause', '--reason', ''], /--reason must not be empty/],
    [['pause', '--reason', 'x'.repeat(501)], /--reason must be at most 500/],
  ])('rejects %j', (argv, message) => {
    let err: unknown;
    try {
      parseControlArgs(argv, () => undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });
});
