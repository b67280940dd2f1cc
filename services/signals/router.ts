/**
 * The signal router: one signal in, one decision out, synchronously, through the ONE kernel.
 *
 *   parse -> de-duplicate -> enabled -> symbol listed and traded -> fresh enough -> side
 *     buy:  kill switch -> confidence (the signal's, and the ML model's when scoring is on)
 *           -> cooldown -> price -> notional -> stop and take-profit (RISK_SLTP)
 *           -> kernel: entry gate, risk engine, executor (previewExternal in a dry run)
 *     sell: the open long -> kernel exit (reason 'external')
 *     short: refused (MEXC spot is long-only)
 *
 * Every refusal is ORDER_BLOCKED with its reason code (SIGNAL_REASONS, or the kernel's: the risk
 * engine's codes, BELOW_EXCHANGE_MIN, EXCHANGE_REJECTED, ENTRY_GATE); an accepted entry or exit is
 * ORDER_NEW; later the executor's events for it become ORDER_FILLED and ORDER_ERROR. Nothing here
 * throws for a bad signal, and nothing reads a clock: `now` is the market clock of the caller.
 *
 * Exits do not need confidence and pass while the kill switch is PAUSED: closing risk is always
 * allowed, as for the strategy's own exits.
 *
 * The entry's intent id is derived from the signal's source and id (`S<16 hex>`), so its client
 * order ids are too: a signal redelivered after the de-duplication window has forgotten it maps to
 * the same order, which the journal's create-only order record refuses to send twice.
 */
import type { Config } from '../config/schema.js';
import type { KillSwitchState } from '../control/killSwitch.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { BookTop, SymbolId } from '../core/types.js';
import type { ExecutorEvent } from '../execution/executor.js';
import type { ExternalOutcome } from '../kernel/kernel.js';
import type { EnterIntent, ExitIntent } from '../model/intents.js';
import type { PositionView } from '../model/positions.js';
import type { AuditEvent, AuditLog } from './audit.js';
import { SignalDeduper } from './dedupe.js';
import { parseSignal, shortHash, signalTraceId } from './parse.js';
import { SIGNAL_PROFILES, deriveLevels, signalNotional, type SignalProfile } from './policy.js';
import type { Signal, SignalChannel, SignalLevels, SignalResult } from './types.js';

/** What the router needs of the kernel (TradingKernel has it). */
export interface SignalKernel {
  submitExternal(intent: EnterIntent | ExitIntent, now: number): ExternalOutcome;
  previewExternal(intent: EnterIntent, now: number): ExternalOutcome;
  readonly executor: { position(symbol: SymbolId): PositionView | undefined; on(listener: (e: ExecutorEvent) => void): void };
  readonly context: { book(symbol: SymbolId): BookTop | undefined; atr(symbol: SymbolId): number | undefined; lastClose(symbol: SymbolId): number | undefined };
}

/** The model's score of a symbol now: its effective confidence in a long, and when it was made. */
export interface MlScore {
  readonly confidence: number;
  readonly time: number;
  readonly version: string;
}

export interface SignalRouterOptions {
  readonly config: Pick<Config, 'signals' | 'risk' | 'exit'>;
  readonly kernel: SignalKernel;
  readonly audit: AuditLog;
  /** Whether the venue lists the symbol. */
  readonly listed: (symbol: SymbolId) => boolean;
  /** Whether this runtime trades the symbol now (its lease, its feed). */
  readonly traded: (symbol: SymbolId) => boolean;
  /** The kill switch now; entries need RUNNING. Undefined (not read yet) refuses entries too. */
  readonly killSwitch?: () => KillSwitchState | undefined;
  /** The promoted model's latest score for a symbol (signals.mlScoring), null when it has none. */
  readonly mlScore?: (symbol: SymbolId) => MlScore | null;
  /** Every decision, for metrics. */
  readonly onResult?: (result: SignalResult, channel: SignalChannel, source: string) => void;
  /** One line per decision (the runtime's log). */
  readonly log?: (line: string) => void;
}

/** Positions the router follows for ORDER_FILLED / ORDER_ERROR at most (oldest forgotten first). */
const MAX_TRACKED = 1000;

interface Tracked {
  readonly traceId: string;
  readonly signal: Signal;
  readonly channel: SignalChannel;
}

export class SignalRouter {
  private readonly dedupe: SignalDeduper;
  private readonly profile: SignalProfile;
  private readonly lastEntry = new Map<SymbolId, number>();
  private readonly tracked = new Map<string, Tracked>();
  /** Decisions by status and reason, for the status page and tests. */
  readonly counts: Record<string, number> = {};

