/**
 * Handler configuration from the environment, validated with zod: every handler declares the
 * variables it reads; a missing or bad one fails at the first invocation with the variable's name
 * and what was expected (never its value: some are ARNs or URLs, none should be secrets).
 */
import { z } from 'zod';
import { ConfigError } from '../../services/core/errors.js';

/** A non-empty string variable. */
export const required = (what: string) => z.string({ error: `is required (${what})` }).min(1, `is required (${what})`);
/** A positive integer given as text, with a default. */
export const intVar = (def: number, min = 1, max = 86_400_000) => z.coerce.number().int().min(min).max(max).default(def);
/** A comma-separated list (empty entries dropped). */
export const listVar = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** Validates `env` against `schema`; ConfigError names each bad variable. Unknown variables are ignored (Lambda sets many). */
export function parseEnv<T extends z.ZodRawShape>(shape: T, env: Readonly<Record<string, string | undefined>>, handler: string): z.output<z.ZodObject<T>> {
  const r = z.object(shape).safeParse(env);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(env)'} ${i.message}`).join('; ');
    throw new ConfigError(`${handler}: invalid environment: ${issues}`, { cause: r.error });
  }
  return r.data;
}

/** Variables every handler reads. */
export const commonEnv = {
  STAGE: required('deployment stage, e.g. dev or prod'),
};
