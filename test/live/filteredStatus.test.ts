/**
 * A symbol the market filters keep out says so, with the reason, in the log (once) and in /status:
 * paper trading on the real PEPEUSDT fixture (about 0.43M USDT a day, under the 1M minimum).
 */
import { describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { parseConfig } from '../../services/config/schema.js';
import { symbolId } from '../../services/core/types.js';
import { buildStatus } from '../../services/live/status.js';
import { paperRun } from '../helpers/paperRun.js';

const PEPE = symbolId('PEPEUSDT');
const candles = loadCandleFile('test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz', { repair: true }).candles;

describe('a filtered symbol', () => {
  it('is never entered, is said once in the log, and is listed in /status with the reason', async () => {
    const run = await paperRun([{ symbol: PEPE, candles }], parseConfig({}));
    expect(run.session.counters.entriesSubmitted).toBe(0);
    expect(run.lines.filter((l) => l.includes('FILTER PEPEUSDT not entered'))).toHaveLength(1);
    const now = candles.at(-1)!.openTime + 60_000;
    const status = buildStatus({
      mode: 'paper',
      venue: 'paper',
      killSwitch: 'RUNNING',
      startedAt: candles[0]!.openTime,
      now,
      symbols: [PEPE],
      session: run.session,
      equity: run.portfolio.equity(),
      feed: { frames: 0, malformed: 0, duplicates: 0, reconnects: 0, connections: 0, lastEventAt: {} },
      requiredStreams: {},
      startupGraceMs: 0,
    });
    expect(status.filtered.PEPEUSDT).toMatchObject({ kind: 'quote_volume' });
    expect(status.filtered.PEPEUSDT?.reason).toMatch(/24h quote volume [\d,]+ is at or below the minimum 1,000,000/);
  });
});
