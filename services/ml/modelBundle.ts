/**
 * A model as it is stored and served: the SignalModel with the feature scaler it was trained with
 * (`scaler.json` in the same model folder). Features must be scaled by the model's own scaler, so
 * the two travel together.
 */
import { BASELINE_KIND, loadBaseline } from './baseline.js';
import { ModelFormatError } from './modelErrors.js';
import type { ModelRegistry } from './registry.js';
import { FeatureScaler, type ScalerJson } from './scaler.js';
import { loadTransformer, TRANSFORMER_KIND } from './transformer.js';
import type { ModelArtifact, SignalModel } from './types.js';

export const SCALER_FILE = 'scaler.json';

/** A loaded model and its scaler. */
export interface ModelBundle {
  readonly model: SignalModel;
  readonly scaler: FeatureScaler;
  dispose(): void;
}

/** The artifact's files plus scaler.json. */
export function withScaler(artifact: ModelArtifact, scaler: FeatureScaler): ModelArtifact {
  return { kind: artifact.kind, files: { ...artifact.files, [SCALER_FILE]: new TextEncoder().encode(JSON.stringify(scaler.toJSON())) } };
}

/** The scaler stored in an artifact; ModelFormatError when absent or malformed. */
export function scalerOf(artifact: ModelArtifact): FeatureScaler {
  const raw = artifact.files[SCALER_FILE];
  if (raw === undefined) throw new ModelFormatError(`the ${artifact.kind} artifact has no ${SCALER_FILE}`);
  try {
    return FeatureScaler.fromJSON(JSON.parse(new TextDecoder().decode(raw)) as ScalerJson);
  } catch (err) {
    throw new ModelFormatError(`${SCALER_FILE} cannot be read: ${(err as Error).message}`, { cause: err });
  }
}

/** Loaders of every model kind the registry can hold. */
export const MODEL_LOADERS: Readonly<Record<string, (a: ModelArtifact) => Promise<SignalModel>>> = {
  [TRANSFORMER_KIND]: (a) => loadTransformer(a),
  [BASELINE_KIND]: (a) => Promise.resolve(loadBaseline(a)),
};

/** Builds a bundle from an artifact (model by its kind's loader, plus its scaler). */
export async function bundleFromArtifact(artifact: ModelArtifact): Promise<ModelBundle> {
  const scaler = scalerOf(artifact);
  const loader = MODEL_LOADERS[artifact.kind];
  if (loader === undefined) throw new ModelFormatError(`no loader for model kind ${artifact.kind}`);
  const model = await loader(artifact);
  if (model.featureCount !== scaler.featureCount) {
    model.dispose();
    throw new ModelFormatError(`the model expects ${model.featureCount} features, its scaler has ${scaler.featureCount}`);
  }
  return { model, scaler, dispose: () => model.dispose() };
}

/** Reads and loads the bundle at a registry URI. */
export async function loadBundle(registry: Pick<ModelRegistry, 'readArtifact'>, uri: string): Promise<ModelBundle> {
  return bundleFromArtifact(await registry.readArtifact(uri));
}
