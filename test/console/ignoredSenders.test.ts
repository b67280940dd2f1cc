/**
 * Ignored Telegram senders are counted beyond the process: locally one ops-log event per sender
 * and minute in the state table (a flood writes a bounded number of items), on AWS the
 * TelegramIgnored EMF metric and a log line.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RuntimeOpsLog } from '../../fargate/opsLog.js';
import { recordIgnored } from '../../lambdas/telegram-webhook/handler.js';
import { parseConfig } from '../../services/config/schema.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';

const T = Date.UTC(2026, 5, 10, 12, 0, 0);

afterEach(() => vi.restoreAllMocks());

describe('locally: the ops log', () => {
  it('one console_ignored event per sender and minute, kept in the state table', async () => {
    const { store } = createMemoryStore({ clock: () => T });
    const errs: string[] = [];
    const log = new RuntimeOpsLog({ store, owner: 'local', mode: 'paper', config: parseConfig({}), wall: () => T, market: () => T, log: () => undefined, err: (l) => errs.push(l) });
    await log.consoleIgnored({ userId: 300, chatId: 300, kind: 'message', at: T });
    await log.consoleIgnored({ userId: 300, chatId: 300, kind: 'message', at: T + 30_000 }); // same minute: the same event
    await log.consoleIgnored({ userId: 300, chatId: -5, kind: 'tap', at: T + 61_000 });
    await log.consoleIgnored({ userId: 301, chatId: 301, kind: 'message', at: T + 1000 });
    const events = (await store.listOpsEvents('2026-06-10')).filter((e) => e.type === 'console_ignored');
    expect(events.map((e) => [e.id, e.code])).toEqual([
      [`ignored:300:${Math.floor(T / 60_000)}`, 'message'],
      [`ignored:301:${Math.floor(T / 60_000)}`, 'message'],
      [`ignored:300:${Math.floor(T / 60_000) + 1}`, 'tap'],
    ]);
    expect(events[2]!.detail).toBe('telegram tap from user 300 in chat -5 ignored: not on the allowlist');
    expect(log.stats.events).toBe(3);
    expect(errs).toEqual([]);
  });
});

describe('on AWS: an EMF metric and a log line', () => {
  it('TelegramIgnored (Count) in the published EMF document, the sender in the log', () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.map(String).join(' ')));
    const metrics = new Metrics({ namespace: 'MexcScalper', serviceName: 'telegram-webhook' });
    const warned: { msg: string; extra: unknown }[] = [];
    recordIgnored({ metrics, logger: { warn: (msg: string, extra: unknown) => void warned.push({ msg, extra }) } as never }, { userId: 300, chatId: 300, kind: 'message', at: T });
    metrics.publishStoredMetrics();
    vi.restoreAllMocks();
    const emf = out.map((l) => l.trim()).filter((l) => l.startsWith('{') && l.includes('_aws')).map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string; Unit: string }[] }[] }; TelegramIgnored?: number });
    expect(emf).toHaveLength(1);
    expect(emf[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'MexcScalper', Metrics: [{ Name: 'TelegramIgnored', Unit: 'Count' }] });
    expect(emf[0]!.TelegramIgnored).toBe(1);
    expect(warned).toEqual([{ msg: 'telegram update ignored: not on the allowlist', extra: { userId: 300, chatId: 300, kind: 'message' } }]);
  });
});
