/**
 * A local DynamoDB for `npm start` and tests: dynalite in this process, listening on 127.0.0.1 at a
 * free port, in memory (no `path`) or on disk under `path` (LevelDB files, kept across restarts).
 * dynalite has no transactions and no TTL expiry; the state store needs neither. On disk, the folder
 * is checked and backed up before dynalite opens it (localStateGuard.ts): a damaged or partial state
 * is refused with one clear line rather than opened as an empty store.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkLocalState, type LocalStateCheck } from './localStateGuard.js';

/** dynalite's factory (the package ships no types). */
type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A client for it, with the SDK's own retries off (the store's retries are the bound). */
  readonly client: DynamoDBClient;
  /** On disk: what the check before opening found, and the backup it took. */
  readonly state?: LocalStateCheck;
  /** Stops the server and the client; on disk, the data stays under `path`. */
  close(): Promise<void>;
}

/**
 * Starts dynalite in process: in memory, or on disk under `options.path` (created when missing;
 * refused with a LocalStateError when damaged, partial, read-only or open elsewhere).
 */
export async function startLocalDynamo(options: { path?: string } = {}): Promise<LocalDynamo> {
  const require = createRequire(import.meta.url);
  const dynalite = require('dynalite') as DynaliteFactory;
  const state = options.path !== undefined ? await checkLocalState(options.path, new Date().toISOString()) : undefined;
  // createTableMs 0: a new table is ACTIVE at once instead of after dynalite's simulated 500 ms.
  const server = dynalite({ ...(options.path !== undefined ? { path: options.path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    // dynalite accepts any credentials; these are placeholders, not secrets.
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    client,
    ...(state ? { state } : {}),
    close() {
      closed ??= (async () => {
        client.destroy();
        // Keep-alive sockets would hold the HTTP server open until they time out.
        server.closeAllConnections();
        await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      })();
      return closed;
    },
  };
}
