/**
 * The policy checks on every synth, and the helpers the constructs use to acknowledge a finding
 * next to the resource that causes it, each with its reason:
 *
 * - cdk-nag's AwsSolutions pack;
 * - AWS Control Tower's proactive controls, the cfn-guard rules AWS publishes, run by
 *   `@cdklabs/cdk-validator-cfnguard` (it ships the cfn-guard binary; no download).
 *
 * Both report through CDK's policy-validation plugins: `Validations.of(app).addPlugins(...)` runs
 * them when the app synthesises, and an unacknowledged error fails the synth.
 */
import { CfnResource, Stack, Validations, type IPolicyValidationContextBeta1, type IPolicyValidationPluginBeta1, type PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** The plugin name cdk-validator-cfnguard reports under; acknowledgements are `<name>::<rule>`. */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** Registers the AwsSolutions checks on the app (verbose: each finding explains the rule). */
export function addNagChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}

/**
 * The Control Tower pack with every finding marked as an error. cdk-validator-cfnguard leaves a
 * finding's severity unset; once any finding is acknowledged, CDK recomputes a report's success as
 * "no finding of severity error", so an unset severity would let every new finding through and the
 * synth would pass (test/infra/guard.test.ts reproduces it).
 */
export class ControlTowerChecks implements IPolicyValidationPluginBeta1 {
  private readonly inner = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  readonly name = GUARD_PLUGIN;
  readonly version = this.inner.version;
  readonly ruleIds = this.inner.ruleIds;

  validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const report = this.inner.validate(context);
    return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
  }
}

/** Registers AWS Control Tower's proactive controls (cfn-guard) on the app. */
export function addGuardChecks(app: IConstruct): void {
  Validations.of(app).addPlugins(new ControlTowerChecks());
}

/** An acknowledgement of one Control Tower (cfn-guard) rule, by the rule's file name. */
export function guardRule(rule: string, reason: string): { id: string; reason: string } {
  return { id: `${GUARD_PLUGIN}::${rule}`, reason };
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

/** The cdk-nag findings a grant on a KMS-encrypted queue or bucket adds to a role. */
export function kmsGrantAcknowledgements(): { id: string; reason: string }[] {
  return ['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.kmsGrantActions }));
}

/** Reasons shared by several constructs. */
export const REASONS = {
  tableIndexes:
    'Resource <table>/index/* is the table\'s own GSIs (GSI1, GSI2; grantReadWriteData adds it): the store lists open positions, open orders and fills through them. It grants nothing outside this table.',
  s3GrantActions:
    'Wildcard actions come from Bucket.grantRead/grantReadWrite (s3:GetObject*, s3:GetBucket*, s3:List*, s3:DeleteObject*, s3:Abort*): object-level actions only, limited to this bucket and to the named key prefix in the resource.',
  s3Prefix: (prefix: string) => `Resource <bucket>/${prefix}* limits the grant to the ${prefix} key prefix of this bucket, which this principal owns.`,
  kmsGrantActions:
    'kms:GenerateDataKey* and kms:ReEncrypt* come from grantSendMessages / grantReadWrite on a queue or bucket encrypted with the stack\'s key: limited to that one key (its ARN is the resource), and only usable through the service that holds the data.',
  putMetricData:
    'cloudwatch:PutMetricData has no resource-level permissions (AWS requires Resource "*"); the statement is limited by the condition cloudwatch:namespace = MexcScalper.',
} as const;
