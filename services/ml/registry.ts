/**
 * The model registry: model files in an object store (S3 or a local folder, the `ObjectStore` port
 * of services/ml/archive.ts, adapters in services/adapters/s3/) under `models/<kind>/<version>/`,
 * and the live version in the state store's model pointer (current + previous, for rollback).
 *
 * A model folder is complete once its `manifest.json` exists: the files are written first and the
 * manifest last, so a reader never loads half a model (a crash mid-upload leaves a folder without a
 * manifest, which `readArtifact` rejects). Promotion checks the manifest before moving the pointer.
 *
 * The pointer's `uri` is `uriPrefix` + the folder key (e.g. `s3://bucket/models/transformer/v1/`),
 * so an operator can find the files; the registry maps it back to a key.
 */
import { z } from 'zod';
import type { ModelPointerRecord, StateStore } from '../state/types.js';
import type { ObjectStore } from './archive.js';
import { ModelFormatError, ModelStoreError } from './modelErrors.js';
import type { ModelArtifact, SignalModel } from './types.js';

/** The state store's model-pointer methods (all the registry needs of it). */
export type ModelPointerStore = Pick<StateStore, 'getModelPointer' | 'promoteModel' | 'rollbackModel'>;

/** Turns an artifact of one kind back into a model. */
export type ModelLoader = (artifact: ModelArtifact) => Promise<SignalModel>;

const KIND_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const FILE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MANIFEST = 'manifest.json';
/** Bound on the files of one model (weights, metadata, scaler, evaluation). */
const MAX_FILES = 32;

const manifestSchema = z.object({
  kind: z.string().regex(KIND_RE),
  version: z.string().regex(VERSION_RE),
  files: z.array(z.object({ name: z.string().regex(FILE_RE), bytes: z.number().int().min(0) })).max(MAX_FILES),
  createdAt: z.number().int().min(0),
});

/** A stored model: where it is. */
export interface StoredModel {
  readonly kind: string;
  readonly version: string;
  readonly uri: string;
}

/** The folder key of a model version. */
export function modelKey(kind: string, version: string): string {
  if (!KIND_RE.test(kind)) throw new ModelStoreError(`model kind "${kind}" must be lower-case letters, digits and -`);
  if (!VERSION_RE.test(version)) throw new ModelStoreError(`model version "${version}" must be letters, digits and . _ - (at most 128)`);
  return `models/${kind}/${version}/`;
}

/** A sortable version label from a time: 20261201T140000Z (plus an optional suffix). */
export function versionAt(time: number, suffix?: string): string {
  const stamp = new Date(time).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return suffix === undefined ? stamp : `${stamp}-${suffix}`;
}

export interface ModelRegistryOptions {
  readonly objects: ObjectStore;
  readonly pointer: ModelPointerStore;
  /** Prefix of the URIs recorded in the pointer, e.g. `s3://my-bucket/` or `file:///var/models/`. */
  readonly uriPrefix: string;
  /** Loaders by model kind. */
  readonly loaders: Readonly<Record<string, ModelLoader>>;
}

export class ModelRegistry {
  private readonly objects: ObjectStore;
  private readonly pointer: ModelPointerStore;
  private readonly uriPrefix: string;
  private readonly loaders: Readonly<Record<string, ModelLoader>>;

  constructor(opts: ModelRegistryOptions) {
    this.objects = opts.objects;
    this.pointer = opts.pointer;
    this.uriPrefix = opts.uriPrefix;
    this.loaders = opts.loaders;
  }

  /** The URI of a model version's folder. */
  uriOf(kind: string, version: string): string {
    return this.uriPrefix + modelKey(kind, version);
  }

