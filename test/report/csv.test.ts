import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { csvField, tradesToCsv } from '../../services/report/index.js';
import type { ClosedTrade } from '../../services/analytics/index.js';

const base: ClosedTrade = {
  id: 'a1',
  symbol: 'BTCUSDT',
  direction: 'long',
  entryTime: Date.UTC(2024, 0, 2, 3, 4, 5),
  exitTime: Date.UTC(2024, 0, 2, 4, 0, 0, 250),
  entryPrice: dec('42000.123456789012345678'),
  exitPrice: dec('42100.5'),
  quantity: dec('0.000000000000000001'),
  fees: dec('0.1'),
  grossPnl: dec('1.2'),
  netPnl: dec('1.1'),
  exitReason: 'target',
  exits: 2,
  returnPct: 0.25,
};

describe('csvField', () => {
  it('quotes only when needed and doubles inner quotes (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rx')).toBe('"cr\rx"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField('')).toBe('');
  });
});

describe('tradesToCsv', () => {
  it('writes the header and exact decimals with CRLF line ends', () => {
    const csv = tradesToCsv([base]);
    expect(csv).toBe(
      'id,symbol,direction,entry_time,exit_time,entry_price,exit_price,quantity,fees,gross_pnl,net_pnl,return_pct,exit_reason,exits\r\n' +
        'a1,BTCUSDT,long,2024-01-02T03:04:05.000Z,2024-01-02T04:00:00.250Z,42000.123456789012345678,42100.5,0.000000000000000001,0.1,1.2,1.1,0.25,target,2\r\n',
    );
  });

  it('quotes fields holding commas, quotes or newlines', () => {
    const odd: ClosedTrade = { ...base, id: 'x,"1"', exitReason: 'manual\nclose', netPnl: dec('-3'), returnPct: -1.5 };
    const lines = tradesToCsv([odd]).split('\r\n');
    expect(lines[1]).toBe(
      '"x,""1""",BTCUSDT,long,2024-01-02T03:04:05.000Z,2024-01-02T04:00:00.250Z,42000.123456789012345678,42100.5,0.000000000000000001,0.1,1.2,-3,-1.5,"manual\nclose",2',
    );
  });

  it('writes only the header for no trades', () => {
    expect(tradesToCsv([]).split('\r\n')).toHaveLength(2); // header + empty string after the final CRLF
  });
});
