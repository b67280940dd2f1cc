/**
 * The local implementation of the object-store port (services/ml/archive.ts): keys are paths under
 * a root folder. Writes go to a temporary file renamed into place, so a reader never sees half a
 * file and a crash leaves the old version.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { ObjectStore } from '../../ml/archive.js';

/** Rejects keys that would escape the root (absolute, `..`, empty segments). */
function checkKey(key: string): void {
  if (key.length === 0 || key.startsWith('/') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new RangeError(`object key "${key}" is not a relative path (expected segments like candles/BTCUSDT/2025-01-01.csv)`);
  }
}

export class LocalFolderStore implements ObjectStore {
  private seq = 0;

  constructor(readonly root: string) {}

  async get(key: string): Promise<Uint8Array | null> {
    checkKey(key);
    try {
      return new Uint8Array(await readFile(join(this.root, key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    checkKey(key);
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${this.seq++}`;
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    // Start from the deepest folder the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > 32) return;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full, depth + 1);
        else if (e.isFile() && !e.name.includes('.tmp-')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) out.push(key);
        }
      }
    };
    await walk(base ? join(this.root, base) : this.root, 0);
    return out.sort();
  }
}
