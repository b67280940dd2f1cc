/**
 * What `npm run synth` produces without Docker, once per file because it is the slow part: the five
 * Lambdas bundled by local esbuild (each bundle loads and exports `handler`; retrain carries the
 * tfjs wasm binaries), and the hot path's image staged as a build context (not built) with
 * fargate/Dockerfile for linux/arm64 and without node_modules. cli.test.ts runs the real CLI.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.js';
import { JOB_NAMES, TFJS_WASM_DIR } from '../../lib/jobs.js';
import { repoPath } from '../../lib/paths.js';
import type { ScalperStack } from '../../lib/scalperStack.js';
import { TEST_ENV, cdkJsonContext, logicalIdOf } from './helpers.js';

const run = promisify(execFile);

interface AssetManifest {
  files: Record<string, { source: { path: string; packaging?: string } }>;
  dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
}

// Inside the repository's cdk.out (git-ignored, and excluded from the Docker context by
// .dockerignore) so that a bundle's external @aws-sdk/* imports resolve to the repository's
// node_modules when the test loads it.
const base = repoPath('cdk.out');
let outdir: string;
let stack: ScalperStack;
let manifest: AssetManifest;
let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

beforeAll(() => {
  mkdirSync(base, { recursive: true });
  outdir = mkdtempSync(path.join(base, 'test-bundling-'));
  const built = buildApp({ outdir, context: cdkJsonContext() }, { env: TEST_ENV, guard: false });
  stack = built.stack;
  const assembly = built.app.synth();
  const dir = assembly.directory;
  manifest = JSON.parse(readFileSync(path.join(dir, `${stack.artifactId}.assets.json`), 'utf8')) as AssetManifest;
  template = JSON.parse(readFileSync(path.join(dir, stack.templateFile), 'utf8')) as typeof template;
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** The staged directory of a function's code asset. */
function codeDir(job: (typeof JOB_NAMES)[number] | 'telegram-webhook' | 'dashboard'): string {
  const owner = job === 'telegram-webhook' ? stack.telegramWebhook.fn : job === 'dashboard' ? stack.webDashboard.fn : stack.jobs.functions[job];
  const fn = template.Resources[logicalIdOf(owner.function)]!;
  const key = (fn.Properties.Code as { S3Key: string }).S3Key;
  const entry = manifest.files[key.replace(/\.zip$/, '')];
  if (entry === undefined) throw new Error(`no asset for ${job} (${key})`);
  expect(entry.source.packaging).toBe('zip');
  return path.join(outdir, entry.source.path);
}

describe('Lambda bundles (local esbuild, no Docker)', () => {
  it.each([...JOB_NAMES, 'telegram-webhook', 'dashboard'] as const)('%s: one CommonJS bundle that loads and exports a handler function', async (job) => {
    const dir = codeDir(job);
    expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
    // Load it as Lambda would: the asset has no package.json, so index.js is CommonJS there; here the
    // repository's "type": "module" would apply, so the probe gets a copy under a CommonJS package.
    const probeDir = path.join(outdir, `probe-${job}`);
    mkdirSync(probeDir);
    writeFileSync(path.join(probeDir, 'package.json'), '{"type":"commonjs"}');
    copyFileSync(path.join(dir, 'index.js'), path.join(probeDir, 'index.js'));
    const probe = `const m = require('./index.js'); process.stdout.write(typeof m.handler);`;
    const { stdout } = await run(process.execPath, ['-e', probe], { cwd: probeDir, timeout: 60_000, env: { ...process.env, AWS_REGION: 'us-east-1' } });
    expect(stdout).toBe('function');
  });

  it('copies lightweight-charts beside the dashboard bundle, unchanged (the page loads it from the function)', () => {
    const f = 'lightweight-charts.standalone.production.js';
    expect(statSync(path.join(codeDir('dashboard'), f)).size).toBe(statSync(repoPath('node_modules/lightweight-charts/dist', f)).size);
  });

  it('copies the tfjs wasm binaries beside the retrain bundle, unchanged', () => {
    const dir = codeDir('retrain');
    const wasm = readdirSync(repoPath(TFJS_WASM_DIR)).filter((f) => f.endsWith('.wasm'));
    expect(wasm.sort()).toEqual(['tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm', 'tfjs-backend-wasm.wasm']);
    for (const f of wasm) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
      expect(statSync(path.join(dir, f)).size).toBe(statSync(repoPath(TFJS_WASM_DIR, f)).size);
    }
    // Only retrain needs them.
    expect(readdirSync(codeDir('risk-sweep')).some((f) => f.endsWith('.wasm'))).toBe(false);
  });
});

describe('hot path image (staged, not built)', () => {
  it('is one linux/arm64 image from fargate/Dockerfile with the repository as context, without node_modules', () => {
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const src = images[0]!.source;
    expect(src.dockerFile).toBe('fargate/Dockerfile');
    expect(src.platform).toBe('linux/arm64');
    const ctx = path.join(outdir, src.directory);
    for (const f of ['fargate/Dockerfile', 'package.json', 'package-lock.json', 'bin/start.ts', 'fargate/main.ts', 'services']) expect(existsSync(path.join(ctx, f)), f).toBe(true);
    for (const f of ['node_modules', '.git', 'cdk.out', 'test', 'lambdas']) expect(existsSync(path.join(ctx, f)), f).toBe(false);
  });

  it('the task definition pulls that image from the CDK asset repository', () => {
    const [td] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition');
    const image = JSON.stringify((td!.Properties.ContainerDefinitions as { Image: unknown }[])[0]!.Image);
    expect(image).toContain('container-assets');
    expect(image).toContain(Object.keys(manifest.dockerImages)[0]!);
  });
});
