/**
 * `npm run tax -- --year <YYYY> [--data-dir <dir>] --out <dir> [--exchange-fills <file.json>]`
 *
 * The FIFO tax ledger of a UTC year from the state of `npm start`: `<out>/tax/<year>/disposals.csv`,
 * `cointracking.csv` and `ledger.json`. Fees in MX are valued with the MXUSDT candles of the local
 * archive. `--exchange-fills` reconciles against the exchange's fills (a JSON array of fills as the
 * state stores them: tradeId, clientOrderId, exchangeOrderId, symbol, side, price, quantity, fee,
 * feeAsset, liquidity, time).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LocalFolderStore } from '../services/adapters/s3/localFolderStore.js';
import { ConfigError } from '../services/core/errors.js';
import { CandleArchive } from '../services/ml/archive.js';
import { fillSchema, type FillRecord } from '../services/state/types.js';
import { ArchivePriceSource, runTaxYear, type TaxRunResult } from '../services/tax/run.js';
import { UsageError } from './args.js';
import { DEFAULT_DATA_DIR } from './control.js';
import { openLocalState } from './localState.js';
import { parseCommon, type CliIo } from './report.js';

export const TAX_USAGE = `usage: npm run tax -- --year <YYYY> --out <dir> [--data-dir <dir>] [--state-endpoint <url>]
         [--exchange-fills <file.json>] [--history-years <n>]

  --year            the UTC calendar year
  --out             where tax/<year>/disposals.csv, cointracking.csv and ledger.json go
  --data-dir        the data folder of npm start (default ${DEFAULT_DATA_DIR})
  --exchange-fills  the exchange's fills as JSON, to reconcile the state's fills against
  --history-years   years of fills before <year> read for the lots (default 3)`;

function readExchangeFills(file: string): FillRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`--exchange-fills ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const r = z.array(fillSchema).max(1_000_000).safeParse(raw);
  if (!r.success) throw new ConfigError(`--exchange-fills ${file}: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export async function taxCommand(argv: readonly string[], io: CliIo): Promise<TaxRunResult> {
  const { str, dataDir } = parseCommon(argv, { year: { type: 'string' }, 'exchange-fills': { type: 'string' }, 'history-years': { type: 'string' } }, TAX_USAGE, io.log);
  const year = Number(str('year'));
  if (!str('year') || !Number.isInteger(year) || year < 2000 || year > 2200) throw new UsageError(`--year must be a year such as 2025${str('year') ? `, got "${str('year')}"` : ''}`);
  const out = str('out');
  if (!out) throw new UsageError('--out is required');
  const historyYears = str('history-years') === undefined ? 3 : Number(str('history-years'));
  if (!Number.isInteger(historyYears) || historyYears < 0 || historyYears > 20) throw new UsageError('--history-years must be an integer 0..20');
  const exchangeFills = str('exchange-fills') ? readExchangeFills(str('exchange-fills')!) : undefined;
  const now = io.now ?? Date.now;
  const state = await openLocalState({ dataDir, ...(str('state-endpoint') ? { stateEndpoint: str('state-endpoint')! } : {}), now });
  try {
    const r = await runTaxYear({ store: state.store, prices: new ArchivePriceSource(new CandleArchive(new LocalFolderStore(join(dataDir, 'artifacts')))), out: new LocalFolderStore(out), historyYears, ...(exchangeFills ? { exchangeFills } : {}) }, year);
    io.log(`tax year ${year} (UTC, FIFO): ${r.ledger.rows.length} disposal row(s), ${r.ledger.acquisitions.length} acquisition(s), ${r.ledger.openLots.length} lot(s) open at the year's end`);
    for (const [asset, t] of Object.entries(r.totals)) io.log(`  ${asset}: proceeds ${t.proceeds}, cost basis ${t.costBasis}, fees ${t.fees}, gain ${t.gain}`);
    const rc = r.reconciliation;
    io.log(`  reconciliation: ${rc.ok ? 'ok' : 'PROBLEMS'}; ${rc.stateFills} fills, ${rc.tradesChecked} trades checked${rc.exchangeFills === null ? ', no exchange fills given' : `, ${rc.matched} of ${rc.exchangeFills} exchange fills matched`}`);
    if (rc.exchangeFills === null) io.log(`  exchange check: ${r.exchangeCheck}`);
    for (const p of [...rc.missingInState.map((k) => `missing in the state: ${k}`), ...rc.missingOnExchange.map((k) => `not on the exchange: ${k}`), ...rc.mismatched, ...rc.tradeMismatches].slice(0, 20)) io.log(`    ${p}`);
    for (const i of r.ledger.issues.slice(0, 20)) io.log(`  issue ${i.kind} ${i.symbol} ${i.tradeId}: ${i.detail}`);
    for (const k of r.keys) io.log(`  ${out}/${k}`);
    return r;
  } finally {
    await state.close();
  }
}
