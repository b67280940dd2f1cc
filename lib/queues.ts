/**
 * The event queues (services/events/types.ts): `events` (trade closed), `alerts` (the alert
 * dispatcher), `retrain` (the retrain Lambda), `commands` (operator commands for the hot path),
 * `backtests` (the backtest Lambda: Telegram /backtest jobs).
 * Standard queues (delivery is at least once, consumers de-duplicate on the event id), each with a
 * dead-letter queue after 5 receives, encrypted with the stack's KMS key (lib/dataKey.ts; SQS reuses
 * a data key for 5 minutes, so the KMS requests stay a few thousand a month), and a policy refusing
 * anything but TLS. A producer's grantSendMessages and a consumer's event source add the key
 * permissions each needs.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_NAMES, type QueueName } from '../services/events/types.js';
import { acknowledge, guardRule } from './nag.js';

/** Receives before a message moves to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/**
 * Visibility timeout per queue: at least the consumer Lambda's timeout (AWS advises six times it for
 * an event source mapping, so a throttled batch is not redelivered while still being processed).
 */
const VISIBILITY: Readonly<Record<QueueName, Duration>> = {
  events: Duration.minutes(5),
  alerts: Duration.minutes(3), // dispatcher timeout 30 s x 6
  retrain: Duration.minutes(90), // retrain timeout 15 min x 6
  // Read by the hot path itself (no Lambda): a command it received but did not finish (the task
  // stopped) is visible again for the next task after 30 s.
  commands: Duration.seconds(30),
  backtests: Duration.minutes(60), // backtest timeout 10 min x 6
};

export interface QueuePair {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export class EventQueues extends Construct {
  readonly queues: Readonly<Record<QueueName, QueuePair>>;

  constructor(scope: Construct, id: string, props: { key: kms.IKey }) {
    super(scope, id);
    const out: Partial<Record<QueueName, QueuePair>> = {};
    for (const name of QUEUE_NAMES) {
      const cid = name.charAt(0).toUpperCase() + name.slice(1);
      const deadLetterQueue = new sqs.Queue(this, `${cid}Dlq`, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(deadLetterQueue, [
        guardRule('sqs_dlq_check', 'This is itself a dead-letter queue: a message lands here after 5 failed receives and waits 14 days for a person (the DlqNotEmpty alarm pages on the first one). A DLQ behind a DLQ would only move it out of sight.'),
      ]);
      const queue = new sqs.Queue(this, cid, {
        encryption: sqs.QueueEncryption.KMS,
        encryptionMasterKey: props.key,
        enforceSSL: true,
        visibilityTimeout: VISIBILITY[name],
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
      });
      out[name] = { queue, deadLetterQueue };
    }
    this.queues = out as Record<QueueName, QueuePair>;
  }

  /** Every queue pair, in QUEUE_NAMES order. */
  all(): readonly (QueuePair & { name: QueueName })[] {
    return QUEUE_NAMES.map((name) => ({ name, ...this.queues[name] }));
  }
}
