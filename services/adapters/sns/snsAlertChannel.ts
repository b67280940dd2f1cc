/** AlertChannel on an SNS topic (e-mail, SMS and other subscribers). The client is created once per process by the caller. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertEvent } from '../../events/types.js';
import { ChannelSendError } from '../../ops/errors.js';
import type { AlertChannel } from '../../ops/alertDispatch.js';
import type { FormattedAlert } from '../../ops/alertFormat.js';
import { isTransientAwsError } from '../awsErrors.js';

const TRANSIENT = new Set(['ThrottledException', 'ThrottlingException', 'InternalErrorException', 'KMSThrottlingException', 'TimeoutError', 'AbortError']);

export class SnsAlertChannel implements AlertChannel {
  readonly name = 'sns';

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly timeoutMs = 5000,
  ) {}

  async send(message: FormattedAlert, alert: AlertEvent): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: message.subject,
          Message: message.text,
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: alert.severity },
            alertId: { DataType: 'String', StringValue: alert.id },
          },
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
    } catch (e) {
      throw new ChannelSendError(`SNS publish failed: ${e instanceof Error ? e.name : 'Error'}`, this.name, isTransientAwsError(e, TRANSIENT), { cause: e });
    }
  }
}
