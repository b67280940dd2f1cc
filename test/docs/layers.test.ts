/**
 * The layering of services/ (ARCHITECTURE.md): no import cycle between its folders, the shared
 * vocabulary (services/model) imports nothing but core, and the core imports no adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The folder of services/ a file belongs to (adapters/<name> for adapters). */
function folderOf(path: string): string | undefined {
  const parts = relative('services', path).split('/');
  if (parts[0] === '..' || parts.length < 2) return undefined;
  return parts[0] === 'adapters' && parts.length > 2 ? `adapters/${parts[1]}` : parts[0];
}

const edges = new Map<string, Set<string>>();
for (const f of files('services')) {
  const from = folderOf(f);
  if (!from) continue;
  for (const m of readFileSync(f, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
    const to = folderOf(normalize(join(dirname(f), m[1] as string)));
    if (to && to !== from) {
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)?.add(to);
    }
  }
}

describe('services/ layering', () => {
  it('has no import cycle between folders', () => {
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      for (const next of edges.get(node) ?? []) {
        const at = path.indexOf(next);
        if (at >= 0) cycles.push([...path.slice(at), next].join(' -> '));
        else visit(next, [...path, next]);
      }
    };
    for (const start of edges.keys()) visit(start, [start]);
    expect(cycles).toEqual([]);
  });

  it('the shared vocabulary imports only core; the core imports no adapter', () => {
    expect([...(edges.get('model') ?? [])]).toEqual(['core']);
    for (const [from, tos] of edges) {
      if (from.startsWith('adapters/')) continue;
      expect([...tos].filter((t) => t.startsWith('adapters/')), from).toEqual([]);
    }
  });
});
