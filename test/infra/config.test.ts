/**
 * Stage configuration (lib/config.ts): cdk.json's stages parse, defaults are the documented ones,
 * and every kind of bad value fails with the field's path in the message.
 */
import { describe, expect, it } from 'vitest';
import { StageConfigError, parseStageConfig, stageConfigFromContext } from '../../lib/config.js';
import { cdkJsonContext } from './helpers.js';

/** The error thrown by `fn`, which must throw a StageConfigError. */
function configError(fn: () => unknown): StageConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StageConfigError);
    return e as StageConfigError;
  }
  throw new Error('expected a StageConfigError, nothing was thrown');
}

describe('stage config', () => {
  it('parses the dev and prod stages of cdk.json, dev by default', () => {
    const ctx = cdkJsonContext();
    const dev = stageConfigFromContext(ctx.stages, undefined);
    expect(dev.stage).toBe('dev');
    expect(dev.tradingMode).toBe('paper');
    expect(dev.killSwitchParameterName).toBe('/mexc-scalper/dev/kill-switch');
    const prod = stageConfigFromContext(ctx.stages, 'prod');
    expect(prod.stage).toBe('prod');
    expect(prod.tradingMode).toBe('live');
    expect(prod.killSwitchParameterName).toBe('/mexc-scalper/prod/kill-switch');
  });

  it('fills in the declared defaults for a config with only the alarm e-mail and Telegram chat', () => {
    const c = parseStageConfig('test', { alarmEmail: 'ops@example.com', telegramChatId: '-100123' });
    expect(c).toMatchObject({
      stage: 'test',
      alarmEmail: 'ops@example.com',
      tradingMode: 'paper',
      task: { cpu: 256, memoryMiB: 512 },
      logRetentionDays: 365,
      strategyMode: 'standard',
      riskProfile: 'conservative',
      dailyLossLimitPct: 2,
      symbols: [],
      killSwitchParameterName: '/mexc-scalper/test/kill-switch',
    });
    expect(c.account).toBeUndefined();
  });

  it('takes the daily loss limit from the risk profile (2 / 3 / 4 %) unless given', () => {
    expect(parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', riskProfile: 'moderate' }).dailyLossLimitPct).toBe(3);
    expect(parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', riskProfile: 'aggressive' }).dailyLossLimitPct).toBe(4);
    expect(parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', riskProfile: 'aggressive', dailyLossLimitPct: 1.5 }).dailyLossLimitPct).toBe(1.5);
  });

  it('keeps an explicit kill-switch name and task size', () => {
    const c = parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', killSwitchParameterName: '/x/y', task: { cpu: 512, memoryMiB: 2048 } });
    expect(c.killSwitchParameterName).toBe('/x/y');
    expect(c.task).toEqual({ cpu: 512, memoryMiB: 2048 });
  });

  it.each([
    ['a missing alarm e-mail', { telegramChatId: '1' }, 'stages.dev.alarmEmail'],
    ['a malformed alarm e-mail', { alarmEmail: 'not-an-address', telegramChatId: '1' }, 'stages.dev.alarmEmail'],
    ['a missing Telegram chat id', { alarmEmail: 'a@b.co' }, 'stages.dev.telegramChatId'],
    ['an unknown trading mode', { alarmEmail: 'a@b.co', telegramChatId: '1', tradingMode: 'yolo' }, 'stages.dev.tradingMode'],
    ['a CPU size Fargate does not have', { alarmEmail: 'a@b.co', telegramChatId: '1', task: { cpu: 300 } }, 'stages.dev.task.cpu'],
    ['a memory size invalid for the CPU', { alarmEmail: 'a@b.co', telegramChatId: '1', task: { cpu: 256, memoryMiB: 4096 } }, 'stages.dev.task.memoryMiB'],
    ['a log retention CloudWatch does not offer', { alarmEmail: 'a@b.co', telegramChatId: '1', logRetentionDays: 10 }, 'stages.dev.logRetentionDays'],
    ['a log retention under a year (Control Tower CT.CLOUDWATCH.PR.2)', { alarmEmail: 'a@b.co', telegramChatId: '1', logRetentionDays: 180 }, 'stages.dev.logRetentionDays'],
    ['a daily loss limit of 0', { alarmEmail: 'a@b.co', telegramChatId: '1', dailyLossLimitPct: 0 }, 'stages.dev.dailyLossLimitPct'],
    ['an account id that is not 12 digits', { alarmEmail: 'a@b.co', telegramChatId: '1', account: '1234' }, 'stages.dev.account'],
    ['a kill-switch name that is not a path', { alarmEmail: 'a@b.co', telegramChatId: '1', killSwitchParameterName: 'kill switch' }, 'stages.dev.killSwitchParameterName'],
    ['a non-numeric Telegram chat id', { alarmEmail: 'a@b.co', telegramChatId: '@me' }, 'stages.dev.telegramChatId'],
    ['an unknown risk profile', { alarmEmail: 'a@b.co', telegramChatId: '1', riskProfile: 'reckless' }, 'stages.dev.riskProfile'],
    ['an unknown strategy mode', { alarmEmail: 'a@b.co', telegramChatId: '1', strategyMode: 'turbo' }, 'stages.dev.strategyMode'],
    ['a lower-case symbol', { alarmEmail: 'a@b.co', telegramChatId: '1', symbols: ['BTCUSDT', 'ethusdt'] }, 'stages.dev.symbols.1'],
  ])('rejects %s, naming the field', (_what, raw, path) => {
    const err = configError(() => parseStageConfig('dev', raw));
    expect(err.message).toContain(path);
    expect(err.issues.map((i) => i.path)).toContain(path);
  });

  it('rejects an unknown key (strict), naming the key and where it is', () => {
    const err = configError(() => parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', alarmEmial: 'typo@b.co' }));
    expect(err.message).toContain('alarmEmial');
    expect(err.message).toContain('stages.dev');
    const nested = configError(() => parseStageConfig('dev', { alarmEmail: 'a@b.co', telegramChatId: '1', task: { cpu: 256, memory: 512 } }));
    expect(nested.message).toContain('memory');
    expect(nested.message).toContain('stages.dev.task');
  });

  it('lists every bad field, not only the first', () => {
    const err = configError(() => parseStageConfig('dev', { alarmEmail: 'x', telegramChatId: '1', tradingMode: 'yolo', logRetentionDays: 2 }));
    expect(err.issues.map((i) => i.path).sort()).toEqual(['stages.dev.alarmEmail', 'stages.dev.logRetentionDays', 'stages.dev.tradingMode']);
  });

  it('rejects an unknown stage, naming the known ones', () => {
    const err = configError(() => stageConfigFromContext({ dev: { alarmEmail: 'a@b.co', telegramChatId: '1' } }, 'staging'));
    expect(err.message).toContain('staging');
    expect(err.message).toContain('known: dev');
  });

  it('rejects a stage name unfit for resource names, and a missing stages object', () => {
    expect(configError(() => parseStageConfig('Prod_1', { alarmEmail: 'a@b.co', telegramChatId: '1' })).message).toMatch(/^stage:/);
    expect(configError(() => stageConfigFromContext(undefined, 'dev')).message).toMatch(/^stages:/);
    expect(configError(() => stageConfigFromContext({ dev: {} }, 42)).message).toMatch(/^stage:/);
  });
});
