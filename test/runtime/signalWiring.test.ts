/**
 * fargate/signalWiring.ts on its own (no runtime, no server): who may call `/exchange/*`. A caller
 * on the loopback interface, any spelling of it, may; any other caller needs the operator token
 * (OPERATOR_TOKEN, as `Authorization: Bearer <token>`) and is refused with 403 without it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../fargate/promMetrics.js';
import { wireSignals } from '../../fargate/signalWiring.js';
import type { RouteRequest } from '../../fargate/statusServer.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { VenueClient, VenueMarket } from '../../services/venue/types.js';
import type { SymbolId } from '../../services/core/types.js';
import { kernelRig } from '../helpers/kernelRig.js';

const TOKEN = 'operator-token-0123456789abcdef';

/** The endpoints' ping needs only the venue's name and markets. */
function fakeVenue(): VenueClient {
  const markets = new Map<SymbolId, VenueMarket>([['BTCUSDT' as SymbolId, {} as VenueMarket]]);
  return {
    name: 'fake',
    loadMarkets: () => Promise.resolve(markets),
    market: () => ({}) as VenueMarket,
    fetchBalances: () => Promise.resolve([]),
  } as unknown as VenueClient;
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function wire(operatorToken?: string) {
  dir = await mkdtemp(join(tmpdir(), 'wiring-'));
  const rig = kernelRig({ config: { signals: { enabled: true } } });
  const prom = new PrometheusMetrics();
  const w = wireSignals({
    strategy: rig.config,
    mode: 'paper',
    dataDir: dir,
    kernel: rig.kernel,
    venue: fakeVenue(),
    store: createMemoryStore({ clock: rig.now }).store,
    trading: new Set([rig.sym]),
    killState: () => 'RUNNING',
    refreshKillSwitch: () => Promise.resolve(),
    ml: undefined,
    metrics: prom,
    prom,
    updateGauges: () => undefined,
    marketNow: rig.now,
    wall: Date.now,
    log: () => undefined,
    err: () => undefined,
    ...(operatorToken ? { operatorToken } : {}),
  });
  const route = w.routes.find((r) => r.method === 'GET' && r.path === '/exchange/')!;
  const ping = async (remoteAddress: string | undefined, headers: Record<string, string> = {}) => {
    const req: RouteRequest = { method: 'GET', path: '/exchange/ping', query: new URLSearchParams(), headers, body: '', remoteAddress };
    return route.handle(req);
  };
  return { w, ping };
}

describe('the /exchange/* endpoints in the wiring', () => {
  it('refuse a caller off the loopback interface without the operator token (403), and serve it with the bearer token (200)', async () => {
    const { w, ping } = await wire(TOKEN);
    for (const address of ['10.0.0.5', '::ffff:10.0.0.5', '192.168.1.2', undefined]) {
      const a = await ping(address);
      expect(a.status, String(address)).toBe(403);
      expect(a.body).toMatchObject({ ok: false });
    }
    expect((await ping('10.0.0.5', { authorization: 'Bearer wrong-token' })).status).toBe(403);
    expect((await ping('10.0.0.5', { authorization: TOKEN })).status).toBe(403); // not as a bearer token
    expect(await ping('10.0.0.5', { authorization: `Bearer ${TOKEN}` })).toMatchObject({ status: 200, body: { ok: true, venue: 'fake', markets: 1 } });
    expect((await ping('10.0.0.5', { Authorization: `bearer ${TOKEN}` })).status).toBe(200);
    await w.stop();
  });

  it('without a configured token, only loopback callers are served', async () => {
    const { w, ping } = await wire();
    expect((await ping('10.0.0.5', { authorization: 'Bearer ' })).status).toBe(403);
    expect((await ping('10.0.0.5', { authorization: 'Bearer undefined' })).status).toBe(403);
    expect((await ping('127.0.0.1')).status).toBe(200);
    await w.stop();
  });

  it('serve every loopback caller without a token: all of 127.0.0.0/8, ::1 in any form, ::ffff:127.x.x.x', async () => {
    const { w, ping } = await wire(TOKEN);
    for (const address of ['127.0.0.1', '127.0.0.53', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '0::1', '::ffff:127.0.0.1', '::ffff:127.0.1.1']) {
      expect((await ping(address)).status, address).toBe(200);
    }
    await w.stop();
  });
});
