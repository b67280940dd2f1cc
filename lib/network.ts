/**
 * The network of the hot path: a VPC with public subnets only and no NAT gateway (a NAT gateway
 * alone would cost about $33 a month, more than everything else together). The task gets a public
 * IPv4 address for its outbound connections (MEXC, AWS APIs) and a security group with no inbound
 * rule, so nothing on the internet can open a connection to it. Rejected traffic is recorded by a
 * flow log in the log bucket.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, guardRule } from './nag.js';

export class PublicNetwork extends Construct {
  readonly vpc: ec2.Vpc;
  /** The hot-path task's security group: no inbound rule, all outbound. */
  readonly taskSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: { flowLogBucket: s3.IBucket }) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      restrictDefaultSecurityGroup: false,
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toS3(props.flowLogBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    acknowledge(this.vpc, [
      guardRule(
        'subnet_auto_assign_public_ip_disabled_check',
        'Public subnets with public IPs on purpose: with no NAT gateway (about $33 a month plus $0.045 per GB) the task reaches MEXC and the AWS APIs through its own public IPv4 address ($3.65 a month). Its security group has no inbound rule, so nothing on the internet can open a connection to it.',
      ),
    ]);
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'mexc-scalper hot path: outbound only (MEXC and AWS APIs), no inbound',
      allowAllOutbound: true,
    });
  }
}