  /** The folder key of a URI made by this registry; ModelStoreError for any other URI. */
  keyOf(uri: string): string {
    if (!uri.startsWith(this.uriPrefix)) throw new ModelStoreError(`model URI ${uri} is not under this registry's prefix ${this.uriPrefix}`);
    const key = uri.slice(this.uriPrefix.length);
    if (!/^models\/[a-z0-9][a-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*\/$/.test(key)) throw new ModelStoreError(`model URI ${uri} does not name a models/<kind>/<version>/ folder`);
    return key;
  }

  /**
   * Writes the artifact's files under models/<kind>/<version>/, then the manifest. Refuses to
   * overwrite a complete version (versions are immutable: the pointer may already name it).
   */
  async save(artifact: ModelArtifact, version: string, now: number): Promise<StoredModel> {
    const key = modelKey(artifact.kind, version);
    const names = Object.keys(artifact.files).sort();
    if (names.length === 0 || names.length > MAX_FILES) throw new ModelStoreError(`a model has 1 to ${MAX_FILES} files, got ${names.length}`);
    for (const n of names) if (!FILE_RE.test(n) || n === MANIFEST) throw new ModelStoreError(`model file name "${n}" is not allowed`);
    if ((await this.wrap(() => this.objects.get(key + MANIFEST), `read ${key}${MANIFEST}`)) !== null) {
      throw new ModelStoreError(`model ${artifact.kind}/${version} already exists; versions are immutable`);
    }
    for (const n of names) {
      const body = artifact.files[n] as Uint8Array;
      await this.wrap(() => this.objects.put(key + n, body), `write ${key}${n}`);
    }
    const manifest = { kind: artifact.kind, version, files: names.map((n) => ({ name: n, bytes: (artifact.files[n] as Uint8Array).length })), createdAt: now };
    await this.wrap(() => this.objects.put(key + MANIFEST, new TextEncoder().encode(JSON.stringify(manifest)), 'application/json'), `write ${key}${MANIFEST}`);
    return { kind: artifact.kind, version, uri: this.uriPrefix + key };
  }

  /** Reads a complete model folder back as an artifact; ModelStoreError when it is missing or incomplete. */
  async readArtifact(uri: string): Promise<ModelArtifact> {
    const key = this.keyOf(uri);
    const raw = await this.wrap(() => this.objects.get(key + MANIFEST), `read ${key}${MANIFEST}`);
    if (raw === null) throw new ModelStoreError(`no complete model at ${uri} (no ${MANIFEST})`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(raw));
    } catch (err) {
      throw new ModelFormatError(`${uri}${MANIFEST} is not JSON`, { cause: err });
    }
    const m = manifestSchema.safeParse(parsed);
    if (!m.success) throw new ModelFormatError(`${uri}${MANIFEST}: ${m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const files: Record<string, Uint8Array> = {};
    for (const f of m.data.files) {
      const body = await this.wrap(() => this.objects.get(key + f.name), `read ${key}${f.name}`);
      if (body === null) throw new ModelStoreError(`model ${uri} is missing ${f.name}`);
      if (body.length !== f.bytes) throw new ModelStoreError(`model ${uri}: ${f.name} has ${body.length} bytes, the manifest says ${f.bytes}`);
      files[f.name] = body;
    }
    return { kind: m.data.kind, files };
  }

  /** Reads and loads the model at `uri` with its kind's loader. */
  async load(uri: string): Promise<SignalModel> {
    const artifact = await this.readArtifact(uri);
    const loader = this.loaders[artifact.kind];
    if (loader === undefined) throw new ModelFormatError(`no loader for model kind ${artifact.kind} (known: ${Object.keys(this.loaders).join(', ')})`);
    return loader(artifact);
  }

  /** The live pointer, or undefined before the first promotion. */
  current(): Promise<ModelPointerRecord | undefined> {
    return this.pointer.getModelPointer();
  }

  /** Makes a stored version live (the current one becomes `previous`). Checks the folder is complete first. */
  async promote(model: StoredModel, now: number): Promise<ModelPointerRecord> {
    await this.readArtifact(model.uri);
    return this.pointer.promoteModel(model.version, model.uri, now);
  }

  /** Makes the previous version live again; InvalidStateError (from the state store) when there is none. */
  rollback(now: number): Promise<ModelPointerRecord> {
    return this.pointer.rollbackModel(now);
  }

  /** Stores a JSON document beside the models (e.g. `evaluations/<version>.json`). */
  async writeJson(key: string, value: unknown): Promise<void> {
    await this.wrap(() => this.objects.put(key, new TextEncoder().encode(JSON.stringify(value, null, 2)), 'application/json'), `write ${key}`);
  }

  /** Reads a JSON document written by writeJson, or undefined. */
  async readJson(key: string): Promise<unknown> {
    const raw = await this.wrap(() => this.objects.get(key), `read ${key}`);
    if (raw === null) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(raw)) as unknown;
    } catch (err) {
      throw new ModelFormatError(`${key} is not JSON`, { cause: err });
    }
  }

  private async wrap<T>(f: () => Promise<T>, what: string): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof ModelStoreError || err instanceof ModelFormatError) throw err;
      throw new ModelStoreError(`model store: cannot ${what}: ${(err as Error).message}`, { cause: err });
    }
  }
}
