/**
 * The CDK app entry (`cdk.json` runs it). It reads stage config and instantiates the stacks; the
 * stacks themselves (state table, queues, Fargate service, Lambdas, alarms) arrive with the
 * deployment work, so for now this synthesises an app with no stacks.
 */
import { App } from 'aws-cdk-lib';

const app = new App();
app.synth();
