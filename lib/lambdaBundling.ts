/**
 * How every Lambda is bundled: the esbuild options NodejsFunction is given (lib/scalperFunction.ts)
 * and the same options for a test that bundles a handler itself (test/infra/bundledHandlers.test.ts),
 * so the two cannot drift. Plain values (no aws-cdk-lib import): the test loads this without the CDK.
 *
 * Minified on purpose (smaller, faster cold starts), which renames classes: code must not rely on a
 * class's own name (error classes declare theirs as literals; callers switch on kinds).
 */

/** NodejsFunction's bundling options, as plain values. */
export const LAMBDA_BUNDLING = {
  /** CommonJS: `__dirname` is then the bundle's directory (where tfjs-backend-wasm finds its .wasm files). */
  format: 'cjs',
  target: 'node22',
  minify: true,
  sourceMap: true,
  /** The Node.js 22 runtime provides AWS SDK v3; bundling it would only grow the package. */
  externalModules: ['@aws-sdk/*'],
} as const;

/** The esbuild BuildOptions NodejsFunction derives from LAMBDA_BUNDLING for `entryPoints` (see aws-lambda-nodejs' bundling.ts). */
export function lambdaEsbuildOptions(entryPoints: Record<string, string>, outdir: string) {
  return {
    entryPoints,
    outdir,
    bundle: true,
    platform: 'node' as const,
    format: LAMBDA_BUNDLING.format,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    external: [...LAMBDA_BUNDLING.externalModules],
    logLevel: 'warning' as const,
  };
}
