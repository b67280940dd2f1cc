/** Adapters the handlers share: the state store and the alerts publisher on the process's clients. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createDynamoStore } from '../../services/adapters/dynamo/dynamoStore.js';
import { SqsEventPublisher } from '../../services/adapters/sqs/sqsEvents.js';
import type { EventPublisher } from '../../services/events/types.js';
import type { StateStore } from '../../services/state/types.js';
import type { Logger } from '@aws-lambda-powertools/logger';

/** The state store on the table; quarantined items are logged (the store keeps going). */
export function stateStore(client: DynamoDBClient, tableName: string, logger: Logger): StateStore {
  return createDynamoStore({
    client,
    tableName,
    clock: () => Date.now(),
    onQuarantine: (r) => logger.error('state item quarantined', { report: { key: `${r.pk}#${r.sk}`, reason: r.reason, stored: r.stored } }),
  });
}

/** Publishes alerts (and only alerts: the other queues are not configured for these jobs). */
export function alertPublisher(client: SQSClient, alertsQueueUrl: string, eventsQueueUrl?: string): EventPublisher {
  return new SqsEventPublisher({ client, queueUrls: { alerts: alertsQueueUrl, ...(eventsQueueUrl ? { events: eventsQueueUrl } : {}) } });
}
