/**
 * AWS Control Tower's proactive controls (the cfn-guard rules AWS publishes, run by
 * @cdklabs/cdk-validator-cfnguard) on the stack: the synth reports no unaccepted finding; without
 * the acknowledgements exactly the accepted trade-offs fire (the list README.md explains, with their
 * cost), each acknowledgement answers one of them on a resource under its scope; and a new finding
 * (a log group without KMS or retention) fails the synth.
 *
 * One synth of the stack with the plugin registered, then the validator run in-process on the same
 * template to see the raw findings (the acknowledgements are applied by CDK, not by cfn-guard).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CfnResource, Validations, type Acknowledgment } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp, type BuiltApp } from '../../lib/app.js';
import { GUARD_PLUGIN } from '../../lib/nag.js';
import { TEST_ENV, TEST_IMAGE_URI, cdkJsonContext } from './helpers.js';

/** The accepted trade-offs (issue 15, README "Controls accepted, and their cost"), by rule. */
const ACCEPTED = [
  'lambda_inside_vpc_check',
  'subnet_auto_assign_public_ip_disabled_check',
  'ecs_service_assign_public_ip_disabled_check',
  'sqs_dlq_check',
  's3_bucket_object_lock_enabled_check',
  's3_event_notifications_enabled_check',
  'ecs_container_insights_enabled_check',
].sort();

interface Report {
  pluginReports: { pluginName?: string; summary?: { pluginName: string }; violations: { ruleName: string }[] }[];
}

const outdirs: string[] = [];
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

function build(): BuiltApp {
  const outdir = mkdtempSync(path.join(tmpdir(), 'guard-test-'));
  outdirs.push(outdir);
  return buildApp(
    { outdir, context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } },
    { env: TEST_ENV, nag: false, guard: true, image: ecs.ContainerImage.fromRegistry(TEST_IMAGE_URI) },
  );
}

const guardReports = (dir: string) =>
  (JSON.parse(readFileSync(path.join(dir, 'validation-report.json'), 'utf8')) as Report).pluginReports.filter(
    (r) => (r.pluginName ?? r.summary?.pluginName) === GUARD_PLUGIN,
  );

let built: BuiltApp;
let templatePath: string;
let synthDir: string;
const acks: { path: string; id: string; reason: string }[] = [];

beforeAll(() => {
  // Record every acknowledgement (and let it through: this synth is the one `npm run synth` does).
  const original = Object.getOwnPropertyDescriptor(Validations.prototype, 'acknowledge')!.value as (this: Validations, ...rules: Acknowledgment[]) => void;
  const spy = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (this: Validations, ...rules: Acknowledgment[]) {
    const scope = (this as unknown as { scope: IConstruct }).scope;
    for (const r of rules) acks.push({ path: scope.node.path, id: r.id, reason: r.reason });
    original.apply(this, rules);
  });
  try {
    built = build();
  } finally {
    spy.mockRestore();
  }
  const assembly = built.app.synth();
  synthDir = assembly.directory;
  templatePath = path.join(assembly.directory, assembly.getStackByName(built.stack.stackName).templateFile);
});

describe('AWS Control Tower proactive controls (cfn-guard)', () => {
  it('run inside synth and report no unaccepted finding', () => {
    const reports = guardReports(synthDir);
    expect(reports).toHaveLength(1);
    expect(reports[0]!.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('without acknowledgements, exactly the accepted trade-offs fire; each acknowledgement answers one on a resource under its scope', () => {
    const validator = new CfnGuardValidator();
    // The whole Control Tower pack, not a subset (237 rules in 0.0.62).
    expect(validator.ruleIds?.length ?? 0).toBeGreaterThan(200);
    const raw = validator.validate({ templatePaths: [templatePath], appConstruct: built.app });
    const pathOf = new Map<string, string>();
    for (const c of built.stack.node.findAll()) if (CfnResource.isCfnResource(c)) pathOf.set(built.stack.getLogicalId(c), c.node.path);
    const findings = raw.violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: pathOf.get(r.resourceLogicalId) ?? r.resourceLogicalId })));

    expect([...new Set(findings.map((f) => f.rule))].sort()).toEqual(ACCEPTED);

    const guardAcks = acks.filter((a) => a.id.startsWith(`${GUARD_PLUGIN}::`)).map((a) => ({ ...a, rule: a.id.slice(GUARD_PLUGIN.length + 2) }));
    for (const a of guardAcks) {
      expect(ACCEPTED, `${a.rule} is acknowledged but not an accepted trade-off`).toContain(a.rule);
      const hit = findings.some((f) => f.rule === a.rule && f.path.startsWith(`${a.path}/`));
      expect(hit, `${a.rule} on ${a.path} acknowledges nothing`).toBe(true);
      expect(a.reason.length, a.rule).toBeGreaterThanOrEqual(80);
    }
    for (const f of findings) {
      const covered = guardAcks.some((a) => a.rule === f.rule && f.path.startsWith(`${a.path}/`));
      expect(covered, `${f.rule} on ${f.path} is not acknowledged`).toBe(true);
    }
  });

  it('fail the synth on a new finding (a log group without KMS and with a short retention)', () => {
    const fresh = build();
    new logs.LogGroup(fresh.stack, 'CarelessLogs', { retention: logs.RetentionDays.ONE_WEEK });
    let message = '';
    try {
      fresh.app.synth();
    } catch (e) {
      message = String(e);
    }
    expect(message).toContain('ValidationFailed');
    expect(message).toContain('MexcScalper-dev/CarelessLogs');
    const rules = guardReports(fresh.app.outdir).flatMap((r) => r.violations.map((v) => v.ruleName));
    expect(rules.sort()).toEqual(['cloudwatch_log_group_encrypted_check', 'cloudwatch_log_group_retention_period_check']);
  });
});
