/** Building AlertEvents from the jobs, and publishing them without letting a failure stop the job. */
import type { AlertEvent, AlertSeverity, EventPublisher } from '../events/types.js';

/** Characters allowed in an event id (services/events/types.ts). */
function idPart(s: string): string {
  return s.replace(/[^A-Za-z0-9:_.-]/g, '-').slice(0, 60);
}

/**
 * An alert with a deterministic id (`<source>:<key>:<time>`) and a dedup key (`<source>:<key>`), so
 * the dispatcher sends one problem once per window however often a job raises it.
 */
export function makeAlert(source: string, key: string, time: number, severity: AlertSeverity, title: string, detail: string): AlertEvent {
  return {
    type: 'alert',
    id: `${idPart(source)}:${idPart(key)}:${time}`.slice(0, 128),
    time,
    severity,
    title: title.slice(0, 200),
    detail: detail.slice(0, 4000),
    dedupKey: `${idPart(source)}:${idPart(key)}`.slice(0, 128),
  };
}

/** Publishes every alert; returns the failures (never throws: the job's actions matter more than its mail). */
export async function publishAll(publisher: EventPublisher, alerts: readonly AlertEvent[]): Promise<{ published: number; failures: string[] }> {
  let published = 0;
  const failures: string[] = [];
  for (const a of alerts) {
    try {
      await publisher.publish(a);
      published++;
    } catch (e) {
      failures.push(`${a.id}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
  return { published, failures };
}
