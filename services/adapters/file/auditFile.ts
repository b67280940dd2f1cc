/**
 * The signal audit log as JSON lines in files, one per UTC day: `<dir>/signals-<yyyy-mm-dd>.jsonl`
 * (the runtime uses `<dataDir>/audit`). Append-only: lines are only ever added, in the order the
 * events were recorded (writes are chained, so two events never interleave or swap).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { auditLine, type AuditEvent, type AuditSink } from '../../signals/audit.js';

/** The file of a UTC day. */
export function auditFilePath(dir: string, time: number): string {
  return join(dir, `signals-${new Date(time).toISOString().slice(0, 10)}.jsonl`);
}

export class FileAuditSink implements AuditSink {
  readonly name = 'file';
  private chain: Promise<void> = Promise.resolve();
  private made = false;

  constructor(private readonly dir: string) {}

  write(event: AuditEvent): Promise<void> {
    const next = this.chain.then(async () => {
      if (!this.made) {
        await mkdir(this.dir, { recursive: true });
        this.made = true;
      }
      await appendFile(auditFilePath(this.dir, event.time), `${auditLine(event)}\n`, 'utf8');
    });
    // A failed write is reported by the audit log; the chain goes on with the next one.
    this.chain = next.catch(() => undefined);
    return next;
  }
}
