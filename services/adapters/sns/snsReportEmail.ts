/** The reports' e-mail summary on an SNS topic (its e-mail subscriptions). The client is created once per process by the caller. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ChannelSendError } from '../../ops/errors.js';
import type { EmailChannel } from '../../reporting/delivery.js';

/** SNS caps a subject at 100 printable ASCII characters; the message at 256 KB. */
const SUBJECT_MAX = 100;
const MESSAGE_MAX = 250_000;

export class SnsReportEmail implements EmailChannel {
  readonly name = 'email';
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(subject: string, text: string): Promise<void> {
    // Non-ASCII (an en dash, "…") is refused in a subject: replace it rather than fail the mail.
    const s = subject.replace(/[^\x20-\x7e]/g, '-').slice(0, SUBJECT_MAX);
    try {
      await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: s, Message: text.slice(0, MESSAGE_MAX) }), { abortSignal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new ChannelSendError(`SNS publish failed: ${e instanceof Error ? e.name : 'Error'}`, this.name, true, { cause: e });
    }
  }
}
