/**
 * Where `npm run sim` takes the account's secret from (issue 15, defect 8): a file or the
 * environment, which the process list does not show; the flag still works, with a warning. No
 * message ever contains the secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/args.js';
import { DEMO_API_SECRET, parseSimArgs, SIM_API_KEY_ENV, SIM_API_SECRET_ENV } from '../../cli/sim.js';

const DATA = 'test/fixtures/candles/BTCUSDT';
const CANARY = 'canary-secret-7f3a9c';
const dir = mkdtempSync(join(tmpdir(), 'sim-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const parse = (argv: string[], env: Record<string, string> = {}) => parseSimArgs(['--data', DATA, ...argv], () => undefined, env);
const usage = (argv: string[], env: Record<string, string> = {}): string => {
  try {
    parse(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('expected a UsageError');
};

describe('sim credentials', () => {
  it('reads the secret from --api-secret-file, without its trailing line break, and warns about nothing', () => {
    const a = parse(['--api-key', 'mine', '--api-secret-file', file('s1', `${CANARY}\n`)]);
    expect(a).toMatchObject({ apiKey: 'mine', apiSecret: CANARY, secretGiven: true, warnings: [] });
  });

  it('reads key and secret from the environment', () => {
    const a = parse([], { [SIM_API_KEY_ENV]: 'env-key', [SIM_API_SECRET_ENV]: CANARY });
    expect(a).toMatchObject({ apiKey: 'env-key', apiSecret: CANARY, secretGiven: true, warnings: [] });
    // A flag wins over the environment.
    expect(parse(['--api-key', 'flag-key'], { [SIM_API_SECRET_ENV]: CANARY }).apiKey).toBe('flag-key');
  });

  it('still takes --api-secret, with a warning that names the way out and not the secret', () => {
    const a = parse(['--api-key', 'mine', '--api-secret', CANARY]);
    expect(a.apiSecret).toBe(CANARY);
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatch(/process list/);
    expect(a.warnings[0]).toContain('--api-secret-file');
    expect(a.warnings[0]).toContain(SIM_API_SECRET_ENV);
    expect(a.warnings[0]).not.toContain(CANARY);
  });

  it('keeps the demo account when nothing is given', () => {
    expect(parse([])).toMatchObject({ apiSecret: DEMO_API_SECRET, secretGiven: false, warnings: [] });
  });

  it('refuses a secret without a key, a key without a secret, two secret flags, and bad files, never showing a secret', () => {
    const messages = [
      usage(['--api-secret-file', file('s2', CANARY)]),
      usage([], { [SIM_API_SECRET_ENV]: CANARY }),
      usage([], { [SIM_API_KEY_ENV]: 'k' }),
      usage(['--api-key', 'k', '--api-secret', CANARY, '--api-secret-file', file('s3', CANARY)]),
      usage(['--api-key', 'k', '--api-secret-file', file('empty', '\n')]),
      usage(['--api-key', 'k', '--api-secret-file', join(dir, 'missing')]),
      usage(['--api-key', 'k', '--api-secret-file', dir]),
      usage(['--api-key', 'k', '--api-secret-file', file('big', CANARY.repeat(1_000))]),
    ];
    expect(messages[0]).toBe(`--api-secret-file needs --api-key (or ${SIM_API_KEY_ENV}) too`);
    expect(messages[1]).toBe(`${SIM_API_SECRET_ENV} needs --api-key (or ${SIM_API_KEY_ENV}) too`);
    expect(messages[2]).toBe(`${SIM_API_KEY_ENV} needs --api-secret-file (or ${SIM_API_SECRET_ENV}) too`);
    expect(messages[3]).toBe('--api-secret and --api-secret-file: give one of them');
    expect(messages[4]).toMatch(/the file is empty$/);
    expect(messages[5]).toMatch(/cannot be read \(ENOENT\)$/);
    expect(messages[6]).toMatch(/not a regular file$/);
    expect(messages[7]).toMatch(/expected a secret of at most 4096 bytes$/);
    for (const m of messages) expect(m).not.toContain(CANARY);
  });

  it('checks --admin-allow', () => {
    expect(parse([]).adminAccess).toBe('loopback');
    expect(parse(['--admin-allow', 'any']).adminAccess).toBe('any');
    expect(parse(['--admin-allow', '10.0.0.5, ::1']).adminAccess).toEqual({ allow: ['10.0.0.5', '::1'] });
    expect(usage(['--admin-allow', '10.0.0.5,office'])).toBe('--admin-allow must be "any" or IP addresses separated by commas, got "office"');
  });
});
