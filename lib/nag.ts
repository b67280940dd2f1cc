/**
 * cdk-nag (AwsSolutions pack) on every synth, and the helpers the constructs use to acknowledge a
 * finding next to the resource that causes it, each with its reason. cdk-nag 3 reports through
 * CDK's policy-validation plugins: `Validations.of(app).addPlugins(...)` runs the pack when the app
 * synthesises, and an unacknowledged error fails the synth.
 */
import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Registers the AwsSolutions checks on the app (verbose: each finding explains the rule). */
export function addNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}

/**
 * How cdk-nag writes a reference to a resource's attribute inside a finding id, e.g.
 * `<StateTable0A1B2C3D.Arn>` (its `flattenCfnReference`), for acknowledging one exact finding.
 */
export function nagRef(construct: IConstruct, attribute = 'Arn'): string {
  const cfn = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (cfn === undefined || !CfnResource.isCfnResource(cfn)) throw new Error(`${construct.node.path} has no CloudFormation resource to reference`);
  return `<${Stack.of(cfn).getLogicalId(cfn)}.${attribute}>`;
}

/** Acknowledges findings on `scope` (and everything under it); every entry carries its reason. */
export function acknowledge(scope: IConstruct, findings: readonly { id: string; reason: string }[]): void {
  Validations.of(scope).acknowledge(...findings);
}

/** Reasons shared by several constructs. */
export const REASONS = {
  tableIndexes:
    'Resource <table>/index/* is the table\'s own GSIs (GSI1, GSI2; grantReadWriteData adds it): the store lists open positions, open orders and fills through them. It grants nothing outside this table.',
  s3GrantActions:
    'Wildcard actions come from Bucket.grantRead/grantReadWrite (s3:GetObject*, s3:GetBucket*, s3:List*, s3:DeleteObject*, s3:Abort*): object-level actions only, limited to this bucket and to the named key prefix in the resource.',
  s3Prefix: (prefix: string) => `Resource <bucket>/${prefix}* limits the grant to the ${prefix} key prefix of this bucket, which this principal owns.`,
  putMetricData:
    'cloudwatch:PutMetricData has no resource-level permissions (AWS requires Resource "*"); the statement is limited by the condition cloudwatch:namespace = MexcScalper.',
} as const;
