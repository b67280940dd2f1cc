/** The `npm run sim` command: flags, what it prints (never a secret the user typed), and a live run. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../cli/args.js';
import { DEMO_API_KEY, DEMO_API_SECRET, parseSimArgs, simCommand } from '../../cli/sim.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import { signedFetch } from './helpers.js';

const DATA = 'test/fixtures/candles/BTCUSDT';

describe('sim flags', () => {
  const bad = (argv: string[]): string => {
    try {
      parseSimArgs(argv, () => undefined);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('expected a UsageError');
  };

  it('names the bad flag', () => {
    expect(bad([])).toMatch(/^--data is required/);
    expect(bad(['--data', DATA, '--port', '70000'])).toMatch(/^--port /);
    expect(bad(['--data', DATA, '--speed', '0'])).toMatch(/^--speed must be a positive number/);
    expect(bad(['--data', DATA, '--faults', 'wobbly'])).toMatch(/^--faults: unknown fault profile "wobbly"/);
    expect(bad(['--data', DATA, '--faults', '{"serverError":2}'])).toMatch(/^--faults: fault profile: serverError: /);
    expect(bad(['--data', DATA, '--api-key', 'k'])).toBe('--api-key needs --api-secret too');
    expect(bad(['--data', DATA, '--api-secret', 's'])).toBe('--api-secret needs --api-key too');
    expect(bad(['--data', DATA, '--balance', 'lots'])).toMatch(/^--balance /);
    expect(bad(['--data', DATA, '--frobnicate'])).toMatch(/--frobnicate/);
  });

  it('has documented defaults', () => {
    const a = parseSimArgs(['--data', DATA], () => undefined);
    expect(a).toMatchObject({ port: 0, host: '127.0.0.1', speed: 60, apiKey: DEMO_API_KEY, apiSecret: DEMO_API_SECRET, secretGiven: false });
    expect(a.balance.toString()).toBe('10000');
    expect(a.faults.name).toBe('none');
  });

  it('prints the usage for --help', () => {
    const lines: string[] = [];
    expect(() => parseSimArgs(['--help'], (s) => lines.push(s))).toThrow(UsageError);
    expect(lines.join('\n')).toMatch(/^usage: npm run sim -- --data/);
  });
});

describe('sim run', () => {
  it('serves the replay at speed with the given account, never printing its secret, and stops cleanly', async () => {
    const lines: string[] = [];
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    let server: SimServer | undefined;
    const run = simCommand(
      ['--data', DATA, '--speed', '6000', '--api-key', 'mine', '--api-secret', 'hunter2-very-secret', '--balance', '500', '--faults', 'flaky'],
      { log: (s) => lines.push(s), err: (s) => lines.push(s) },
      { stop: stopped, onStarted: (s) => (server = s) },
    );
    for (let i = 0; i < 500 && !server; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server).toBeDefined();
    // The replay timer moves the market: wait (bounded) for the first events.
    for (let i = 0; i < 500 && server!.stats().marketEvents === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server!.stats().marketEvents).toBeGreaterThan(0);
    server!.faults.set('none');
    const acct = await signedFetch(server!.restUrl, 'GET', '/api/v3/account', {}, { apiKey: 'mine', secret: 'hunter2-very-secret', timestamp: Date.now() });
    expect(acct.body).toMatchObject({ balances: [{ asset: 'USDT', free: '500', locked: '0' }] });
    stop();
    await run;
    const text = lines.join('\n');
    expect(text).toContain(`REST       ${server!.restUrl}`);
    expect(text).toContain(`WebSocket  ${server!.wsUrl}`);
    expect(text).toContain('BTCUSDT: 3000 candles');
    expect(text).toContain('faults     flaky');
    expect(text).toContain('API key    mine');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('mexc-sim stopped.');
  });
});
