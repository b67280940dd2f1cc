/**
 * The dev stage's stack, synthesised once (Lambda bundling skipped, image from a registry): every
 * resource and wiring the deployment issue asks for. Expected values come from the issue and from
 * services/state/README.md (key names), not from the constructs' own constants.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { actionsOf, logicalIdOf, mentions, onlyResource, resourcesOf, resourcesOfStatement, statementsOfRole, synthTestApp, type Statement } from './helpers.js';

type Json = Record<string, unknown>;

let template: Template;
let stack: ScalperStack;

beforeAll(() => {
  ({ template, stack } = synthTestApp());
});

const props = (r: Json) => (r.Properties ?? {}) as Json;
const dataKeyId = () => logicalIdOf(stack.dataKey.key);

describe('the data key', () => {
  it('is one customer-managed key, rotated, retained, usable by CloudWatch Logs only for this account\'s log groups', () => {
    const [id, key] = onlyResource(template, 'AWS::KMS::Key');
    expect(id).toBe(dataKeyId());
    expect(props(key).EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe('Retain');
    const statements = (props(key).KeyPolicy as { Statement: (Statement & { Principal?: { Service?: unknown } })[] }).Statement;
    const logs = statements.find((st) => st.Principal?.Service === 'logs.us-east-1.amazonaws.com');
    expect(logs?.Condition).toMatchObject({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': expect.anything() as unknown } });
    expect(JSON.stringify(logs?.Condition)).toContain(':logs:us-east-1:123456789012:log-group:*');
    // Grants only on behalf of AWS services (CT.KMS.PR.3).
    expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 'kms:CreateGrant', Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } } })]));
  });
});

describe('state table', () => {
  it('is the single-table design: PK/SK, GSI1 and GSI2 on their key attributes, projecting ALL', () => {
    const [, table] = onlyResource(template, 'AWS::DynamoDB::Table', (p) => p.GlobalSecondaryIndexes !== undefined);
    const p = props(table);
    expect(p.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toEqual([
      { IndexName: 'GSI1', KeySchema: [{ AttributeName: 'GSI1PK', KeyType: 'HASH' }, { AttributeName: 'GSI1SK', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
      { IndexName: 'GSI2', KeySchema: [{ AttributeName: 'GSI2PK', KeyType: 'HASH' }, { AttributeName: 'GSI2SK', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } },
    ]);
    expect(p.AttributeDefinitions).toEqual(expect.arrayContaining(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK'].map((n) => ({ AttributeName: n, AttributeType: 'S' }))));
  });

  it('is on demand, with point-in-time recovery, encryption at rest, TTL on expiresAt, and retained', () => {
    const [, table] = onlyResource(template, 'AWS::DynamoDB::Table', (p) => p.GlobalSecondaryIndexes !== undefined);
    expect(props(table)).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('has a separate idempotency table keyed as lambdas/shared/idempotency.ts writes it (PK, SK, expiresAt), also retained', () => {
    const id = logicalIdOf(stack.idempotencyTable.table);
    const t = (template.toJSON().Resources as Record<string, Json>)[id]!;
    expect(id).not.toBe(logicalIdOf(stack.stateTable.table));
    expect(props(t)).toMatchObject({
      KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(props(t).GlobalSecondaryIndexes).toBeUndefined();
    expect(t.DeletionPolicy).toBe('Retain');
  });
});

describe('secrets', () => {
  it('creates the MEXC credentials (JSON apiKey/apiSecret), Telegram token, webhook secret, TOTP secret and dashboard link key with generated placeholders, retained', () => {
    const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret');
    // MEXC and Telegram (lib/secrets.ts), the console's, and the signal webhook's secret and operator token (lib/signalWebhook.ts).
    expect(secrets).toHaveLength(7);
    for (const [, s] of secrets) {
      expect(props(s).GenerateSecretString).toBeDefined();
      expect(props(s).SecretString).toBeUndefined();
      expect(s.DeletionPolicy).toBe('Retain');
    }
    const mexc = props((template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.secrets.mexcCredentials)]!).GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string };
    // The format parseMexcSecret (services/ops/secrets.ts) reads: {"apiKey": ..., "apiSecret": ...}.
    expect(Object.keys(JSON.parse(mexc.SecretStringTemplate) as object)).toEqual(['apiKey']);
    expect(mexc.GenerateStringKey).toBe('apiSecret');
  });

  it('injects the MEXC key and secret into the task as ECS secrets (JSON fields), not as environment values', () => {
    const container = hotPathContainer();
    const secrets = container.Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name).sort()).toEqual(['MEXC_API_KEY', 'MEXC_API_SECRET']);
    const mexcId = logicalIdOf(stack.secrets.mexcCredentials);
    // ValueFrom is "<secret arn>:<json key>::" (version stage and id empty: the current version).
    expect(secrets.find((s) => s.Name === 'MEXC_API_KEY')?.ValueFrom).toEqual({ 'Fn::Join': ['', [{ Ref: mexcId }, ':apiKey::']] });
    expect(secrets.find((s) => s.Name === 'MEXC_API_SECRET')?.ValueFrom).toEqual({ 'Fn::Join': ['', [{ Ref: mexcId }, ':apiSecret::']] });

    const env = container.Environment as { Name: string; Value: unknown }[];
    const secretIds = resourcesOf(template, 'AWS::SecretsManager::Secret').map(([id]) => id);
    for (const e of env) {
      expect(e.Name).not.toMatch(/KEY|SECRET|TOKEN|PASSWORD/);
      for (const id of secretIds) expect(mentions(e.Value, id), `${e.Name} refers to a secret`).toBe(false);
      expect(JSON.stringify(e.Value)).not.toMatch(/secretsmanager|resolve:/i);
    }
  });

  it('gives Lambdas only secret ARNs (read at run time), under *_SECRET_ID names', () => {
    const secretIds = resourcesOf(template, 'AWS::SecretsManager::Secret').map(([id]) => id);
    let seen = 0;
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const vars = ((props(fn).Environment as Json | undefined)?.Variables ?? {}) as Json;
      for (const [name, value] of Object.entries(vars)) {
        if (secretIds.some((id) => mentions(value, id))) {
          seen++;
          expect(name).toMatch(/_SECRET_ID$/);
          expect(value).toEqual({ Ref: expect.any(String) as string });
        }
        expect(JSON.stringify(value)).not.toContain('resolve:secretsmanager');
      }
    }
    // MEXC for reconcile, risk-sweep, emergency-stop; the token for the dispatcher; the token, webhook
    // secret, TOTP secret and link key for the Telegram webhook; the link key for the dashboard;
    // MEXC, the webhook secret and the operator token for the signal webhook; the token for report and review.
    expect(seen).toBe(14);
  });
});

describe('queues', () => {
  it('has events, alerts, retrain, commands and backtests queues, each with its own DLQ after 5 receives', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    // The five event queues and the signals queue (lib/signalWebhook.ts), each with its DLQ.
    expect(queues).toHaveLength(12);
    const main = queues.filter(([, q]) => props(q).RedrivePolicy !== undefined);
    expect(main).toHaveLength(6);
    const dlqIds = new Set<string>();
    for (const [, q] of main) {
      const redrive = props(q).RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: { 'Fn::GetAtt': [string, string] } };
      expect(redrive.maxReceiveCount).toBe(5);
      dlqIds.add(redrive.deadLetterTargetArn['Fn::GetAtt'][0]);
    }
    expect(dlqIds.size).toBe(6);
    const all = template.toJSON().Resources as Record<string, Json>;
    for (const id of dlqIds) expect(props(all[id]!).RedrivePolicy).toBeUndefined();
    for (const name of ['events', 'alerts', 'retrain', 'commands', 'backtests'] as const) {
      expect(dlqIds.has(logicalIdOf(stack.queues.queues[name].deadLetterQueue))).toBe(true);
    }
  });

  it('encrypts every queue with the stack\'s KMS key and refuses non-TLS access to each', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    expect(queues).toHaveLength(12);
    for (const [, q] of queues) expect(props(q).KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [dataKeyId(), 'Arn'] });
    const policies = resourcesOf(template, 'AWS::SQS::QueuePolicy');
    for (const [id] of queues) {
      const policy = policies.find(([, p]) => mentions(props(p).Queues, id));
      expect(policy, `no policy for ${id}`).toBeDefined();
      expect(props(policy![1]).PolicyDocument).toMatchObject({
        Statement: expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) as unknown,
      });
    }
  });
});

describe('hot path service', () => {
  it('runs on Fargate ARM64 with the configured CPU and memory', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      Cpu: '256',
      Memory: '512',
      NetworkMode: 'awsvpc',
    });
  });

  it('keeps one task and never two at once: desired 1, min healthy 0 %, max 100 %, circuit breaker with rollback', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      LaunchType: 'FARGATE',
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100, DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
  });

  it('has a public IP in public subnets, no NAT gateway, and a security group without inbound rules', () => {
    const [, svc] = onlyResource(template, 'AWS::ECS::Service');
    const net = (props(svc).NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: { Ref: string }[]; SecurityGroups: unknown[] } }).AwsvpcConfiguration;
    expect(net.AssignPublicIp).toBe('ENABLED');
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const subnets = template.toJSON().Resources as Record<string, Json>;
    for (const s of net.Subnets) expect(props(subnets[s.Ref]!).MapPublicIpOnLaunch).toBe(true);
    for (const [, subnet] of resourcesOf(template, 'AWS::EC2::Subnet')) expect(props(subnet).MapPublicIpOnLaunch).toBe(true);
    const sgId = logicalIdOf(stack.network.taskSecurityGroup);
    expect(net.SecurityGroups).toEqual([{ 'Fn::GetAtt': [sgId, 'GroupId'] }]);
    const sg = props(subnets[sgId]!);
    expect(sg.SecurityGroupIngress).toBeUndefined();
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it('checks health on http://127.0.0.1:8787/health', () => {
    const hc = hotPathContainer().HealthCheck as { Command: string[] };
    expect(hc.Command[0]).toBe('CMD-SHELL');
    expect(hc.Command[1]).toContain('http://127.0.0.1:8787/health');
  });

  it('logs to a log group with the stage retention (dev: 365 days) under the data key', () => {
    const log = (hotPathContainer().LogConfiguration as { LogDriver: string; Options: Json });
    expect(log.LogDriver).toBe('awslogs');
    const groupId = (log.Options['awslogs-group'] as { Ref: string }).Ref;
    const group = props((template.toJSON().Resources as Record<string, Json>)[groupId]!);
    expect(group.RetentionInDays).toBe(365);
    expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [dataKeyId(), 'Arn'] });
  });

  it('runs as uid 1000 on a read-only root filesystem with a hard memory limit, /tmp writable from a task volume', () => {
    const c = hotPathContainer();
    expect(c.User).toBe('1000:1000');
    expect(c.ReadonlyRootFilesystem).toBe(true);
    expect(c.Memory).toBe(512);
    const mounts = c.MountPoints as { SourceVolume: string; ContainerPath: string; ReadOnly: boolean }[];
    expect(mounts.map((m) => m.ContainerPath).sort()).toEqual(['/app/data/local', '/tmp']);
    for (const m of mounts) expect(m.ReadOnly).toBe(false);
    const [, task] = onlyResource(template, 'AWS::ECS::TaskDefinition');
    const volumes = (props(task).Volumes as { Name: string; Host?: unknown }[]).map((v) => v.Name).sort();
    expect(volumes).toEqual(mounts.map((m) => m.SourceVolume).sort());
  });

  it('passes the runtime its environment: stage, table, queues, kill switch, bucket, trading mode', () => {
    const env = Object.fromEntries((hotPathContainer().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      STAGE: 'dev',
      TRADING_MODE: 'paper',
      STATE_TABLE: { Ref: logicalIdOf(stack.stateTable.table) },
      EVENTS_QUEUE_URL: { Ref: logicalIdOf(stack.queues.queues.events.queue) },
      ALERTS_QUEUE_URL: { Ref: logicalIdOf(stack.queues.queues.alerts.queue) },
      RETRAIN_QUEUE_URL: { Ref: logicalIdOf(stack.queues.queues.retrain.queue) },
      KILL_SWITCH_PARAM: { Ref: logicalIdOf(stack.killSwitch.parameter) },
      ARTIFACT_BUCKET: { Ref: logicalIdOf(stack.buckets.bucket) },
    });
  });
});

describe('task role (least privilege)', () => {
  const taskRole = () => logicalIdOf(stack.hotPath.taskDefinition.taskRole);

  it('has no wildcard action, and "*" as a resource only for PutMetricData limited to the MexcScalper namespace', () => {
    const statements = statementsOfRole(template, taskRole());
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      for (const a of actionsOf(s)) expect(a === '*' || a.endsWith(':*'), `action ${a}`).toBe(false);
      if (resourcesOfStatement(s).includes('*')) {
        expect(actionsOf(s)).toEqual(['cloudwatch:PutMetricData']);
        expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'MexcScalper' } });
      }
    }
  });

  it('can read/write the state table, send to the three queues and read the kill switch', () => {
    const statements = statementsOfRole(template, taskRole());
    const allowed = (action: string, logicalId: string) => statements.some((s) => actionsOf(s).includes(action) && mentions(s.Resource, logicalId));
    expect(allowed('dynamodb:PutItem', logicalIdOf(stack.stateTable.table))).toBe(true);
    expect(allowed('dynamodb:Query', logicalIdOf(stack.stateTable.table))).toBe(true);
    for (const name of ['events', 'alerts', 'retrain'] as const) expect(allowed('sqs:SendMessage', logicalIdOf(stack.queues.queues[name].queue)), name).toBe(true);
    expect(allowed('ssm:GetParameter', logicalIdOf(stack.killSwitch.parameter))).toBe(true);
    expect(statements.some((s) => actionsOf(s).includes('ssm:PutParameter'))).toBe(false);
  });

  it('reaches the bucket only under models/ and candles/', () => {
    const bucketId = logicalIdOf(stack.buckets.bucket);
    const objectResources = statementsOfRole(template, taskRole())
      .filter((s) => actionsOf(s).some((a) => a.startsWith('s3:') && a !== 's3:GetBucket*' && a !== 's3:List*'))
      .flatMap(resourcesOfStatement)
      .filter((r) => mentions(r, bucketId))
      .map((r) => JSON.stringify(r));
    expect(objectResources.length).toBeGreaterThan(0);
    for (const r of objectResources) {
      if (r.includes('Fn::Join')) expect(r).toMatch(/"\/(models|candles)\/\*"/);
    }
    expect(objectResources.some((r) => r.includes('/models/*'))).toBe(true);
    expect(objectResources.some((r) => r.includes('/candles/*'))).toBe(true);
    expect(objectResources.some((r) => r.includes('"/*"'))).toBe(false);
  });

  it('cannot read secrets itself; the execution role reads exactly the MEXC secret', () => {
    const task = statementsOfRole(template, taskRole());
    expect(task.some((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))).toBe(false);
    const exec = statementsOfRole(template, logicalIdOf(stack.hotPath.taskDefinition.executionRole!)).filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    const read = exec.flatMap(resourcesOfStatement);
    expect(read).toEqual([{ Ref: logicalIdOf(stack.secrets.mexcCredentials) }]);
  });
});

describe('lambdas', () => {
  const fnId = (job: keyof ScalperStack['jobs']['functions']) => logicalIdOf(stack.jobs.functions[job].function);
  const roleId = (job: keyof ScalperStack['jobs']['functions']) => logicalIdOf(stack.jobs.functions[job].role);

  it('are thirteen functions (six jobs, the Telegram webhook, the dashboard, the signal webhook, the research runner control and worker, report, review), ARM64 but for report (x86_64 for its native PNG renderer), on nodejs22.x, handler "handler", logging to a group with the stage retention', () => {
    const fns = resourcesOf(template, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(13);
    const resources = template.toJSON().Resources as Record<string, Json>;
    const reportFn = logicalIdOf(stack.reporting.function.function);
    for (const [id, fn] of fns) {
      const p = props(fn);
      expect(p.Architectures).toEqual([id === reportFn ? 'x86_64' : 'arm64']);
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Handler).toBe('index.handler');
      const group = ((p.LoggingConfig as Json).LogGroup as { Ref: string }).Ref;
      expect(props(resources[group]!).RetentionInDays).toBe(365);
      expect(props(resources[group]!).KmsKeyId).toEqual({ 'Fn::GetAtt': [dataKeyId(), 'Arn'] });
    }
  });

  it('reserves concurrency 1 for the three that trade, none for the others', () => {
    const reserved = (job: Parameters<typeof fnId>[0]) => props((template.toJSON().Resources as Record<string, Json>)[fnId(job)]!).ReservedConcurrentExecutions;
    expect(reserved('reconcile')).toBe(1);
    expect(reserved('risk-sweep')).toBe(1);
    expect(reserved('emergency-stop')).toBe(1);
    expect(reserved('alert-dispatcher')).toBeUndefined();
    expect(reserved('retrain')).toBeUndefined();
    expect(reserved('backtest')).toBeUndefined();
  });

  it('gives backtest a full vCPU and more (a backtest is single-threaded), a timeout the queue\'s visibility covers six times, and its claim a minute longer than the timeout', () => {
    const p = props((template.toJSON().Resources as Record<string, Json>)[fnId('backtest')]!);
    expect(p.MemorySize as number).toBeGreaterThanOrEqual(1769);
    expect(p.Timeout).toBe(600);
    const vars = (p.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars).toMatchObject({ BACKTEST_LOCK_SECONDS: '660', MAX_RECEIVES: '5', STRATEGY_MODE: 'standard', RISK_PROFILE: 'conservative', ALERTS_QUEUE_URL: { Ref: logicalIdOf(stack.queues.queues.alerts.queue) } });
    const queue = props((template.toJSON().Resources as Record<string, Json>)[logicalIdOf(stack.queues.queues.backtests.queue)]!);
    expect(queue.VisibilityTimeout).toBe(6 * 600);
  });

  it('gives retrain at least 3008 MB, 15 minutes and extra ephemeral storage', () => {
    const p = props((template.toJSON().Resources as Record<string, Json>)[fnId('retrain')]!);
    expect(p.MemorySize as number).toBeGreaterThanOrEqual(3008);
    expect(p.Timeout).toBe(900);
    expect((p.EphemeralStorage as { Size: number }).Size).toBeGreaterThan(512);
  });

  it.each([
    ['reconcile', 'rate(5 minutes)'],
    ['risk-sweep', 'rate(1 minute)'],
    ['retrain', 'rate(1 hour)'],
  ] as const)('schedules %s at %s', (job, expression) => {
    const rules = resourcesOf(template, 'AWS::Events::Rule').filter(([, r]) => props(r).ScheduleExpression === expression);
    expect(rules).toHaveLength(1);
    expect(props(rules[0]![1]).Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId(job), 'Arn'] } })]);
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [fnId(job), 'Arn'] }, Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [rules[0]![0], 'Arn'] } });
  });

  it('runs emergency-stop when the kill-switch parameter changes', () => {
    const rules = resourcesOf(template, 'AWS::Events::Rule').filter(([, r]) => props(r).EventPattern !== undefined);
    expect(rules).toHaveLength(1);
    const p = props(rules[0]![1]);
    expect(p.EventPattern).toEqual({ source: ['aws.ssm'], 'detail-type': ['Parameter Store Change'], detail: { name: [{ Ref: logicalIdOf(stack.killSwitch.parameter) }] } });
    expect(p.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [fnId('emergency-stop'), 'Arn'] } })]);
  });

  it('feeds the alert dispatcher from the alerts queue, retrain from the retrain queue and backtest from the backtests queue, with partial batch failures', () => {
    const mappings = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => props(m));
    expect(mappings).toHaveLength(3);
    expect(mappings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FunctionName: { Ref: fnId('alert-dispatcher') }, EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.queues.queues.alerts.queue), 'Arn'] }, FunctionResponseTypes: ['ReportBatchItemFailures'] }),
        expect.objectContaining({ FunctionName: { Ref: fnId('retrain') }, EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.queues.queues.retrain.queue), 'Arn'] }, FunctionResponseTypes: ['ReportBatchItemFailures'] }),
        expect.objectContaining({ FunctionName: { Ref: fnId('backtest') }, EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(stack.queues.queues.backtests.queue), 'Arn'] }, FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 1, ScalingConfig: { MaximumConcurrency: 2 } }),
      ]),
    );
  });

  it('the backtest job reads only candles/ and backtests/, writes only backtests/, sends only to alerts, and only claims in the idempotency table', () => {
    const statements = statementsOfRole(template, roleId('backtest'));
    const bucket = logicalIdOf(stack.buckets.bucket);
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, `/${prefix}*`]] });
    const s3 = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('s3:')));
    const objectResources = s3.flatMap(resourcesOfStatement).filter((r) => JSON.stringify(r).includes('Fn::Join'));
    expect(objectResources).toEqual(expect.arrayContaining([objects('candles/'), objects('backtests/')]));
    for (const r of objectResources) expect([objects('candles/'), objects('backtests/')]).toContainEqual(r);
    const puts = s3.filter((s) => actionsOf(s).includes('s3:PutObject'));
    expect(puts.flatMap(resourcesOfStatement)).toEqual([objects('backtests/')]);
    expect(s3.some((s) => actionsOf(s).some((a) => a.startsWith('s3:DeleteObject')))).toBe(false);
    const sends = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sends.flatMap(resourcesOfStatement)).toEqual([{ 'Fn::GetAtt': [logicalIdOf(stack.queues.queues.alerts.queue), 'Arn'] }]);
    const dynamo = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:PutItem']);
    expect(dynamo.flatMap(resourcesOfStatement)).toEqual([{ 'Fn::GetAtt': [logicalIdOf(stack.idempotencyTable.table), 'Arn'] }]);
    expect(statements.some((s) => mentions(s.Resource, logicalIdOf(stack.stateTable.table)))).toBe(false);
    expect(statements.some((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')))).toBe(false);
  });

  it('use their own roles with no managed policy (only their own log group for logs)', () => {
    for (const job of ['reconcile', 'risk-sweep', 'emergency-stop', 'alert-dispatcher', 'retrain', 'backtest'] as const) {
      const role = props((template.toJSON().Resources as Record<string, Json>)[roleId(job)]!);
      expect(role.ManagedPolicyArns, job).toBeUndefined();
      const logs = statementsOfRole(template, roleId(job)).filter((s) => actionsOf(s).includes('logs:PutLogEvents'));
      expect(logs.flatMap(resourcesOfStatement), job).toEqual([{ 'Fn::GetAtt': [logicalIdOf(stack.jobs.functions[job].logGroup), 'Arn'] }]);
    }
  });

  it('the alert dispatcher cannot touch the state table or the MEXC keys', () => {
    const statements = statementsOfRole(template, roleId('alert-dispatcher'));
    const stateId = logicalIdOf(stack.stateTable.table);
    expect(statements.some((s) => mentions(s.Resource, stateId))).toBe(false);
    expect(statements.some((s) => mentions(s.Resource, logicalIdOf(stack.secrets.mexcCredentials)))).toBe(false);
    expect(statements.some((s) => actionsOf(s).includes('sns:Publish') && mentions(s.Resource, logicalIdOf(stack.alarmTopic.topic)))).toBe(true);
  });

  it('the trading jobs cannot read the Telegram token; none of them may write the kill switch', () => {
    const telegram = logicalIdOf(stack.secrets.telegramBotToken);
    for (const job of ['reconcile', 'risk-sweep', 'emergency-stop'] as const) {
      const statements = statementsOfRole(template, roleId(job));
      expect(statements.some((s) => mentions(s.Resource, telegram)), job).toBe(false);
      expect(statements.some((s) => actionsOf(s).includes('secretsmanager:GetSecretValue') && mentions(s.Resource, logicalIdOf(stack.secrets.mexcCredentials))), job).toBe(true);
    }
    for (const job of ['reconcile', 'risk-sweep', 'emergency-stop', 'alert-dispatcher', 'retrain', 'backtest'] as const) {
      expect(statementsOfRole(template, roleId(job)).some((s) => actionsOf(s).includes('ssm:PutParameter')), job).toBe(false);
    }
  });

  it('no function role has a wildcard action or a bare "*" resource', () => {
    for (const job of ['reconcile', 'risk-sweep', 'emergency-stop', 'alert-dispatcher', 'retrain', 'backtest'] as const) {
      for (const s of statementsOfRole(template, roleId(job))) {
        expect(resourcesOfStatement(s), job).not.toContain('*');
        for (const a of actionsOf(s)) expect(a === '*' || a.endsWith(':*'), `${job} ${a}`).toBe(false);
      }
    }
  });
});

describe('kill switch', () => {
  it('is a String parameter named from the stage, starting RUNNING', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Name: '/mexc-scalper/dev/kill-switch', Value: 'RUNNING', Tier: 'Standard' });
  });
});

describe('artifact bucket', () => {
  it('is encrypted, fully private, versioned, retained and logs access to the log bucket', () => {
    const [, bucket] = onlyResource(template, 'AWS::S3::Bucket', (_p, id) => id === logicalIdOf(stack.buckets.bucket));
    expect(props(bucket)).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [dataKeyId(), 'Arn'] } }, BucketKeyEnabled: true }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalIdOf(stack.buckets.logBucket) } },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('the log bucket is KMS-encrypted, versioned, and logs its own access', () => {
    const [, bucket] = onlyResource(template, 'AWS::S3::Bucket', (_p, id) => id === logicalIdOf(stack.buckets.logBucket));
    expect(props(bucket)).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [dataKeyId(), 'Arn'] } } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { LogFilePrefix: 'log-bucket-access/' },
    });
    expect((props(bucket).LoggingConfiguration as Json).DestinationBucketName).toBeUndefined();
    // The two log writers may use the key (S3 access logging, VPC flow-log delivery).
    const [, key] = onlyResource(template, 'AWS::KMS::Key');
    const principals = JSON.stringify((props(key).KeyPolicy as { Statement: unknown[] }).Statement);
    expect(principals).toContain('logging.s3.amazonaws.com');
    expect(principals).toContain('delivery.logs.amazonaws.com');
  });

  it('both buckets deny non-TLS requests in their bucket policies; the log bucket admits S3 log delivery only', () => {
    for (const b of [stack.buckets.bucket, stack.buckets.logBucket]) {
      const [, policy] = onlyResource(template, 'AWS::S3::BucketPolicy', (p) => JSON.stringify(p.Bucket) === JSON.stringify({ Ref: logicalIdOf(b) }));
      const statements = (props(policy).PolicyDocument as { Statement: (Statement & { Principal?: unknown })[] }).Statement;
      expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]));
      for (const s of statements.filter((x) => x.Effect === 'Allow')) {
        expect(JSON.stringify(s.Principal)).toMatch(/logging\.s3\.amazonaws\.com|delivery\.logs\.amazonaws\.com/);
        expect(s.Principal).not.toBe('*');
      }
    }
  });
});

describe('observability', () => {
  const alarms = () => resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, a]) => props(a));
  const topicRef = () => ({ Ref: logicalIdOf(stack.alarmTopic.topic) });

  it('sends every alarm (ALARM and OK) to the topic, which mails the configured address', () => {
    const all = alarms();
    expect(all).toHaveLength(24); // 12, plus the two console Lambdas' errors and the commands DLQ, the signal webhook's errors and dead letters, the report and review Lambdas' errors, the task's CPU, memory and disk, and the backtest Lambda's errors and its DLQ
    for (const a of all) {
      expect(a.AlarmActions).toEqual([topicRef()]);
      expect(a.OKActions).toEqual([topicRef()]);
    }
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'alerts-dev@example.com', TopicArn: topicRef() });
  });

  it('alarms on a missing heartbeat, treating missing data as breaching', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({ Namespace: 'MexcScalper', MetricName: 'Heartbeat', Dimensions: [{ Name: 'Stage', Value: 'dev' }], ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching' }),
    );
  });

  it('alarms when more than 5 % of orders fail (OrderErrors / Orders)', () => {
    const a = alarms().find((x) => JSON.stringify(x.Metrics ?? []).includes('OrderErrors'));
    expect(a).toBeDefined();
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = a!.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[];
    const expr = metrics.find((m) => m.Expression !== undefined)!;
    const byName = (n: string) => metrics.find((m) => m.MetricStat?.Metric.MetricName === n)!;
    expect(byName('Orders').MetricStat!.Metric.Namespace).toBe('MexcScalper');
    expect(expr.Expression).toContain(`${byName('OrderErrors').Id}`);
    expect(expr.Expression).toMatch(new RegExp(`100 \\* .*${byName('OrderErrors').Id}.*/ ${byName('Orders').Id}`));
  });

  it('alarms at 80 % of the daily loss limit (dev limit 2 % → 1.6)', () => {
    expect(alarms()).toContainEqual(expect.objectContaining({ Namespace: 'MexcScalper', MetricName: 'DailyLossPct', Threshold: 1.6, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
  });

  it('alarms on any message in each of the event queues\' DLQs', () => {
    for (const name of ['events', 'alerts', 'retrain', 'commands', 'backtests'] as const) {
      const dlq = logicalIdOf(stack.queues.queues[name].deadLetterQueue);
      expect(alarms(), name).toContainEqual(
        expect.objectContaining({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }], Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }),
      );
    }
  });

  it('alarms on errors of each Lambda but the research runner\'s', () => {
    // The research runner's functions are not the operator's pager: a failed optimisation fails its
    // execution, which whoever started it sees (test/infra/researchRunner.test.ts).
    const research = [stack.research.control, stack.research.worker].map((f) => logicalIdOf(f.function));
    for (const [id] of resourcesOf(template, 'AWS::Lambda::Function')) {
      if (research.includes(id)) continue;
      expect(alarms(), id).toContainEqual(expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: id } }], Threshold: 1 }));
    }
  });

  it('alarms when no task runs: the service CPU sample count under 1, missing data breaching', () => {
    const a = alarms().find((x) => JSON.stringify(x.Metrics ?? []).includes('AWS/ECS'));
    expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    const stat = (a!.Metrics as { MetricStat: { Stat: string; Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] } } }[])[0]!.MetricStat;
    expect(stat.Stat).toBe('SampleCount');
    expect(stat.Metric.MetricName).toBe('CPUUtilization');
    expect(stat.Metric.Dimensions).toEqual([
      { Name: 'ClusterName', Value: { Ref: logicalIdOf(stack.hotPath.cluster) } },
      { Name: 'ServiceName', Value: { 'Fn::GetAtt': [logicalIdOf(stack.hotPath.service), 'Name'] } },
    ]);
  });

  it('alarms on the task’s own CPU, memory and disk figures at the lines the runtime alerts at (85 / 90 / 95 %)', () => {
    const of = (name: string) => alarms().find((a) => a.MetricName === name);
    expect(of('CpuPct')).toMatchObject({ Namespace: 'MexcScalper', Dimensions: [{ Name: 'Stage', Value: 'dev' }], Statistic: 'Maximum', Period: 300, Threshold: 85, EvaluationPeriods: 2, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(of('MemoryPct')).toMatchObject({ Namespace: 'MexcScalper', Statistic: 'Maximum', Period: 60, Threshold: 90, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(of('DiskPct')).toMatchObject({ Namespace: 'MexcScalper', Statistic: 'Maximum', Period: 300, Threshold: 95, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('has a dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('stage selection', () => {
  it('builds the prod stage with -c stage=prod: live trading, its own names, termination protection', () => {
    const prod = synthTestApp({ stage: 'prod' }, { nag: false });
    expect(prod.stack.stackName).toBe('MexcScalper-prod');
    expect(prod.stack.terminationProtection).toBe(true);
    const env = ((prod.template.findResources('AWS::ECS::TaskDefinition') as Record<string, Json>)[logicalIdOf(prod.stack.hotPath.taskDefinition)]!.Properties as { ContainerDefinitions: { Environment: { Name: string; Value: unknown }[] }[] }).ContainerDefinitions[0]!.Environment;
    expect(env).toContainEqual({ Name: 'TRADING_MODE', Value: 'live' });
    expect(env).toContainEqual({ Name: 'STAGE', Value: 'prod' });
    prod.template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/mexc-scalper/prod/kill-switch' });
  });
});

function hotPathContainer(): Json {
  const [, td] = onlyResource(template, 'AWS::ECS::TaskDefinition');
  const containers = props(td).ContainerDefinitions as Json[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}
