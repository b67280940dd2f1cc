/**
 * A local SQS for `npm start` and tests: local-aws-sqs (an SQS-compatible HTTP server) running in
 * this process on a free loopback port, with the three event queues and their dead-letter queues.
 *
 * Known difference from SQS, in local-aws-sqs 2.0: ChangeMessageVisibility counts as a receive
 * (ApproximateReceiveCount goes up), so a nacked message reaches the dead-letter queue after fewer
 * deliveries than on SQS. Visibility expiry, deletes and the redrive policy behave as on SQS.
 */
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { ConfigError } from '../../core/errors.js';
import { EventQueueError, QUEUE_NAMES, type QueueName } from '../../events/types.js';

/** The URLs of one logical queue and its dead-letter queue. */
export interface QueueUrls {
  readonly url: string;
  readonly deadLetterUrl: string;
}

export interface EventQueueSetup {
  /** Physical names are `<prefix>-<queue>` and `<prefix>-<queue>-dlq` (default prefix `mexc-sr`). */
  readonly prefix?: string;
  /** Receives before SQS moves a message to the dead-letter queue (redrive maxReceiveCount; default 5). */
  readonly maxReceives?: number;
}

export interface LocalSqsOptions extends EventQueueSetup {
  /** Port to listen on (default 0: a free port). */
  readonly port?: number;
}

/** A running local SQS. */
export interface LocalSqs {
  /** e.g. http://127.0.0.1:41234; give it to an SQSClient as `endpoint`. */
  readonly endpoint: string;
  /** The three event queues, created. */
  readonly queues: Readonly<Record<QueueName, QueueUrls>>;
  /** A client for this endpoint (dummy credentials); closed by `close`. */
  readonly client: SQSClient;
  /** Stops the server and the client. */
  close(): Promise<void>;
}

/** An SQSClient for a local endpoint: fixed region, dummy credentials (local-aws-sqs checks none). */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/**
 * Creates the events, alerts and retrain queues, each with a dead-letter queue and a redrive policy,
 * and returns their URLs. CreateQueue is idempotent for the same attributes, so this can run at every
 * start. In AWS the stack creates the queues instead.
 */
export async function createEventQueues(client: SQSClient, setup: EventQueueSetup = {}): Promise<Record<QueueName, QueueUrls>> {
  const prefix = setup.prefix ?? 'mexc-sr';
  const maxReceives = setup.maxReceives ?? 5;
  if (!Number.isInteger(maxReceives) || maxReceives < 1 || maxReceives > 1000) {
    throw new ConfigError(`maxReceives must be an integer from 1 to 1000 (SQS's range), got ${maxReceives}`);
  }
  const out: Partial<Record<QueueName, QueueUrls>> = {};
  for (const name of QUEUE_NAMES) {
    const dlq = await client.send(new CreateQueueCommand({ QueueName: `${prefix}-${name}-dlq` }));
    const deadLetterUrl = required(dlq.QueueUrl, `${prefix}-${name}-dlq`);
    const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }));
    const arn = required(attrs.Attributes?.QueueArn, `${prefix}-${name}-dlq ARN`);
    const q = await client.send(
      new CreateQueueCommand({
        QueueName: `${prefix}-${name}`,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: maxReceives }) },
      }),
    );
    out[name] = { url: required(q.QueueUrl, `${prefix}-${name}`), deadLetterUrl };
  }
  return out as Record<QueueName, QueueUrls>;
}

function required(v: string | undefined, what: string): string {
  if (!v) throw new EventQueueError(`SQS returned no ${what}`);
  return v;
}

/** Starts local-aws-sqs in this process on 127.0.0.1 and creates the event queues. */
export async function startLocalSqs(options: LocalSqsOptions = {}): Promise<LocalSqs> {
  const server = await createSqsServer({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    // AWS makes you wait 60 s to re-create a deleted queue; tests create and drop queues freely.
    emulateQueueCreationLifecycle: false,
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localSqsClient(endpoint);
  const close = async (): Promise<void> => {
    client.destroy();
    // Keep-alive sockets of the SDK would hold close() open; end them.
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    const queues = await createEventQueues(client, options);
    return { endpoint, queues, client, close };
  } catch (e) {
    await close();
    throw e;
  }
}