  constructor(private readonly opts: SignalRouterOptions) {
    const s = opts.config.signals;
    this.dedupe = new SignalDeduper(s.dedupCapacity);
    this.profile = SIGNAL_PROFILES[s.profile ?? opts.config.risk.profile];
    opts.kernel.executor.on((e) => this.onExecutorEvent(e));
  }

  /** The profile numbers in use (ATR multiple, reward-to-risk, maximum notional). */
  get policy(): SignalProfile {
    return this.profile;
  }

  /** Decides on one signal (a JSON string or a decoded object) arriving through `channel` at `now`. */
  route(input: unknown, channel: SignalChannel, now: number): SignalResult {
    const parsed = parseSignal(input, channel);
    if (!parsed.ok) {
      const traceId = `t${shortHash(`${channel}|${now}|${typeof input === 'string' ? input : safeJson(input)}`)}`;
      return this.block({ traceId, channel, source: channel, time: now, ...(parsed.id ? { signalId: parsed.id } : {}) }, 'MALFORMED', parsed.detail);
    }
    const signal = parsed.signal;
    const traceId = signalTraceId(signal);
    const base: Base = { traceId, channel, source: signal.source, time: now, signalId: signal.id, symbol: signal.symbol, side: signal.side };
    try {
      return this.decide(signal, base, now);
    } catch (e) {
      // A bug must not lose the signal silently nor break the caller's loop.
      return this.block(base, 'INTERNAL_ERROR', e instanceof Error ? `${e.name}: ${e.message}` : String(e), 'ORDER_ERROR');
    }
  }

  /**
   * Refuses a signal without deciding on it (the intake is overloaded): audited as ORDER_BLOCKED
   * with `reason`, its id not remembered, so a resend is decided normally.
   */
  refuse(input: unknown, channel: SignalChannel, now: number, reason: string, detail: string): SignalResult {
    const parsed = parseSignal(input, channel);
    if (!parsed.ok) return this.block({ traceId: `t${shortHash(`${channel}|${now}|${typeof input === 'string' ? input : safeJson(input)}`)}`, channel, source: channel, time: now }, 'MALFORMED', parsed.detail);
    const sg = parsed.signal;
    return this.block({ traceId: signalTraceId(sg), channel, source: sg.source, time: now, signalId: sg.id, symbol: sg.symbol, side: sg.side }, reason, detail);
  }

  private decide(signal: Signal, base: Base, now: number): SignalResult {
    const cfg = this.opts.config.signals;
    if (this.dedupe.seen(signal.id)) return this.block(base, 'DUPLICATE', `signal ${signal.id} from ${signal.source} was handled before`);
    if (!cfg.enabled) return this.block(base, 'SIGNALS_DISABLED', 'signals.enabled is false');
    if (!this.opts.listed(signal.symbol)) return this.block(base, 'UNKNOWN_SYMBOL', `the venue does not list ${signal.symbol}`);
    if (!this.opts.traded(signal.symbol)) return this.block(base, 'SYMBOL_NOT_TRADED', `${signal.symbol} is not traded by this runtime (its symbols, its leases)`);
    if (signal.time !== undefined && cfg.maxAgeSeconds > 0) {
      const age = now - signal.time;
      if (age > cfg.maxAgeSeconds * 1000) return this.block(base, 'STALE', `signal time ${iso(signal.time)} is ${Math.round(age / 1000)} s old (maximum ${cfg.maxAgeSeconds} s)`);
      if (age < -MINUTE_MS) return this.block(base, 'STALE', `signal time ${iso(signal.time)} is ${Math.round(-age / 1000)} s in the future`);
    }
    if (signal.side === 'short') return this.block(base, 'SHORT_NOT_SUPPORTED', 'MEXC spot is long-only: a short cannot be opened (a sell signal closes an open long)');
    if (signal.side === 'sell') return this.exit(signal, base, now);
    return this.enter(signal, base, now);
  }

