/**
 * `--help` for every npm script that runs one of this project's CLIs (`tsx <file>`): exit 0, a
 * usage text, and no stack trace. The scripts are read from package.json, so a new one is covered
 * without editing this test; the ones that run other tools (vitest, eslint, tsc, cdk) are not ours.
 * Each runs in its own process, all at once.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
const ours = Object.entries(scripts)
  .map(([name, cmd]) => ({ name, args: /^tsx (\S+\.ts)((?: [\w:-]+)*)$/.exec(cmd) }))
  .filter((s): s is { name: string; args: RegExpExecArray } => s.args !== null)
  .map((s) => ({ name: s.name, argv: [s.args[1]!, ...s.args[2]!.trim().split(' ').filter(Boolean)] }));

function run(argv: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...argv, '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('--help of every npm script', () => {
  it('covers the project CLIs in package.json', () => {
    expect(ours.map((s) => s.name)).toEqual(expect.arrayContaining(['start', 'backtest', 'optimize', 'bench', 'windows', 'soak', 'check:aws', 'telegram:webhook', 'pause']));
  });

  it('prints a usage text and exits 0, without a stack trace', async () => {
    const results = await Promise.all(ours.map(async (s) => ({ ...s, ...(await run(s.argv)) })));
    for (const r of results) {
      expect(r.code, `npm run ${r.name} -- --help exited ${r.code}:\n${r.out}`).toBe(0);
      expect(r.out, `npm run ${r.name} -- --help`).toMatch(/usage:/i);
      expect(r.out, `npm run ${r.name} -- --help printed a stack`).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    }
  }, 120_000);
});
