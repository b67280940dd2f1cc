/**
 * cdk-nag (AwsSolutions) on the stack: no unacknowledged finding, errors or warnings, with the image
 * from a registry (tests) and from the Docker asset (`npm run synth`); every acknowledgement
 * answers a finding that really fires without it; and the plugin runs inside synth, so a new finding
 * fails `npm run synth`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Validations, type Acknowledgment } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../lib/app.js';
import { TEST_ENV, TEST_IMAGE_URI, cdkJsonContext } from './helpers.js';

const outdirs: string[] = [];
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

function outdir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'nag-test-'));
  outdirs.push(d);
  return d;
}

const context = () => ({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] });

function build(image: 'registry' | 'asset', nag = true) {
  return buildApp({ outdir: outdir(), context: context() }, { env: TEST_ENV, nag, guard: false, ...(image === 'registry' ? { image: ecs.ContainerImage.fromRegistry(TEST_IMAGE_URI) } : {}) });
}

interface Report {
  pluginReports: { summary: { pluginName: string; status: string }; violations: { ruleName: string }[] }[];
}

describe.each(['registry', 'asset'] as const)('cdk-nag AwsSolutions with the image from the %s', (image) => {
  it('finds nothing unacknowledged (neither errors nor warnings)', () => {
    const { app } = build(image, false);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('synthesises with the plugin registered, and its report lists no AwsSolutions violation', () => {
    const { app } = build(image);
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
    const nag = report.pluginReports.filter((r) => r.summary.pluginName.includes('AwsSolutions'));
    for (const r of nag) expect(r.violations).toEqual([]);
  });
});

describe('acknowledgements', () => {
  it('each one answers a finding that fires without it, and together they cover every finding', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    const spy = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation(function (this: Validations, ...rules: Acknowledgment[]) {
      const scope = (this as unknown as { scope: IConstruct }).scope;
      for (const r of rules) acks.push({ path: scope.node.path, id: r.id, reason: r.reason });
    });
    try {
      for (const image of ['registry', 'asset'] as const) {
        acks.length = 0;
        const { app } = build(image, false);
        const violations = new AwsSolutionsChecks(app).validateScope(app).violations;
        const nagAcks = acks.filter((a) => a.id.startsWith('AwsSolutions-'));
        expect(nagAcks.length).toBeGreaterThan(0);
        // Every acknowledgement matches a real finding on a resource under the acknowledged scope.
        for (const a of nagAcks) {
          const hit = violations.some((v) => v.ruleName === a.id && v.violatingResources.some((r) => (r.constructPath ?? '').startsWith(`${a.path}/`)));
          expect(hit, `${image}: ${a.id} on ${a.path} acknowledges nothing`).toBe(true);
        }
        // Every finding is acknowledged on an ancestor of the resource it is about.
        for (const v of violations) {
          for (const r of v.violatingResources) {
            const covered = nagAcks.some((a) => a.id === v.ruleName && (r.constructPath ?? '').startsWith(`${a.path}/`));
            expect(covered, `${image}: ${v.ruleName} on ${r.constructPath} is not acknowledged`).toBe(true);
          }
        }
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('each carries a reason a reviewer can check (a full sentence, not a placeholder)', () => {
    const acks: Acknowledgment[] = [];
    const spy = vi.spyOn(Validations.prototype, 'acknowledge').mockImplementation((...rules: Acknowledgment[]) => {
      acks.push(...rules);
    });
    try {
      build('asset', false);
    } finally {
      spy.mockRestore();
    }
    for (const a of acks.filter((x) => x.id.startsWith('AwsSolutions-'))) {
      expect(a.reason.length, a.id).toBeGreaterThanOrEqual(60);
      expect(a.reason, a.id).not.toMatch(/^(todo|n\/a|ok|fine|ignore)/i);
    }
  });
});

describe('the plugin inside synth', () => {
  it('fails the synth on a new unacknowledged finding (a bucket without TLS enforcement or access logs)', () => {
    const { app, stack } = build('registry');
    new s3.Bucket(stack, 'CarelessBucket');
    let message = '';
    try {
      app.synth();
    } catch (e) {
      message = String(e);
    }
    expect(message).toContain('AwsSolutions-S10');
    expect(message).toContain('CarelessBucket');
    const report = readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-S10');
    expect(report).toContain('MexcScalper-dev/CarelessBucket/Resource');
  });
});
