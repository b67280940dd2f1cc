/**
 * Soak part 4: secrets. The live path runs against the simulator with canary credentials (API key,
 * secret, and a Telegram bot token in its environment): trading for a while under injected faults
 * (5xx, 429, rejects, timeouts, disconnects), killed and restarted once, stopped gracefully; a
 * second start with a wrong secret (refused by the exchange: authentication errors all the way);
 * and the alert dispatcher (the Lambda's handler, its logs at DEBUG) sending through the Telegram
 * channel to a hostile stand-in that quotes the token-bearing URL back in its errors. Then every
 * log line of every process, every error, every state item (a full scan of the table), every file
 * the runtime wrote (data folder: state backups, archive, kill switch) and this part's own output
 * are searched for each canary, literally and URL-encoded or base64-encoded.
 */
import type { OneShotFault } from '../../services/adapters/mexcSim/faultController.js';
import { Dec } from '../../services/core/money.js';
import { dirTexts, findSecrets, canary, hostileTelegram, tableText } from '../../test/helpers/secretScan.js';
import { launchRuntime, startLiveEnv, waitForLine, type RuntimeProcess } from '../../test/helpers/liveRig.js';
import { startBotApiStandIn, textUpdate } from '../../test/console/botApiStandIn.js';
import { SoakPart, sleep, type SoakOptions } from './common.js';

const FAULTS: readonly OneShotFault[] = [
  { on: 'createOrder', fault: '5xx-after-placing' },
  { on: 'createOrder', fault: 'reject' },
  { on: 'createOrder', fault: 'timeout', delayMs: 12_000 },
  { on: 'request', fault: '429', retryAfterSec: 1 },
  { on: 'request', fault: '5xx-without-placing' },
  { on: 'request', fault: 'drop' },
  { on: 'cancelOrder', fault: '5xx-after-placing' },
  { on: 'frame', channel: 'private', fault: 'disconnect' },
];

export async function soakSecrets(opts: SoakOptions): Promise<string> {
  const part = new SoakPart('secrets', opts, opts.quick ? 3 * 60_000 : 8 * 60_000);
  const key = canary('apikey');
  const secret = canary('secret');
  const token = canary('bottoken');
  const wrong = canary('wrongsecret');
  const secrets = [key, secret, token, wrong];
  // This part's own output (what a test run would print) is searched too.
  const own: string[] = [];
  const tee = (stream: NodeJS.WriteStream): (() => void) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      own.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    });
    return () => void (stream.write = write);
  };
  const untee = [tee(process.stdout), tee(process.stderr)];
  const simLines: string[] = [];
  const env = await startLiveEnv({ key, secret, table: 'soak-secrets', speed: 300, deposit: Dec.from(10_000), simLog: (l) => simLines.push(l) });
  const botApi = await startBotApiStandIn(token);
  const hostile = await hostileTelegram();
  const runs: RuntimeProcess[] = [];
  const problems: string[] = [];
  const tradeMs = opts.quick ? 30_000 : 120_000;
  try {
    let stopFeeding = false;
    const feeding = (async () => {
      while (!stopFeeding) {
        if (env.server.faults.pending().length < 3) await fetch(`${env.server.restUrl}/sim/faults`, { method: 'POST', body: JSON.stringify({ once: part.pick(FAULTS) }) });
        await sleep(part.int(300, 1500));
      }
    })();
    // The bot needs someone on its allowlist or the runtime refuses to start (a config error). It
    // long-polls a local Bot API stand-in with the canary token (its notices and answers go through
    // the token-bearing URL); the wrong-secret run's bot talks to the hostile one, whose errors
    // quote that URL back.
    const childEnv = { TELEGRAM_BOT_TOKEN: token, TELEGRAM_SECRET: token, TELEGRAM_OPERATORS: '4242', TELEGRAM_API_URL: botApi.apiRoot };
    for (const [i, ms] of [tradeMs / 2, tradeMs / 2].entries()) {
      const run = launchRuntime(env, { owner: 'soak-secrets', bundle: opts.bundle, extraEnv: childEnv });
      runs.push(run);
      await waitForLine(run, / running live /, 180_000).catch((e: Error) => problems.push(`run ${i + 1}: ${e.message.split('\n')[0]}`));
      // The operator asks for the status and the positions over the bot while it trades.
      await sleep(ms / 2);
      botApi.push(textUpdate(4242, 4242, '/status'));
      botApi.push(textUpdate(4242, 4242, '/positions'));
      await sleep(ms / 2);
      run.child.kill(i === 0 ? 'SIGKILL' : 'SIGTERM');
      await run.exited;
    }
    stopFeeding = true;
    await feeding;
    // A start with the wrong secret: every signed call is refused by the exchange.
    const refused = launchRuntime(env, { owner: 'soak-secrets-wrong', bundle: opts.bundle, extraEnv: { ...childEnv, MEXC_API_SECRET: wrong, TELEGRAM_API_URL: hostile.url } });
    runs.push(refused);
    const bound = setTimeout(() => refused.child.kill('SIGKILL'), 90_000);
    await refused.exited;
    clearTimeout(bound);

    const dispatcher = await dispatchThroughHostileTelegram(token, opts.quick ? 12 : 60);
    const texts = new Map<string, string>();
    runs.forEach((r, i) => texts.set(`runtime run ${i + 1} output`, r.lines.join('\n')));
    texts.set('simulator log', simLines.join('\n'));
    texts.set('what the runtime sent the Bot API (methods and payloads)', JSON.stringify(botApi.calls));
    texts.set('state table (full scan)', await tableText(env.dynamo.client, env.options.table));
    for (const [p, t] of await dirTexts(env.dir)) texts.set(`file ${p}`, t);
    texts.set('alert dispatcher output (Powertools DEBUG logs)', dispatcher.output);
    texts.set('alert dispatcher results and errors', dispatcher.results);
    untee.forEach((u) => u());
    texts.set('this part’s own output', own.join(''));
    const hits = findSecrets(texts, secrets);
    const bytes = [...texts.values()].reduce((n, t) => n + t.length, 0);
    const path = part.write({
      what: 'canary API key, secret and bot token through the live path (faults, a kill, a wrong secret) and the alert dispatcher (hostile Telegram): searched in every log, error, state item and file',
      searched: { sources: texts.size, characters: bytes, logLines: runs.reduce((n, r) => n + r.lines.length, 0) + simLines.length, stateItems: (texts.get('state table (full scan)') ?? '').split('\n').filter(Boolean).length, files: [...texts.keys()].filter((k) => k.startsWith('file ')).length },
      ordersSent: env.server.orderLog().length,
      faultsInjected: env.server.faults.injected(),
      wrongSecretRun: { exitCode: refused.child.exitCode, authErrors: refused.lines.filter((l) => /Authentication|700002|signature/i.test(l)).length },
      runtimeBot: { botApiCalls: botApi.calls.length, sendMessage: botApi.callsOf('sendMessage').length, hostileRequests: hostile.requests },
      dispatcher: { alerts: dispatcher.alerts, telegramRequests: dispatcher.requests, failedRecords: dispatcher.failed },
      hits,
      problems,
      ok: hits.length === 0 && problems.length === 0,
    });
    part.log(`done: ${texts.size} sources, ${hits.length} canary hits; results ${path}`);
    return path;
  } finally {
    untee.forEach((u) => u());
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await env.close();
    await botApi.close();
    await hostile.close();
  }
}

