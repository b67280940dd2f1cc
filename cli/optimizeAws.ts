import type { OptimizeIo, ParsedOptimize } from './optimize.js';
import { UsageError } from './args.js';

export function runOnAws(_a: ParsedOptimize, _io: OptimizeIo): Promise<void> {
  return Promise.reject(new UsageError('--on aws: not built yet'));
}
