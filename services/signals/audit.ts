/**
 * The signal audit log: every step a signal takes is one event, appended, never rewritten, each
 * with the trace id that ties the steps of one signal together.
 *
 * | type | when |
 * |---|---|
 * | `RISK_SLTP` | the stop and take-profit of an entry were decided (derived or the signal's own) |
 * | `ORDER_NEW` | the entry was sent to the executor, or would have been (dryRun true), or an exit started |
 * | `ORDER_BLOCKED` | the signal was refused, with its reason code |
 * | `ORDER_FILLED` | the entry's first fill (role entry), or the position closed (role exit) |
 * | `ORDER_ERROR` | the venue rejected the order, the entry expired unfilled, or handling failed |
 *
 * Sinks (the port `AuditSink`): a JSON-lines file per UTC day under the data directory
 * (services/adapters/file/auditFile.ts), stdout (the task's log group on AWS), and the state table
 * (record kind `audit`, services/state). `AuditLog.record` never throws and never waits: writes
 * are started at once and their failures reported; at most `maxPending` writes are in flight, and
 * one beyond that is counted as dropped for that sink (never silently).
 */
import { z } from 'zod';

export const AUDIT_TYPES = ['ORDER_NEW', 'ORDER_FILLED', 'ORDER_BLOCKED', 'ORDER_ERROR', 'RISK_SLTP'] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

/** One audit event. Decimals as strings; optional fields only where they mean something. */
export interface AuditEvent {
  readonly type: AuditType;
  readonly traceId: string;
  /** Epoch ms (the market clock the decision was made on). */
  readonly time: number;
  /** Unique per trace: the event's order in its trace (1, 2, ...), so a store keyed on it is append-only. */
  readonly seq: number;
  readonly channel: string;
  readonly source?: string;
  readonly signalId?: string;
  readonly symbol?: string;
  readonly side?: string;
  /** ORDER_BLOCKED and ORDER_ERROR: the reason code. */
  readonly reason?: string;
  readonly detail?: string;
  readonly dryRun?: boolean;
  readonly intentId?: string;
  readonly positionId?: string;
  readonly role?: 'entry' | 'exit';
  readonly quantity?: string;
  readonly notional?: string;
  readonly price?: string;
  readonly entry?: number;
  readonly stop?: number;
  readonly takeProfit?: number;
  readonly stopSource?: string;
  readonly takeProfitSource?: string;
  readonly atr?: number | null;
  readonly confidence?: number;
  readonly adjustments?: readonly string[];
  readonly pnl?: string;
}

const text = (max: number) => z.string().max(max);
/** The schema an audit event is read back through (the state store validates records with it). */
export const auditEventSchema = z.object({
  type: z.enum(AUDIT_TYPES),
  traceId: z.string().min(1).max(64),
  time: z.number().int().min(0),
  seq: z.number().int().min(1).max(1_000_000),
  channel: text(32),
  source: text(32).optional(),
  signalId: text(160).optional(),
  symbol: text(40).optional(),
  side: text(16).optional(),
  reason: text(64).optional(),
  detail: text(2000).optional(),
  dryRun: z.boolean().optional(),
  intentId: text(64).optional(),
  positionId: text(64).optional(),
  role: z.enum(['entry', 'exit']).optional(),
  quantity: text(64).optional(),
  notional: text(64).optional(),
  price: text(64).optional(),
  entry: z.number().finite().optional(),
  stop: z.number().finite().optional(),
  takeProfit: z.number().finite().optional(),
  stopSource: text(16).optional(),
  takeProfitSource: text(16).optional(),
  atr: z.number().finite().nullable().optional(),
  confidence: z.number().finite().optional(),
  adjustments: z.array(text(64)).max(16).optional(),
  pnl: text(64).optional(),
}) satisfies z.ZodType<AuditEvent, unknown>;

/** Where audit events go. `write` may be asynchronous; its rejection is reported, not thrown. */
export interface AuditSink {
  readonly name: string;
  write(event: AuditEvent): Promise<void> | void;
}

/** The JSON line of an event (what the file and stdout sinks write). */
export function auditLine(e: AuditEvent): string {
  return JSON.stringify({ audit: 'signal', ...e });
}

/** Writes in flight per sink at most (see the file comment). */
export const DEFAULT_MAX_PENDING = 1000;

export class AuditLog {
  private readonly pending = new Map<string, Set<Promise<void>>>();
  private readonly seqs = new Map<string, number>();
  /** Events recorded, write failures and drops, per sink. */
  readonly stats = { recorded: 0, failed: 0, dropped: 0 };
  /** The last events, newest last (bounded), for tests and the status page. */
  readonly recent: AuditEvent[] = [];

  constructor(
    private readonly sinks: readonly AuditSink[],
    private readonly onProblem: (line: string) => void = () => undefined,
    private readonly maxPending = DEFAULT_MAX_PENDING,
    private readonly maxRecent = 200,
  ) {}

  /** Appends an event (its `seq` is assigned here); see the file comment. */
  record(event: Omit<AuditEvent, 'seq'>): AuditEvent {
    const seq = (this.seqs.get(event.traceId) ?? 0) + 1;
    this.seqs.set(event.traceId, seq);
    // Trace counters are only needed while a trace is active; a bound keeps them from growing forever.
    if (this.seqs.size > 10_000) this.seqs.delete(this.seqs.keys().next().value as string);
    const e: AuditEvent = { ...event, seq };
    this.stats.recorded++;
    this.recent.push(e);
    if (this.recent.length > this.maxRecent) this.recent.shift();
    for (const sink of this.sinks) this.write(sink, e);
    return e;
  }

  private write(sink: AuditSink, e: AuditEvent): void {
    let set = this.pending.get(sink.name);
    if (!set) this.pending.set(sink.name, (set = new Set()));
    if (set.size >= this.maxPending) {
      this.stats.dropped++;
      this.onProblem(`audit: ${sink.name} has ${set.size} writes in flight; ${e.type} of trace ${e.traceId} not written there`);
      return;
    }
    let p: Promise<void>;
    try {
      p = Promise.resolve(sink.write(e));
    } catch (err) {
      p = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const tracked = p.then(
      () => undefined,
      (err: unknown) => {
        this.stats.failed++;
        this.onProblem(`audit: ${sink.name} failed to write ${e.type} of trace ${e.traceId}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      },
    );
    set.add(tracked);
    void tracked.finally(() => set.delete(tracked));
  }

  /** Resolves once every write started so far has finished (shutdown, tests). */
  async flush(): Promise<void> {
    for (;;) {
      const all = [...this.pending.values()].flatMap((s) => [...s]);
      if (all.length === 0) return;
      await Promise.all(all);
    }
  }
}
