/**
 * The report Lambda's bundle as lib/reporting.ts makes it: esbuild with the CDK's options plus the
 * native renderer left out (`@resvg/resvg-js-*`, `*.node`), then the afterBundling step's copies
 * (the linux-x64-gnu binary and the font beside the bundle). Loaded from there, the bundle's own
 * wiring finds the binary beside itself, and its renderer turns the report chart into a PNG with
 * the bundled font.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { lambdaEsbuildOptions } from '../../lib/lambdaBundling.js';
import { repoPath } from '../../lib/paths.js';
import { REPORT_EXTERNALS, REPORT_FONT, RESVG_BINARY } from '../../lib/reporting.js';
import type * as ReportModule from '../../lambdas/report/handler.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

mkdirSync(repoPath('cdk.out'), { recursive: true });
// Inside the repository, so the bundle's external @aws-sdk/* resolve to its node_modules.
const dir = mkdtempSync(path.join(repoPath('cdk.out'), 'test-report-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report Lambda bundle', () => {
  it('loads, finds the renderer beside itself, and renders a chart with the bundled font', async () => {
    const opts = lambdaEsbuildOptions({ index: repoPath('lambdas/report/handler.ts') }, dir);
    await build({ ...opts, external: [...opts.external, ...REPORT_EXTERNALS], logLevel: 'error' });
    // Lambda loads the bundle as CommonJS; inside this "type": "module" repository say so.
    writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}');
    copyFileSync(repoPath(RESVG_BINARY), path.join(dir, path.basename(RESVG_BINARY)));
    copyFileSync(repoPath(REPORT_FONT), path.join(dir, path.basename(REPORT_FONT)));
    const mod = createRequire(import.meta.url)(path.join(dir, 'index.js')) as typeof ReportModule;
    expect(typeof mod.handler).toBe('function');
    const env = mod.parseReportEnv({ STAGE: 't', STATE_TABLE: 'tbl', ARTIFACT_BUCKET: 'b', REPORT_FONT_FILE: path.join(dir, 'Cantarell-Regular.otf') });
    const region = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
    const deps = await mod.buildReportDeps(env, { s3: new S3Client(region), sns: new SNSClient(region), secrets: new SecretsManagerClient(region), dynamo: new DynamoDBClient(region) });
    expect(deps.renderer).toBeDefined();
    const png = deps.renderer!.render('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><text x="10" y="40" font-size="30">net 12.34</text></svg>');
    expect(Buffer.from(png.slice(0, 8)).toString('hex')).toBe('89504e470d0a1a0a');
    // Width and height from the IHDR chunk.
    const view = new DataView(png.buffer, png.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([300, 60]);
  }, 120_000);
});
