/**
 * The worker side of WorkerPool (pool.ts): answers each posted task with the handler's result, or
 * its error's message. Call it once, at the top level of the worker module.
 */
import { parentPort } from 'node:worker_threads';

export function serveTasks<T, R>(handler: (task: T) => R | Promise<R>): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks: not running in a worker thread');
  port.on('message', (m: { id: number; task: T }) => {
    Promise.resolve()
      .then(() => handler(m.task))
      .then(
        (result) => port.postMessage({ id: m.id, ok: true, result }),
        (e: unknown) => port.postMessage({ id: m.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
      );
  });
}
