/**
 * The runtime's AWS wiring, chosen by environment variables the CDK stack sets on the task
 * (lib/): the state table, the kill-switch parameter, the event queues. Each is optional, so a
 * local run can use any of them against a stand-in (`STATE_ENDPOINT` for a dynalite of another
 * process); without them the runtime uses its local equivalents.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3ObjectStore } from '../services/adapters/s3/s3ObjectStore.js';
import type { ObjectStore } from '../services/ml/archive.js';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SqsEventPublisher, SqsEventQueue } from '../services/adapters/sqs/sqsEvents.js';
import { SsmKillSwitchSource } from '../services/adapters/ssm/ssmKillSwitch.js';
import { ConfigError } from '../services/core/errors.js';
import type { KillSwitchSource } from '../services/control/killSwitch.js';
import type { EventPublisher, EventQueue } from '../services/events/types.js';
import type { RuntimeConfigInput } from './runtimeConfig.js';

export interface CloudWiring {
  /** Runtime options the environment decides (state backend, table). */
  readonly config: Partial<RuntimeConfigInput>;
  readonly killSwitchSource?: KillSwitchSource;
  readonly events?: EventPublisher;
  /** The operator-command queue the hot path consumes (COMMANDS_QUEUE_URL and COMMANDS_DLQ_URL). */
  readonly commands?: EventQueue;
  /** The model registry's files (ARTIFACT_BUCKET), the same URIs the retrain Lambda writes. */
  readonly modelObjects?: { readonly store: ObjectStore; readonly uriPrefix: string };
  /** What is wired, for the start-up line. */
  readonly described: string[];
}

/** Reads STATE_TABLE, STATE_ENDPOINT, KILL_SWITCH_PARAM, the three *_QUEUE_URL variables, ARTIFACT_BUCKET and ML_FILTER. */
export function cloudWiring(env: NodeJS.ProcessEnv): CloudWiring {
  const described: string[] = [];
  const config: Partial<RuntimeConfigInput> = {};
  const table = env.STATE_TABLE || undefined;
  const endpoint = env.STATE_ENDPOINT || undefined;
  if (table || endpoint) {
    Object.assign(config, { stateStorage: 'dynamodb', ...(table ? { tableName: table } : {}), ...(endpoint ? { stateEndpoint: endpoint } : { createTable: false }) });
    described.push(`state: DynamoDB table ${table ?? '(default name)'}${endpoint ? ` at ${endpoint}` : ''}`);
  }
  let killSwitchSource: KillSwitchSource | undefined;
  const param = env.KILL_SWITCH_PARAM || undefined;
  if (param) {
    killSwitchSource = new SsmKillSwitchSource(new SSMClient({ maxAttempts: 1 }), param);
    described.push(`kill switch: SSM parameter ${param}`);
  }
  let events: EventPublisher | undefined;
  const urls = { events: env.EVENTS_QUEUE_URL, alerts: env.ALERTS_QUEUE_URL, retrain: env.RETRAIN_QUEUE_URL };
  const given = Object.entries(urls).filter(([, u]) => u);
  if (given.length > 0 && given.length < 3) {
    const missing = Object.entries(urls).filter(([, u]) => !u).map(([k]) => `${k.toUpperCase()}_QUEUE_URL`);
    throw new ConfigError(`environment: ${missing.join(' and ')} must be set with the other queue URLs (all three or none)`);
  }
  if (urls.events && urls.alerts && urls.retrain) {
    events = new SqsEventPublisher({ client: new SQSClient({ maxAttempts: 1 }), queueUrls: { events: urls.events, alerts: urls.alerts, retrain: urls.retrain } });
    described.push('events: SQS');
  }
  let commands: EventQueue | undefined;
  const commandsUrl = env.COMMANDS_QUEUE_URL || undefined;
  const commandsDlq = env.COMMANDS_DLQ_URL || undefined;
  if (commandsUrl !== undefined || commandsDlq !== undefined) {
    if (!commandsUrl || !commandsDlq) throw new ConfigError('environment: COMMANDS_QUEUE_URL and COMMANDS_DLQ_URL go together (the consumer copies malformed commands to the dead-letter queue)');
    commands = new SqsEventQueue({ client: new SQSClient({ maxAttempts: 1 }), queueUrl: commandsUrl, deadLetterQueueUrl: commandsDlq, name: 'commands' });
    described.push('operator commands: SQS');
  }
  const bucket = env.ARTIFACT_BUCKET || undefined;
  let modelObjects: CloudWiring['modelObjects'];
  if (bucket) {
    modelObjects = { store: new S3ObjectStore(new S3Client({}), bucket), uriPrefix: `s3://${bucket}/` };
    described.push(`models: s3://${bucket}/`);
  }
  const ml = env.ML_FILTER || undefined;
  if (ml !== undefined) {
    if (ml !== 'off' && ml !== 'filter') throw new ConfigError(`environment: ML_FILTER must be off or filter, got "${ml}"`);
    config.mlFilter = ml;
  }
  return { config, ...(killSwitchSource ? { killSwitchSource } : {}), ...(events ? { events } : {}), ...(commands ? { commands } : {}), ...(modelObjects ? { modelObjects } : {}), described };
}