  private exit(signal: Signal, base: Base, now: number): SignalResult {
    const p = this.opts.kernel.executor.position(signal.symbol);
    if (!p) return this.block(base, 'NO_POSITION', `no open long on ${signal.symbol} to close (a sell never opens a short on spot)`);
    const dryRun = this.opts.config.signals.dryRun;
    if (!dryRun) {
      const intent: ExitIntent = { kind: 'exit', id: `${p.id}-sig`, symbol: signal.symbol, positionId: p.id, time: now, reason: 'external', detail: `sell signal ${signal.id} from ${signal.source}` };
      const out = this.opts.kernel.submitExternal(intent, now);
      if (out.kind === 'refused') return this.block(base, out.reason, out.detail);
    }
    this.audit({ ...base, type: 'ORDER_NEW', role: 'exit', positionId: p.id, dryRun, detail: dryRun ? 'dry run: the position would be closed at market' : 'closing the position at market' });
    return this.done(base, { ok: true, status: dryRun ? 'dry_run' : 'accepted', traceId: base.traceId, signalId: signal.id, symbol: signal.symbol, side: signal.side });
  }

  private enter(signal: Signal, base: Base, now: number): SignalResult {
    const o = this.opts;
    const cfg = o.config.signals;
    const ks = o.killSwitch?.();
    if (o.killSwitch && ks !== 'RUNNING') return this.block(base, 'KILL_SWITCH', `kill switch ${ks ?? 'not read yet'}: no new entries`);
    let confidence = signal.confidence ?? cfg.assumedConfidence;
    if (cfg.mlScoring) {
      const score = o.mlScore?.(signal.symbol) ?? null;
      if (score === null) return this.block(base, 'ML_UNAVAILABLE', `no prediction of the promoted model for ${signal.symbol}`);
      if (now - score.time > cfg.mlMaxAgeSeconds * 1000) return this.block(base, 'ML_UNAVAILABLE', `the model's last prediction for ${signal.symbol} is ${Math.round((now - score.time) / 1000)} s old (maximum ${cfg.mlMaxAgeSeconds} s)`);
      confidence = Math.min(confidence, score.confidence);
    }
    if (confidence < cfg.minConfidence) return this.block({ ...base, confidence }, 'LOW_CONFIDENCE', `effective confidence ${confidence.toFixed(3)} is below ${cfg.minConfidence} (signals.minConfidence)`);
    const last = this.lastEntry.get(signal.symbol);
    if (last !== undefined && now - last < cfg.cooldownMinutes * MINUTE_MS) {
      return this.block(base, 'SIGNAL_COOLDOWN', `an entry signal on ${signal.symbol} was accepted at ${iso(last)}; cooldown ${cfg.cooldownMinutes} min`);
    }
    // A long is bought at the ask; before any book, the last close.
    const price = o.kernel.context.book(signal.symbol)?.ask ?? o.kernel.context.lastClose(signal.symbol);
    if (price === undefined || !(price > 0)) return this.block(base, 'NO_PRICE', `no book or last price for ${signal.symbol} yet`);
    const size = signalNotional(signal.notional, cfg, this.profile);
    if (!size.ok) return this.block(base, size.reason, size.detail);
    const lv = deriveLevels({ entry: price, atr: o.kernel.context.atr(signal.symbol), stopLoss: signal.stopLoss, takeProfit: signal.takeProfit }, this.profile, cfg.levels);
    if (!lv.ok) return this.block(base, lv.reason, lv.detail);
    const levels = lv.levels;
    this.audit({ ...base, type: 'RISK_SLTP', ...levelFields(levels), notional: String(size.notional), confidence, ...(levels.notes.length ? { detail: levels.notes.join('; ') } : {}) });

    const intent: EnterIntent = {
      kind: 'enter',
      id: `S${shortHash(`${signal.source}|${signal.id}`)}`,
      symbol: signal.symbol,
      direction: 'long',
      time: now,
      price,
      stop: levels.stop,
      targets: [{ label: 'primary', price: levels.takeProfit, fraction: 1 }],
      level: { price: levels.stop, touches: 0, sources: ['signal'] },
      oppositeLevel: null,
      reasons: [`signal ${signal.id} from ${signal.source}`, `confidence ${confidence.toFixed(2)}`, `stop ${levels.stopSource}, target ${levels.takeProfitSource}`],
      expiresAt: now + o.config.exit.timeStopMinutes * MINUTE_MS,
      maxNotional: size.notional,
      origin: 'external',
    };
    const dryRun = cfg.dryRun;
    const out = dryRun ? o.kernel.previewExternal(intent, now) : o.kernel.submitExternal(intent, now);
    if (out.kind === 'refused') return this.block({ ...base, confidence }, out.reason, out.detail, 'ORDER_BLOCKED', levels);
    if (out.kind !== 'submitted') return this.block(base, 'INTERNAL_ERROR', `unexpected kernel answer ${out.kind}`, 'ORDER_ERROR');
    const order = { intentId: out.intentId, quantity: out.quantity.toString(), notional: out.notional.toString(), adjustments: out.adjustments };
    this.audit({ ...base, type: 'ORDER_NEW', role: 'entry', dryRun, intentId: out.intentId, quantity: order.quantity, notional: order.notional, price: String(price), adjustments: out.adjustments, confidence, ...levelFields(levels) });
    if (!dryRun) {
      this.lastEntry.set(signal.symbol, now);
      this.tracked.set(out.intentId, { traceId: base.traceId, signal, channel: base.channel });
      if (this.tracked.size > MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as string);
    }
    return this.done(base, { ok: true, status: dryRun ? 'dry_run' : 'accepted', traceId: base.traceId, signalId: signal.id, symbol: signal.symbol, side: signal.side, levels, order, confidence });
  }

