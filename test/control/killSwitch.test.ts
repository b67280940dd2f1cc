import { describe, expect, it } from 'vitest';
import {
  KillSwitch,
  KillSwitchReadError,
  KillSwitchWriteError,
  mostRestrictive,
  type KillSwitchChange,
  type KillSwitchProblem,
  type KillSwitchReading,
  type KillSwitchSource,
  type KillSwitchState,
} from '../../services/control/killSwitch.js';

/** A scripted source: each read takes the next step (a value, a reading, or an error). */
class ScriptedSource implements KillSwitchSource {
  reads = 0;
  writes: [KillSwitchState, string][] = [];
  constructor(private value: KillSwitchReading | Error) {}
  set(value: KillSwitchReading | Error | string): void {
    this.value = typeof value === 'string' ? { value } : value;
  }
  read(): Promise<KillSwitchReading> {
    this.reads++;
    return this.value instanceof Error ? Promise.reject(this.value) : Promise.resolve(this.value);
  }
  write(state: KillSwitchState, reason: string): Promise<void> {
    this.writes.push([state, reason]);
    this.value = { value: state };
    return Promise.resolve();
  }
}

function setup(initial: KillSwitchReading | Error | string, opts: { maxStaleMs?: number } = {}) {
  let t = 1_000_000;
  const source = new ScriptedSource(typeof initial === 'string' ? { value: initial } : initial);
  const problems: KillSwitchProblem[] = [];
  const changes: KillSwitchChange[] = [];
  const ks = new KillSwitch(source, { now: () => t, onProblem: (p) => problems.push(p), ...opts });
  ks.onChange((c) => changes.push(c));
  return {
    ks,
    source,
    problems,
    changes,
    at: (ms: number) => {
      t = 1_000_000 + ms;
    },
  };
}

const readFailure = () => new KillSwitchReadError('throttled', { retryable: true, cause: new Error('ThrottlingException') });

describe('KillSwitch caching', () => {
  it('reads the source once within 5 s and again at 5 s exactly', async () => {
    const s = setup('RUNNING');
    expect(await s.ks.current()).toBe('RUNNING');
    s.at(1);
    await s.ks.current();
    s.at(4999);
    await s.ks.current();
    expect(s.source.reads).toBe(1);
    s.at(5000);
    await s.ks.current();
    expect(s.source.reads).toBe(2);
    s.at(9999);
    await s.ks.current();
    expect(s.source.reads).toBe(2);
  });

  it('a change in the source is seen at the next read, not before', async () => {
    const s = setup('RUNNING');
    await s.ks.current();
    s.source.set('PAUSED');
    s.at(3000);
    expect(await s.ks.current()).toBe('RUNNING');
    s.at(5000);
    expect(await s.ks.current()).toBe('PAUSED');
  });

  it('concurrent callers share one read', async () => {
    const s = setup('PAUSED');
    const [a, b, c] = await Promise.all([s.ks.current(), s.ks.current(), s.ks.current()]);
    expect([a, b, c]).toEqual(['PAUSED', 'PAUSED', 'PAUSED']);
    expect(s.source.reads).toBe(1);
  });

  it('a failed read also counts: no second read within 5 s', async () => {
    const s = setup('RUNNING');
    await s.ks.current();
    s.source.set(readFailure());
    s.at(5000);
    await s.ks.current();
    s.at(6000);
    await s.ks.current();
    expect(s.source.reads).toBe(2);
  });

  it('peek returns the cached state without reading', async () => {
    const s = setup('PAUSED');
    expect(s.ks.peek()).toBeUndefined();
    await s.ks.current();
    s.at(60_000);
    expect(s.ks.peek()).toBe('PAUSED');
    expect(s.source.reads).toBe(1);
  });
});

