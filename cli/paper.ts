/**
 * `npm run paper -- --symbols DOGEUSDT,PEPEUSDT [--exchange-url <url>] ...`
 *
 * Paper trading: public market data from MEXC (or any MEXC-compatible server, such as the
 * simulator started with `npm run sim`), fills simulated by the project's matching engine, and the
 * same strategy, risk engine, executor and safe-execution layer as live trading. No API keys.
 *
 * Clocks: decisions, order times and time stops run on the market clock (the newest event time
 * seen), so a replay at 60x behaves like the market it replays; request pacing, retries and
 * stuck-order checks run on the wall clock, because they are about the venue's real limits.
 *
 * Shadow: `--recommendation <id> [--data-dir <dir>] [--force]` paper-trades a recommendation of the
 * AI review beside live: its ledger record is read from the state of `--data-dir` (or
 * `--state-endpoint`), refused unless its verdict is supported (services/review/shadow.ts), and its
 * change applied to the config given here (the live one). The state is closed again before trading
 * starts: paper trading keeps no state and takes no leases, so it never touches the live run's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CcxtMexcVenue } from '../services/adapters/mexc/ccxtMexcVenue.js';
import { Dec } from '../services/core/money.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { symbolId, type SymbolId } from '../services/core/types.js';
import { NetworkError, TimeoutError, ExchangeError } from '../services/execution/exchangeErrors.js';
import { loadClosedHistory, tradingSubscriptions, withStartupRetries } from '../fargate/startup.js';
import { SafeExchange, safeExchangeOptionsFromConfig } from '../services/execution/safeExchange.js';
import { TradingSession } from '../services/live/tradingSession.js';
import { PaperVenue } from '../services/paper/paperVenue.js';
import { Portfolio } from '../services/portfolio/portfolio.js';
import type { VenueEvent } from '../services/venue/types.js';
import { ConfigError } from '../services/core/errors.js';
import type { Config } from '../services/config/schema.js';
import { shadowPlan } from '../services/review/shadow.js';
import { loadConfig, UsageError, parseFlags } from './args.js';
import { DEFAULT_DATA_DIR } from './control.js';
import { openLocalState } from './localState.js';
import { installShutdownSignals } from './signals.js';
import { loadStrategy } from './strategy.js';

export const PAPER_USAGE = `usage: npm run paper -- --symbols DOGEUSDT,PEPEUSDT [--exchange-url <url>] [--ws-url <url>]
         [--balance <USDT>] [--mode standard|hf] [--profile conservative|moderate|aggressive]
         [--config <file.json>] [--warmup <minutes>] [--status-every <seconds>] [--duration <seconds>]
         [--strategy sr|breakout|<module.ts>]
         [--recommendation <id> [--data-dir <dir>] [--state-endpoint <url>] [--force]]

  --symbols       pairs to trade (required), at most 10 in standard mode and 15 in hf
  --exchange-url  a MEXC-compatible REST base for public data, e.g. the simulator's
                  http://127.0.0.1:8088 printed by npm run sim; default: MEXC itself
  --ws-url        its WebSocket URL; default derived from --exchange-url (…/ws)
  --balance       paper USDT balance; default 10000
  --warmup        minutes of 1m history loaded before trading starts; default 1000
  --status-every  seconds between status lines; default 30
  --duration      stop after this many seconds (default: run until Ctrl-C)
  --strategy      a built-in strategy (sr, the default; breakout) or the path of a strategy module
  --recommendation  shadow: a recommendation id of the AI review (rec:<period>:<day>:<n>), read from the
                  ledger in the state of --data-dir (default ${DEFAULT_DATA_DIR}, the folder of npm start; while
                  npm start holds it, pass --state-endpoint) and applied to --config (the live config);
                  refused unless its test supported it (--force: start a not-supported one anyway)`;

interface Out {
  log(s: string): void;
  err(s: string): void;
}

function positiveNumber(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number, got "${raw}"`);
  return n;
}

/** What a finished run used (tests, the shadow start). */
export interface PaperRunResult {
  readonly config: Config;
}

