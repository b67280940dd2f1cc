// The entry of every pool worker: registers tsx's loader when the task module is TypeScript (the
// CLI runs from source), then loads the module, which calls serveTasks().
import { workerData } from 'node:worker_threads';

const target = workerData.target;
if (target.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(target);
