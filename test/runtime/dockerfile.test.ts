/**
 * The task image's build, as far as it can run here (no Docker engine on these machines): the
 * Dockerfile's build stage copies some folders and bundles `bin/start.ts` with esbuild. This test
 * copies exactly the folders that stage copies into an empty directory, runs the same esbuild
 * command, and starts the bundle (`--help`), so a module the image would lack fails here, not at
 * deploy time. It also checks the image's other promises: ARM64, a non-root user, a health check.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync('fargate/Dockerfile', 'utf8');

describe('fargate/Dockerfile', () => {
  it('runs on ARM64 as a non-root user with a health check on /health', () => {
    expect(dockerfile).toMatch(/^FROM --platform=linux\/arm64 node:22/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*127\.0\.0\.1:8787\/health/m);
  });

  it('its build stage has every module the entry point imports: the bundle builds and starts from only what it copies', () => {
    const build = dockerfile.split(/^FROM /m)[1] ?? '';
    const copied = [...build.matchAll(/^COPY (?!--)(\S+) \.\/(\S*)$/gm)].map((m) => m[1]!).filter((p) => !p.includes('package'));
    expect(copied).toEqual(expect.arrayContaining(['bin', 'fargate', 'services']));
    const esbuild = /RUN (npx esbuild .+)$/m.exec(build)?.[1];
    expect(esbuild).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'image-'));
    try {
      for (const p of copied) cpSync(p, join(dir, p), { recursive: true });
      cpSync('package.json', join(dir, 'package.json'));
      symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
      const args = esbuild!.replace(/^npx esbuild /, '').split(/\s+/);
      execFileSync(resolve('node_modules/.bin/esbuild'), [...args, '--log-level=error'], { cwd: dir, stdio: 'pipe' });
      const help = execFileSync(process.execPath, ['dist/start.mjs', '--help'], { cwd: dir, encoding: 'utf8' });
      expect(help).toMatch(/usage: npm start/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