/** The alert dispatcher's handler with Powertools at DEBUG, its console captured, through a hostile Telegram. */
async function dispatchThroughHostileTelegram(token: string, alerts: number): Promise<{ output: string; results: string; alerts: number; requests: number; failed: number }> {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'DEBUG';
  process.env['POWERTOOLS_DEV'] = 'true';
  const [{ createAlertDispatcherHandler }, { localContext }, { MemoryDeliveryLedger }, { TelegramChannel }] = await Promise.all([
    import('../../lambdas/alert-dispatcher/handler.js'),
    import('../../lambdas/shared/powertools.js'),
    import('../../services/ops/alertDispatch.js'),
    import('../../services/adapters/telegram/telegramChannel.js'),
  ]);
  const tg = await hostileTelegram();
  const captured: string[] = [];
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  for (const k of Object.keys(saved) as (keyof typeof saved)[]) console[k] = (...a: unknown[]) => void captured.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
  const results: string[] = [];
  let failed = 0;
  try {
    const channel = new TelegramChannel({ token: () => Promise.resolve(token), chatId: '-1001', fetch: (u, i) => fetch(u, i), baseUrl: tg.url, timeoutMs: 2000 });
    const handler = createAlertDispatcherHandler(() => Promise.resolve({ stage: 'soak', channels: [channel], ledger: new MemoryDeliveryLedger(60_000, Date.now) })) as unknown as (e: unknown, c: unknown) => Promise<{ batchItemFailures: unknown[] }>;
    for (let i = 0; i < alerts; i++) {
      const body = JSON.stringify({ type: 'alert', id: `soak-secret-${i}`, time: Date.now(), severity: 'critical', title: `soak alert ${i}`, detail: 'a test alert' });
      try {
        const r = await handler({ Records: [{ messageId: `m-${i}`, body }] }, localContext('alert-dispatcher', `r-${i}`));
        failed += r.batchItemFailures.length;
        results.push(JSON.stringify(r));
      } catch (e) {
        results.push(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e));
      }
    }
  } finally {
    Object.assign(console, saved);
    await tg.close();
  }
  return { output: captured.join('\n'), results: results.join('\n'), alerts, requests: tg.requests, failed };
}
