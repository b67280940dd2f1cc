/**
 * `npm run synth` itself: the CDK CLI (aws-cdk 2.1148, cdk.json's `npx tsx bin/app.ts`) synthesises
 * a stage offline, with Lambda bundling by local esbuild, the Docker context only staged, cdk-nag
 * and AWS Control Tower's proactive controls passing, and no AWS credentials. Slow (a fresh tsx process), so it is the only test here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, repoPath } from '../../lib/paths.js';

const run = promisify(execFile);

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

describe('npm run synth (the CDK CLI)', () => {
  it('synthesises the prod stage offline with cdk-nag, without Docker or credentials', async () => {
    // Under cdk.out: git-ignored and outside the Docker build context.
    mkdirSync(repoPath('cdk.out'), { recursive: true });
    const out = mkdtempSync(path.join(repoPath('cdk.out'), 'test-cli-'));
    try {
      const env = { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: '1' };
      const t0 = Date.now();
      await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-c', 'stage=prod', '-o', out], { cwd: REPO_ROOT, timeout: 170_000, env });
      console.log(`cdk synth (prod) took ${Date.now() - t0} ms`);
      const t = JSON.parse(readFileSync(path.join(out, 'MexcScalper-prod.template.json'), 'utf8')) as Template;
      const td = Object.values(t.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition')!;
      const env0 = (td.Properties.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[] }[])[0]!.Environment;
      expect(env0).toContainEqual({ Name: 'TRADING_MODE', Value: 'live' });
      const report = readFileSync(path.join(out, 'validation-report.json'), 'utf8');
      expect(report).not.toContain('AwsSolutions-');
      // The Control Tower pack ran inside the synth and found nothing unaccepted.
      const guard = (JSON.parse(report) as { pluginReports: { pluginName: string; violations: unknown[] }[] }).pluginReports.filter((r) => r.pluginName === 'cdk-validator-cfnguard');
      expect(guard).toHaveLength(1);
      expect(guard[0]!.violations).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
