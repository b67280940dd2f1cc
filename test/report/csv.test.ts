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
      'id,symbol,direction,entry_time,exit_time,entry_price,exit_price,quantity,fees,gross_pnl,net_pnl,return_pct,exit_reason,exits,' +
        'stop,final_stop,targets,initial_risk,r_multiple,high_price,low_price,mfe_pct,mae_pct,mfe_r,mae_r,entry_fees,exit_fees,entry_reference,entry_slippage,exit_slippage,duration_min\r\n' +
        'a1,BTCUSDT,long,2024-01-02T03:04:05.000Z,2024-01-02T04:00:00.250Z,42000.123456789012345678,42100.5,0.000000000000000001,0.1,1.2,1.1,0.25,target,2,' +
        ',,,,,,,,,,,,,,,,55.9208\r\n',
    );
  });

  it('quotes fields holding commas, quotes or newlines', () => {
    const odd: ClosedTrade = { ...base, id: 'x,"1"', exitReason: 'manual\nclose', netPnl: dec('-3'), returnPct: -1.5 };
    const lines = tradesToCsv([odd]).split('\r\n');
    expect(lines[1]).toBe(
      '"x,""1""",BTCUSDT,long,2024-01-02T03:04:05.000Z,2024-01-02T04:00:00.250Z,42000.123456789012345678,42100.5,0.000000000000000001,0.1,1.2,-3,-1.5,"manual\nclose",2,,,,,,,,,,,,,,,,,55.9208',
    );
  });

  it('writes the plan and path columns, worked by hand', () => {
    // Long 2 @ 100, initial stop 98 (2 a unit of risk, 4 in all), trailed to 101; targets 104 and 106.
    // Seen while open: high 105, low 99. Exit 102.5 after 90 minutes.
    // mfe = 5 = 5% = 2.5 R; mae = 1 = 1% = 0.5 R.
    const t: ClosedTrade = {
      ...base,
      entryTime: Date.UTC(2024, 0, 2, 3, 0),
      exitTime: Date.UTC(2024, 0, 2, 4, 30),
      entryPrice: dec(100),
      exitPrice: dec('102.5'),
      quantity: dec(2),
      netPnl: dec('4.4'),
      plan: {
        stop: dec(98),
        finalStop: dec(101),
        targets: [dec(104), dec(106)],
        initialRisk: dec(4),
        rMultiple: 1.1,
        highPrice: 105,
        lowPrice: 99,
        entryFees: dec('0.1'),
        exitFees: dec('0.5'),
        entryReference: 99.9,
        entrySlippage: dec('0.2'),
        exitSlippage: dec('0.03'),
      },
    };
    const [header, row] = tradesToCsv([t]).split('\r\n');
    const cells = Object.fromEntries((header as string).split(',').map((k, i) => [k, (row as string).split(',')[i]]));
    expect(cells).toMatchObject({
      stop: '98',
      final_stop: '101',
      targets: '104 106',
      initial_risk: '4',
      r_multiple: '1.1',
      high_price: '105',
      low_price: '99',
      mfe_pct: '5',
      mae_pct: '1',
      mfe_r: '2.5',
      mae_r: '0.5',
      entry_fees: '0.1',
      exit_fees: '0.5',
      entry_reference: '99.9',
      entry_slippage: '0.2',
      exit_slippage: '0.03',
      duration_min: '90',
    });
  });

  it('writes only the header for no trades', () => {
    expect(tradesToCsv([]).split('\r\n')).toHaveLength(2); // header + empty string after the final CRLF
  });
});
