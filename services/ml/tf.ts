/**
 * TensorFlow.js backend initialisation: every model in services/ml runs on the WebAssembly backend
 * (tfjs-node does not install here, and the wasm backend is fast enough for our small models and
 * behaves the same on a laptop, in Fargate and in Lambda).
 *
 * The .wasm binaries are found next to the @tensorflow/tfjs-backend-wasm package by default. A
 * bundled Lambda has no node_modules: the bundler copies the .wasm files beside the bundle and the
 * handler passes that folder as `wasmDir` (the core does not read the environment itself).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { tf };

/** Options of initTf. */
export interface TfInitOptions {
  /** Folder holding tfjs-backend-wasm*.wasm (e.g. the Lambda bundle's folder); default: the package's own dist folder. */
  readonly wasmDir?: string;
}

let ready: Promise<void> | undefined;

/**
 * Selects the wasm backend once per process; later calls return the same promise (the first call's
 * `wasmDir` wins). Rejects when the backend cannot start (missing .wasm files).
 */
export function initTf(opts: TfInitOptions = {}): Promise<void> {
  ready ??= (async () => {
    if (opts.wasmDir !== undefined) setWasmPaths(opts.wasmDir.endsWith('/') ? opts.wasmDir : `${opts.wasmDir}/`);
    const ok = await tf.setBackend('wasm');
    if (!ok || tf.getBackend() !== 'wasm') throw new Error('the tfjs wasm backend could not be initialised');
    await tf.ready();
  })().catch((err: unknown) => {
    ready = undefined;
    throw err;
  });
  return ready;
}