  /** Follows the executor's events of the entries this router sent. */
  private onExecutorEvent(e: ExecutorEvent): void {
    const id = e.type === 'entry_rejected' ? e.intent.id : e.type === 'position_closed' ? e.trade.id : 'positionId' in e ? e.positionId : undefined;
    if (id === undefined) return;
    const t = this.tracked.get(id);
    if (!t) return;
    const base = { traceId: t.traceId, channel: t.channel, source: t.signal.source, signalId: t.signal.id, symbol: t.signal.symbol, side: t.signal.side, intentId: id, positionId: id };
    switch (e.type) {
      case 'position_opened':
        this.audit({ ...base, type: 'ORDER_FILLED', time: e.time, role: 'entry', price: e.price.toString(), quantity: e.quantity.toString(), detail: 'first entry fill: the position is open and protected' });
        break;
      case 'entry_rejected':
        this.tracked.delete(id);
        this.audit({ ...base, type: 'ORDER_ERROR', time: e.time, reason: e.reason, detail: e.detail });
        break;
      case 'entry_expired':
        this.tracked.delete(id);
        this.audit({ ...base, type: 'ORDER_ERROR', time: e.time, reason: 'ENTRY_EXPIRED', detail: e.detail });
        break;
      case 'position_closed':
        this.tracked.delete(id);
        this.audit({ ...base, type: 'ORDER_FILLED', time: e.time, role: 'exit', reason: e.reason, price: e.trade.exitPrice.toString(), quantity: e.trade.quantity.toString(), pnl: e.trade.netPnl.toString(), detail: `position closed (${e.reason})` });
        break;
      default:
        break;
    }
  }

  private block(base: Base, reason: string, detail: string, type: 'ORDER_BLOCKED' | 'ORDER_ERROR' = 'ORDER_BLOCKED', levels?: SignalLevels): SignalResult {
    this.audit({ ...base, type, reason, detail });
    return this.done(base, {
      ok: false,
      status: 'refused',
      traceId: base.traceId,
      reason,
      error: `${reason}: ${detail}`,
      ...(base.signalId ? { signalId: base.signalId } : {}),
      ...(base.symbol ? { symbol: base.symbol } : {}),
      ...(base.side ? { side: base.side as Signal['side'] } : {}),
      ...(levels ? { levels } : {}),
      ...(base.confidence !== undefined ? { confidence: base.confidence } : {}),
    });
  }

  private done(base: Base, result: SignalResult): SignalResult {
    const key = result.status === 'refused' ? `refused:${result.reason ?? '?'}` : result.status;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    this.opts.log?.(`${iso(base.time)} EXTSIG ${base.channel}/${base.source} ${base.symbol ?? '-'} ${base.side ?? '-'} ${result.status}${result.reason ? ` ${result.reason}` : ''} (trace ${base.traceId})`);
    try {
      this.opts.onResult?.(result, base.channel, base.source);
    } catch {
      // Metrics must not change a decision.
    }
    return result;
  }

  private audit(e: Omit<AuditEvent, 'seq'>): void {
    this.opts.audit.record(e);
  }
}

interface Base {
  readonly traceId: string;
  readonly channel: SignalChannel;
  readonly source: string;
  readonly time: number;
  readonly signalId?: string;
  readonly symbol?: string;
  readonly side?: string;
  readonly confidence?: number;
}

function levelFields(l: SignalLevels): Pick<AuditEvent, 'entry' | 'stop' | 'takeProfit' | 'stopSource' | 'takeProfitSource' | 'atr'> {
  return { entry: l.entry, stop: l.stop, takeProfit: l.takeProfit, stopSource: l.stopSource, takeProfitSource: l.takeProfitSource, atr: l.atr };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}
