/**
 * AWS SDK clients, created once per process on first use (module scope, lazily), so a warm Lambda
 * reuses their connections and a handler that does not need one never builds it. Region and
 * credentials come from the Lambda environment; tests inject their own clients instead.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let dynamo: DynamoDBClient | undefined;
let sqs: SQSClient | undefined;
let ssm: SSMClient | undefined;
let sns: SNSClient | undefined;
let secrets: SecretsManagerClient | undefined;

/** DynamoDB with the SDK's retries off: the state store's own bounded retries are the only ones. */
export const dynamoClient = (): DynamoDBClient => (dynamo ??= new DynamoDBClient({ maxAttempts: 1 }));
export const sqsClient = (): SQSClient => (sqs ??= new SQSClient({}));
export const ssmClient = (): SSMClient => (ssm ??= new SSMClient({}));
export const snsClient = (): SNSClient => (sns ??= new SNSClient({}));
export const secretsClient = (): SecretsManagerClient => (secrets ??= new SecretsManagerClient({}));
