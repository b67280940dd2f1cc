/** Powertools logger, metrics and tracer per handler (one set per process), and a fake context for tests and the local scheduler. */
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

// The namespace the stack's alarms and the hot path use (lib/metrics.ts).
export const METRICS_NAMESPACE = 'MexcScalper';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

const cache = new Map<string, Observability>();

/** The logger, metrics and tracer of `serviceName`, created once per process. */
export function observability(serviceName: string): Observability {
  let o = cache.get(serviceName);
  if (!o) {
    o = {
      logger: new Logger({ serviceName }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
      tracer: new Tracer({ serviceName }),
    };
    cache.set(serviceName, o);
  }
  return o;
}

/** A Lambda context for calls outside Lambda (tests, local scheduler). */
export function localContext(functionName: string, requestId: string, timeoutMs = 120_000, now: () => number = () => performance.now()): Context {
  const start = now();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (now() - start)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
