/**
 * Opens the state `npm start` keeps (dynalite on disk under `<data-dir>/state`, table
 * `mexc-sr-scalper-local`) for the read-mostly commands (`npm run report`, `review`, `tax`), or a
 * DynamoDB endpoint given with `--state-endpoint` (a dynalite another process serves).
 *
 * dynalite keeps its data in LevelDB, which one process opens at a time: while `npm start` runs,
 * its state folder is locked. The commands say so in one line instead of failing later; the
 * runtime writes the daily report itself at each UTC day's end.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoStore, createTable } from '../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../services/adapters/dynamo/localDynamo.js';
import { ConfigError } from '../services/core/errors.js';
import type { StateStore } from '../services/state/types.js';

/** The table name `npm start` uses (fargate/runtimeConfig.ts). */
export const LOCAL_TABLE = 'mexc-sr-scalper-local';

export interface OpenedState {
  readonly store: StateStore;
  close(): Promise<void>;
}

/** Opens the local state (see the file comment). */
export async function openLocalState(o: { dataDir: string; stateEndpoint?: string; tableName?: string; now: () => number }): Promise<OpenedState> {
  const tableName = o.tableName ?? LOCAL_TABLE;
  let local: LocalDynamo | undefined;
  let client: DynamoDBClient;
  if (o.stateEndpoint) {
    client = new DynamoDBClient({ endpoint: o.stateEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  } else {
    const path = join(o.dataDir, 'state');
    if (!existsSync(path)) throw new ConfigError(`--data-dir: no state under ${path} (expected the data folder of npm start, default data/local)`);
    if (await isLocked(path)) {
      throw new ConfigError(`--data-dir: the state under ${path} is open by a running npm start (one process at a time); stop it first, or pass --state-endpoint. The runtime writes the daily report itself at each UTC day's end.`);
    }
    local = await startLocalDynamo({ path });
    client = local.client;
  }
  await createTable(client, tableName);
  const store = createDynamoStore({ client, tableName, clock: o.now, onQuarantine: (r) => console.error(`state: quarantined ${r.pk}/${r.sk}: ${r.reason}`) });
  return {
    store,
    async close() {
      if (local) await local.close();
      else client.destroy();
    },
  };
}

/**
 * Whether another process holds the LevelDB lock: an open of the folder with the `level` package
 * dynalite itself uses fails with LEVEL_LOCKED (checked on the error's code, not its text).
 */
async function isLocked(path: string): Promise<boolean> {
  const { createRequire } = await import('node:module');
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve('dynalite/package.json'));
  type Db = { open(o: object): Promise<void>; close(): Promise<void> };
  const { Level } = fromDynalite('level') as { Level: new (p: string) => Db };
  const db = new Level(path);
  try {
    await db.open({ createIfMissing: false });
    await db.close();
    return false;
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown } }).cause;
    return (e as { code?: unknown }).code === 'LEVEL_LOCKED' || cause?.code === 'LEVEL_LOCKED';
  }
}