describe('KillSwitch validation', () => {
  it('an unknown value (a typo) is PAUSED and reported, never RUNNING', async () => {
    const s = setup('RUNING');
    expect(await s.ks.current()).toBe('PAUSED');
    expect(s.problems).toHaveLength(1);
    expect(s.problems[0]).toMatchObject({ kind: 'invalid_value', value: 'RUNING', treatedAs: 'PAUSED' });
    expect((s.problems[0] as { detail: string }).detail).toContain('unknown kill-switch value "RUNING"');
  });

  it('lower case is a typo too; surrounding whitespace is not', async () => {
    const s = setup('running');
    expect(await s.ks.current()).toBe('PAUSED');
    s.source.set('EMERGENCY_STOP\n');
    s.at(5000);
    expect(await s.ks.current()).toBe('EMERGENCY_STOP');
    expect(s.problems).toHaveLength(1);
  });

  it('a reading the adapter flagged (unparsable file, missing parameter) is PAUSED with its text', async () => {
    const s = setup({ value: '{oops', problem: 'kill-switch file x is not valid JSON' });
    expect(await s.ks.current()).toBe('PAUSED');
    expect(s.problems[0]).toMatchObject({ kind: 'invalid_value', detail: 'kill-switch file x is not valid JSON' });
  });

  it('a typo after EMERGENCY_STOP does not relax the switch to PAUSED', async () => {
    const s = setup('EMERGENCY_STOP');
    await s.ks.current();
    s.source.set('EMERGENCY-STOP');
    s.at(5000);
    expect(await s.ks.current()).toBe('EMERGENCY_STOP');
    expect(s.problems[0]).toMatchObject({ kind: 'invalid_value', treatedAs: 'EMERGENCY_STOP' });
  });

  it('the quoted value is cut to 64 characters', async () => {
    const s = setup('X'.repeat(1000));
    await s.ks.current();
    expect((s.problems[0] as { value: string }).value).toBe('X'.repeat(64) + '...');
  });

  it('a throwing problem reporter does not break the fallback', async () => {
    const src = new ScriptedSource({ value: 'RUNING' });
    const ks = new KillSwitch(src, {
      now: () => 0,
      onProblem: () => {
        throw new Error('reporter down');
      },
    });
    expect(await ks.current()).toBe('PAUSED');
  });

  it('mostRestrictive orders EMERGENCY_STOP > PAUSED > RUNNING', () => {
    expect(mostRestrictive('PAUSED', 'RUNNING')).toBe('PAUSED');
    expect(mostRestrictive('PAUSED', 'EMERGENCY_STOP')).toBe('EMERGENCY_STOP');
    expect(mostRestrictive('RUNNING', undefined)).toBe('RUNNING');
  });
});

describe('KillSwitch read failures', () => {
  it('keeps the last good value and reports, then PAUSED once maxStaleMs has passed', async () => {
    const s = setup('RUNNING', { maxStaleMs: 30_000 });
    await s.ks.current(); // good read at 0
    s.source.set(readFailure());
    s.at(5000);
    expect(await s.ks.current()).toBe('RUNNING');
    expect(s.problems[0]).toMatchObject({ kind: 'read_failed', keptState: 'RUNNING', staleForMs: 5000 });
    s.at(29_999);
    expect(await s.ks.current()).toBe('RUNNING');
    s.at(30_000 + 4998); // within 5 s of the last attempt: cached, no read
    expect(await s.ks.current()).toBe('RUNNING');
    s.at(34_999);
    expect(await s.ks.current()).toBe('PAUSED');
    const last = s.problems.at(-1);
    expect(last).toMatchObject({ kind: 'stale', staleForMs: 34_999, treatedAs: 'PAUSED' });
    expect((last as { error: unknown }).error).toBeInstanceOf(KillSwitchReadError);
    expect(s.changes.at(-1)).toMatchObject({ from: 'RUNNING', to: 'PAUSED', cause: 'stale', at: 1_000_000 + 34_999 });
  });

  it('PAUSED exactly at maxStaleMs', async () => {
    const s = setup('RUNNING', { maxStaleMs: 10_000 });
    await s.ks.current();
    s.source.set(readFailure());
    s.at(10_000);
    expect(await s.ks.current()).toBe('PAUSED');
  });

  it('recovers when reads succeed again', async () => {
    const s = setup('RUNNING', { maxStaleMs: 10_000 });
    await s.ks.current();
    s.source.set(readFailure());
    s.at(10_000);
    await s.ks.current();
    s.source.set('RUNNING');
    s.at(15_000);
    expect(await s.ks.current()).toBe('RUNNING');
    expect(s.changes.map((c) => `${c.from}>${c.to}:${c.cause}`)).toEqual(['undefined>RUNNING:source', 'RUNNING>PAUSED:stale', 'PAUSED>RUNNING:source']);
  });

  it('the first read failing (no last good value) is PAUSED at once', async () => {
    const s = setup(readFailure());
    expect(await s.ks.current()).toBe('PAUSED');
    expect(s.problems[0]).toMatchObject({ kind: 'stale', staleForMs: undefined, treatedAs: 'PAUSED' });
  });

  it('stale after EMERGENCY_STOP stays EMERGENCY_STOP', async () => {
    const s = setup('EMERGENCY_STOP', { maxStaleMs: 5000 });
    await s.ks.current();
    s.source.set(readFailure());
    s.at(5000);
    expect(await s.ks.current()).toBe('EMERGENCY_STOP');
    expect(s.problems[0]).toMatchObject({ kind: 'stale', treatedAs: 'EMERGENCY_STOP' });
  });

  it('a failed read after an invalid value keeps PAUSED, not the older good value', async () => {
    const s = setup('RUNNING', { maxStaleMs: 60_000 });
    await s.ks.current();
    s.source.set('PAUS');
    s.at(5000);
    expect(await s.ks.current()).toBe('PAUSED');
    s.source.set(readFailure());
    s.at(10_000);
    expect(await s.ks.current()).toBe('PAUSED');
  });
});

