/**
 * The kill switch: an SSM String parameter holding RUNNING, PAUSED or EMERGENCY_STOP
 * (services/adapters/ssm/ssmKillSwitch.ts reads and writes it). Created RUNNING; the hot path polls
 * it, and a change of it triggers the emergency-stop Lambda through EventBridge. Standard tier: free.
 */
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

/** The values the kill switch may hold. */
export const KILL_SWITCH_STATES = ['RUNNING', 'PAUSED', 'EMERGENCY_STOP'] as const;

export class KillSwitch extends Construct {
  readonly parameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: { parameterName: string }) {
    super(scope, id);
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: props.parameterName,
      stringValue: 'RUNNING',
      // Refuse a typo such as "STOP" at write time: the runtime would read it as unusable (PAUSED).
      allowedPattern: `^(${KILL_SWITCH_STATES.join('|')})$`,
      tier: ssm.ParameterTier.STANDARD,
      description: 'mexc-scalper kill switch: RUNNING, PAUSED (no new entries) or EMERGENCY_STOP (flatten everything).',
    });
  }
}
