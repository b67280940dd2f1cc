/**
 * `npm run report`, `review` and `tax` over the on-disk state of `npm start` (dynalite on LevelDB):
 * refused with one clear line while another process holds the state; run once it is free, writing
 * the files under --out; bad flags name the flag.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { ConfigError } from '../../services/core/errors.js';
import { LOCAL_TABLE } from '../../cli/localState.js';
import { reportCommand } from '../../cli/report.js';
import { reviewCommand } from '../../cli/review.js';
import { taxCommand } from '../../cli/tax.js';
import { UsageError } from '../../cli/args.js';
import { dayTrades } from '../review/helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const dataDir = mkdtempSync(join(tmpdir(), 'report-cli-'));
const out = join(dataDir, 'out');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const io = () => {
  const lines: string[] = [];
  return { lines, log: (s: string) => lines.push(s), err: (s: string) => lines.push(`ERR ${s}`), now: () => Date.UTC(2025, 2, 5, 8), env: {} };
};

describe('report, review and tax commands', () => {
  it('refuse while npm start holds the state, then run over it', async () => {
    const running = await startLocalDynamo({ path: join(dataDir, 'state') });
    await createTable(running.client, LOCAL_TABLE);
    const store = createDynamoStore({ client: running.client, tableName: LOCAL_TABLE, clock: () => 0 });
    for (const t of dayTrades()) await store.putClosedTradeOnce(t);
    // dynalite opens LevelDB on its first request: the state is now held by this "npm start".
    const err = await reportCommand(['--period', 'daily', '--date', '2025-03-04', '--data-dir', dataDir, '--out', out], io()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('is open by a running npm start');
    await running.close();

    const r = io();
    const rep = await reportCommand(['--period', 'daily', '--date', '2025-03-04', '--data-dir', dataDir, '--out', out], r);
    expect(rep.figures.netPnl).toBe('-1.4015');
    expect(r.lines[0]).toBe('daily report 2025-03-04 (UTC day): 3 trades, net -1.4015 USDT, fees 0.4015');
    expect(existsSync(join(out, 'reports/daily/2025-03-04.png'))).toBe(true);

    const v = io();
    const rev = await reviewCommand(['--period', 'daily', '--date', '2025-03-04', '--data-dir', dataDir, '--out', out, '--model-id', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'], v);
    // A model id without AWS credentials: the rules, and it says so.
    expect(rev.outcome.reviewer).toBe('deterministic');
    expect(v.lines).toContain('ERR note: a model id but no AWS credentials in the environment: the deterministic reviewer writes the review');
    expect(JSON.parse(readFileSync(join(out, 'reviews/daily/2025-03-04/response.json'), 'utf8'))).toMatchObject({ reviewer: 'deterministic' });

    const t = io();
    const tax = await taxCommand(['--year', '2025', '--data-dir', dataDir, '--out', out, '--history-years', '0'], t);
    expect(tax.keys).toContain('tax/2025/disposals.csv');
  }, 120_000);

  it('bad flags name the flag', async () => {
    await expect(reportCommand(['--period', 'hourly', '--out', out], io())).rejects.toThrow(UsageError);
    await expect(reportCommand(['--period', 'daily'], io())).rejects.toThrow('--out is required');
    await expect(taxCommand(['--year', '99', '--out', out], io())).rejects.toThrow('--year must be a year such as 2025');
    await expect(reportCommand(['--period', 'daily', '--out', out, '--data-dir', join(dataDir, 'nowhere')], io())).rejects.toThrow('no state under');
  });
});