describe('KillSwitch listeners and writes', () => {
  it('notifies every change once, with from, to and the time; not when nothing changed', async () => {
    const s = setup('RUNNING');
    await s.ks.current();
    s.at(5000);
    await s.ks.current();
    s.source.set('PAUSED');
    s.at(10_000);
    await s.ks.current();
    s.source.set('EMERGENCY_STOP');
    s.at(15_000);
    await s.ks.current();
    expect(s.changes).toEqual([
      { from: undefined, to: 'RUNNING', at: 1_000_000, cause: 'source' },
      { from: 'RUNNING', to: 'PAUSED', at: 1_010_000, cause: 'source' },
      { from: 'PAUSED', to: 'EMERGENCY_STOP', at: 1_015_000, cause: 'source' },
    ]);
  });

  it('an unsubscribed listener hears nothing; a throwing listener does not stop the others', async () => {
    const s = setup('RUNNING');
    const heard: string[] = [];
    const off = s.ks.onChange(() => heard.push('off'));
    s.ks.onChange(() => {
      throw new Error('listener bug');
    });
    off();
    expect(await s.ks.current()).toBe('RUNNING');
    expect(heard).toEqual([]);
    expect(s.changes).toHaveLength(1);
  });

  it('set writes through the source and takes effect at once', async () => {
    const s = setup('RUNNING');
    await s.ks.current();
    s.at(1000);
    await s.ks.set('PAUSED', 'risk sweep: daily loss limit');
    expect(s.source.writes).toEqual([['PAUSED', 'risk sweep: daily loss limit']]);
    expect(await s.ks.current()).toBe('PAUSED');
    expect(s.source.reads).toBe(1);
    expect(s.changes.at(-1)).toEqual({ from: 'RUNNING', to: 'PAUSED', at: 1_001_000, cause: 'write', reason: 'risk sweep: daily loss limit' });
  });

  it('a failed write changes nothing', async () => {
    const s = setup('RUNNING');
    await s.ks.current();
    s.source.write = () => Promise.reject(new KillSwitchWriteError('denied'));
    await expect(s.ks.set('PAUSED', 'x')).rejects.toBeInstanceOf(KillSwitchWriteError);
    expect(s.ks.peek()).toBe('RUNNING');
  });

  it('rejects a nonsensical configuration', () => {
    const src = new ScriptedSource({ value: 'RUNNING' });
    expect(() => new KillSwitch(src, { now: () => 0, maxStaleMs: 0 })).toThrow(/maxStaleMs/);
    expect(() => new KillSwitch(src, { now: () => 0, minReadIntervalMs: -1 })).toThrow(/minReadIntervalMs/);
  });
});