/** Parses argv and runs paper trading until Ctrl-C (or --duration). */
export async function paperCommand(argv: readonly string[], out: Out): Promise<PaperRunResult> {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        symbols: { type: 'string' },
        'exchange-url': { type: 'string' },
        'ws-url': { type: 'string' },
        balance: { type: 'string' },
        mode: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        warmup: { type: 'string' },
        'status-every': { type: 'string' },
        duration: { type: 'string' },
        strategy: { type: 'string' },
        recommendation: { type: 'string' },
        'data-dir': { type: 'string' },
        'state-endpoint': { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.log(PAPER_USAGE);
    throw new UsageError('');
  }
  let config = loadConfig(v.config, { mode: v.mode, profile: v.profile });
  if (v.recommendation === undefined && (v.force || v['data-dir'] !== undefined || v['state-endpoint'] !== undefined)) {
    throw new UsageError('--force, --data-dir and --state-endpoint go with --recommendation <id>');
  }
  if (v.recommendation !== undefined) {
    const state = await openLocalState({ dataDir: v['data-dir'] ?? DEFAULT_DATA_DIR, ...(v['state-endpoint'] ? { stateEndpoint: v['state-endpoint'] } : {}), now: Date.now });
    try {
      const plan = await shadowPlan(state.store, v.recommendation, config, { force: v.force === true });
      config = plan.config;
      for (const l of plan.lines) out.log(l);
    } finally {
      await state.close();
    }
  }
  const plugin = await loadStrategy(v.strategy);
  const strategy = plugin.factory(config);
  const raw = (v.symbols ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const names = raw.length ? raw : config.symbols;
  if (names.length === 0) throw new UsageError('--symbols is required: the pairs to paper-trade, e.g. DOGEUSDT,PEPEUSDT');
  let symbols: SymbolId[];
  try {
    symbols = names.map((s) => symbolId(s));
  } catch (e) {
    throw new UsageError(`--symbols: ${(e as Error).message}`);
  }
  if (symbols.length > config.modeSettings.maxPairs) throw new UsageError(`--symbols: mode ${config.mode} trades at most ${config.modeSettings.maxPairs} pairs, got ${symbols.length}`);
  const balance = positiveNumber('balance', v.balance, 10_000);
  const warmupMinutes = Math.min(1000, Math.floor(positiveNumber('warmup', v.warmup, 1000)));
  const statusEvery = positiveNumber('status-every', v['status-every'], 30);
  const duration = v.duration === undefined ? undefined : positiveNumber('duration', v.duration, 1);
  const restUrl = v['exchange-url'];
  const wsUrl = v['ws-url'] ?? (restUrl ? `${restUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws` : undefined);

  // The market clock: the newest event time seen (see the file comment).
  let marketNow = Date.now();
  const now = (): number => marketNow;
  const advance = (e: VenueEvent): void => {
    const t = e.type === 'trade' ? e.trade.time : e.type === 'book' ? e.book.time : e.type === 'kline' ? (e.closed ? e.candle.openTime + MINUTE_MS : e.candle.openTime) : 0;
    if (t > marketNow) marketNow = t;
  };

  const source = restUrl ?? 'MEXC (api.mexc.com)';
  const publicData = new CcxtMexcVenue({ ...(restUrl ? { restUrl } : {}), ...(wsUrl ? { wsUrl } : {}), onWarning: (m) => out.err(`warning: ${m}`) });
  const paper = new PaperVenue({
    publicData,
    costs: config.backtest,
    deposits: { [config.backtest.quoteAsset]: Dec.from(balance) },
    now,
    // A market order in flight executes once the market has moved past its arrival, also when quiet.
    idleAdvance: {
      wall: Date.now,
      everyMs: 100,
      every: (fn, ms) => {
        const t = setInterval(fn, ms);
        t.unref();
        return () => clearInterval(t);
      },
    },
  });
  out.log(`paper trading ${symbols.join(', ')} on ${source}, ${config.mode} mode, ${config.risk.profile} profile, ${balance} ${config.backtest.quoteAsset} (simulated fills, no API keys)`);
  try {
    await withStartupRetries('loading the markets', () => paper.loadMarkets(), (l) => out.err(l), true);
  } catch (e) {
    if (e instanceof NetworkError || e instanceof TimeoutError) {
      throw new ConfigError(
        `cannot reach ${source} for public market data (${e.name}). Without internet access, start the simulator ` +
          '(npm run sim -- --data data/sample) and pass its URL: npm run paper -- --symbols DOGEUSDT --exchange-url http://127.0.0.1:<port>',
      );
    }
    throw e;
  }
  for (const s of symbols) {
    let m;
    try {
      m = paper.market(s);
    } catch {
      throw new ConfigError(`--symbols: ${s} is not listed by ${source}`);
    }
    if (!m.tradable) throw new ConfigError(`--symbols: ${s} cannot be traded through the API: ${m.notTradableReason ?? 'not tradable'}`);
  }

  const safe = new SafeExchange(
    paper,
    {
      now: Date.now,
      sleep: (ms) => sleep(ms),
      random: Math.random,
      onEvent: (e) => {
        if (e.type !== 'duplicate_fill') out.log(`exchange: ${JSON.stringify(e, (_k, val: unknown) => (val instanceof Dec ? val.toString() : val))}`);
      },
    },
    safeExchangeOptionsFromConfig(config.execution),
  );
  const portfolio = new Portfolio(config.backtest.quoteAsset, Dec.from(balance));
  const session = new TradingSession({ config, exchange: safe, portfolio, now, log: (l) => out.log(l), strategy });

  for (const s of symbols) {
    const closed = await loadClosedHistory(paper, s, warmupMinutes, marketNow, (l) => out.err(l));
    session.warmUp(s, closed);
    out.log(`warm-up ${s}: ${closed.length} closed 1m candles`);
  }
  const refreshVolumes = async (): Promise<void> => {
    try {
      for (const t of await paper.fetchTickers24h(symbols)) session.setQuoteVolume24h(t.symbol, t.quoteVolume);
    } catch (e) {
      out.err(`warning: 24h tickers unavailable (${e instanceof ExchangeError ? e.name : String(e)}); the volume rule is skipped until they are`);
    }
  };
  await refreshVolumes();

  const subs = tradingSubscriptions(symbols);
  const handle = await paper.stream(subs, (e) => {
    advance(e);
    session.push(e);
  });
  out.log('streaming; one line per decision and trade, a status line every ' + statusEvery + ' s. Ctrl-C stops.');

  const statusLine = (): string => {
    const st = handle.stats();
    const c = session.counters;
    const open = symbols.filter((s) => session.executor.position(s)).length;
    return (
      `status ${new Date(marketNow).toISOString().slice(0, 19)} equity ${portfolio.equity().toFixed(2)} ${config.backtest.quoteAsset}, open ${open}, ` +
      `closed trades ${c.positionsClosed}, candles ${c.candlesClosed}, frames ${st.frames}, malformed ${st.malformed}, reconnects ${st.reconnects}`
    );
  };
  const timers = [
    setInterval(() => out.log(statusLine()), statusEvery * 1000),
    setInterval(() => void safe.checkStuck(Date.now()).catch((e: unknown) => out.err(`stuck-order check failed: ${String(e)}`)), 15_000),
    setInterval(() => void refreshVolumes(), 5 * 60_000),
  ];
  // Kept until the shutdown is over: a second Ctrl-C must not skip it (cli/signals.ts).
  let signalsFinished: () => void = () => undefined;
  await new Promise<void>((resolveStop) => {
    const stop = (): void => resolveStop();
    signalsFinished = installShutdownSignals({ onShutdown: stop, forceExit: (code) => process.exit(code), log: (l) => out.err(l) });
    if (duration !== undefined) setTimeout(stop, duration * 1000).unref();
  });
  for (const t of timers) clearInterval(t);
  await session.idle();
  out.log(statusLine());
  out.log('stopped. Open paper positions are left as they are (paper trading keeps no state between runs).');
  await handle.close();
  await paper.close();
  await publicData.close();
  signalsFinished();
  return { config };
}
