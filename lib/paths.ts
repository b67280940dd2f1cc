/** Paths the constructs need: the repository root (Docker build context, Lambda entries, lock file). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Absolute path of the repository root (this file lives in `<root>/lib`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of a file given relative to the repository root. */
export function repoPath(...parts: string[]): string {
  return path.join(REPO_ROOT, ...parts);
}
