/**
 * The alarm topic: CloudWatch alarms and the alert dispatcher publish here; the operator's e-mail
 * (stage config `alarmEmail`) is subscribed. TLS-only publishing is enforced by the topic policy.
 * Not KMS-encrypted: CloudWatch alarms cannot publish to a topic under the AWS-managed aws/sns key,
 * and the messages are alarm states and alert titles, no secrets.
 */
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export class AlarmTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: { email: string; stage: string }) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: `mexc-scalper ${props.stage} alarms`, enforceSSL: true });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }
}
