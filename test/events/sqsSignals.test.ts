/**
 * The signals queue, both implementations of SignalInbox (in process, and SQS through a local SQS
 * server): a message is received, hidden while in flight, gone once acked; the poller acks what it
 * decided and leaves what was not final for a redelivery.
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../../services/adapters/sqs/localSqs.js';
import { SqsSignalInbox, sendSignalMessage } from '../../services/adapters/sqs/sqsSignals.js';
import { AuditLog } from '../../services/signals/audit.js';
import { MemorySignalInbox, pollSignalInbox, type SignalInbox } from '../../services/signals/inbox.js';
import { SignalIntake } from '../../services/signals/intake.js';
import { SignalRouter } from '../../services/signals/router.js';
import { kernelRig } from '../helpers/kernelRig.js';

let sqs: LocalSqs;
let seq = 0;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

async function sqsInbox(): Promise<{ inbox: SignalInbox; send: (b: string) => Promise<void> }> {
  const out = await sqs.client.send(new CreateQueueCommand({ QueueName: `signals-${++seq}` }));
  const url = out.QueueUrl!;
  return { inbox: new SqsSignalInbox(sqs.client, url), send: (b) => sendSignalMessage(sqs.client, url, b) };
}

function memoryInbox(): Promise<{ inbox: SignalInbox; send: (b: string) => Promise<void> }> {
  const m = new MemorySignalInbox(() => 0);
  return Promise.resolve({ inbox: m, send: (b) => (m.send(b) ? Promise.resolve() : Promise.reject(new Error('full'))) });
}

for (const [name, make] of [
  ['in process', memoryInbox],
  ['SQS (local server)', sqsInbox],
] as const) {
  describe(`signal inbox: ${name}`, () => {
    it('receives a body, hides it while in flight, forgets it once acked', async () => {
      const { inbox, send } = await make();
      await send('{"symbol":"BTCUSDT","side":"buy","id":"a"}');
      const [m] = await inbox.receive(10, 60_000);
      expect(m?.body).toBe('{"symbol":"BTCUSDT","side":"buy","id":"a"}');
      expect(await inbox.receive(10, 60_000)).toEqual([]);
      await inbox.ack(m!.receiptHandle);
      expect(await inbox.receive(10, 0)).toEqual([]);
    });

    it('the poller decides each message through the intake and acks what it decided', async () => {
      const { inbox, send } = await make();
      const rig = kernelRig({ config: { signals: { enabled: true, dryRun: true } } });
      for (let i = 0; i < 14; i++) rig.candle({ o: 100, h: 101, l: 99, c: 100 });
      const router = new SignalRouter({ config: rig.config, kernel: rig.kernel, audit: new AuditLog([]), listed: () => true, traded: () => true });
      const intake = new SignalIntake({ router, now: rig.now });
      await send('{"symbol":"BTCUSDT","side":"buy","id":"q1"}');
      await send('garbage');
      const r = await pollSignalInbox(inbox, intake, () => undefined, 30_000);
      expect(r).toEqual({ received: 2, acked: 2, left: 0 });
      expect(router.counts).toEqual({ dry_run: 1, 'refused:MALFORMED': 1 });
      expect(await inbox.receive(10, 0)).toEqual([]);
    });
  });
}
