/**
 * The operator console's commands, independent of Telegram's transport: who may send what, the
 * confirmation flow, and the answers. The grammY adapter (services/adapters/telegram/consoleBot.ts)
 * turns updates into calls here and answers into API calls; the same service runs by long polling
 * under `npm start` and behind the webhook Lambda.
 *
 * Access: a sender must be on the allowlist (operators and viewers, by Telegram user id) and write
 * in the configured chat or in a private chat with the bot; anything else is ignored and counted,
 * never answered (an answer would confirm the bot exists). Viewers have the read commands,
 * operators everything.
 *
 * Stopping is easy, starting is deliberate: /pause, /emergency_stop and /forceexit answer with a
 * confirmation button (one tap, two minutes, only for the asker); /resume needs a one-time code
 * (`/resume 123456`, TOTP, each code once) and then the tap. A tap is refused when the kill switch
 * changed since the question (an emergency stop raced the resume), and /pause never relaxes an
 * EMERGENCY_STOP. Every change goes through the kill switch or the commands queue, never to the
 * exchange: the hot path, which holds the symbols' leases, carries it out.
 */
import type { CommandLogRecord } from '../state/types.js';
import { paginate, esc, type Block } from './format.js';
import {
  healthBlocks,
  performanceBlocks,
  periodBlocks,
  positionsBlocks,
  profitBlocks,
  recentTrades,
  riskBlocks,
  statusBlocks,
  tradesBlocks,
} from './consoleReports.js';
import { CONSOLE_BACKTEST } from './backtestJob.js';
import type { ConsoleControl, ConsoleView, Notify, OnceStore } from './ports.js';
import { signConfirmation, verifyConfirmation, type ConfirmAction } from './signing.js';
import { verifyTotp } from './totp.js';

export type Role = 'viewer' | 'operator';

export interface AccessConfig {
  readonly operators: readonly number[];
  readonly viewers: readonly number[];
  /** The group or private chat the bot answers in (besides each allowlisted user's private chat). */
  readonly chatId?: number;
}

export interface Sender {
  readonly id: number;
  readonly username?: string;
  readonly firstName?: string;
}

export interface Button {
  readonly text: string;
  /** Callback data (at most 64 bytes). */
  readonly data: string;
}

export interface OutMessage {
  /** Telegram HTML, at most 4,096 characters. */
  readonly html: string;
  readonly buttons?: readonly (readonly Button[])[];
}

export interface Answer {
  readonly messages: readonly OutMessage[];
  /** The short notice shown on a tapped button. */
  readonly toast?: string;
  /** Replace the tapped message's text (so a used button disappears). */
  readonly editTo?: string;
}

/** One command of the catalogue. */
interface CommandSpec {
  readonly role: Role;
  readonly args: string;
  readonly help: string;
}

/** Every command, in the order /help lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  status: { role: 'viewer', args: '', help: 'mode, kill switch, equity, today and session PnL, health' },
  positions: { role: 'viewer', args: '', help: 'open positions: quantity, entry, price, unrealised PnL, stop, targets' },
  trades: { role: 'viewer', args: '[n]', help: 'the last n closed trades (10; at most 100)' },
  profit: { role: 'viewer', args: '[days]', help: 'realised PnL, fees and win rate over the last days (30)' },
  daily: { role: 'viewer', args: '[n]', help: 'one row per UTC day (7; at most 60)' },
  weekly: { role: 'viewer', args: '[n]', help: 'one row per ISO week (4; at most 26)' },
  monthly: { role: 'viewer', args: '[n]', help: 'one row per month (3; at most 12)' },
  performance: { role: 'viewer', args: '', help: 'per symbol over 30 days' },
  risk: { role: 'viewer', args: '', help: 'exposure, each limit and how much is used, halts' },
  health: { role: 'viewer', args: '', help: 'last report, feed lag per stream, last reconcile, open problems' },
  report: { role: 'viewer', args: '<day|week|month>', help: "the current day's, week's or month's report so far" },
  pause: { role: 'operator', args: '', help: 'no new entries; open positions still managed (one tap)' },
  resume: { role: 'operator', args: '<code>', help: 'allow entries again (one-time code, then a tap)' },
  emergency_stop: { role: 'operator', args: '', help: 'cancel every order, close every position, halt (one tap)' },
  forceexit: { role: 'operator', args: '<SYMBOL>', help: "close the symbol's position at market (one tap)" },
  backtest: { role: 'operator', args: '[days]', help: 'backtest the traded symbols over the candle archive\'s last days (30; at most 90), net of fees and slippage (a job)' },
  optimize: { role: 'operator', args: '', help: 'walk-forward optimisation of the default space over the candle archive (a job)' },
  ml_retrain: { role: 'operator', args: '', help: 'retrain the signal model (a job)' },
  dashboard: { role: 'operator', args: '', help: 'a short-lived link to the web dashboard' },
  help: { role: 'viewer', args: '', help: 'this list' },
};

/** How long an update id, a tap or a one-time code is remembered (a day: Telegram retries for less). */
const ONCE_TTL_MS = 24 * 3_600_000;

export interface ConsoleServiceDeps {
  readonly access: AccessConfig;
  readonly view: ConsoleView;
  readonly control: ConsoleControl;
  readonly once: OnceStore;
  /** Signs and checks confirmation buttons (deriveKey(secret, 'confirm')). */
  readonly confirmKey: Uint8Array;
  /** The TOTP secret's bytes; without it /resume is refused. */
  readonly totpKey?: Uint8Array;
  /** Wall clock. */
  readonly now: () => number;
  /** Where the answers to jobs and commands go later (the chat). */
  readonly notify: Notify;
  /** The symbols the deployment trades, for /forceexit (besides those with a position). */
  readonly symbols?: readonly string[];
  /**
   * Told of every ignored update (a sender or chat not on the allowlist), so the count outlives
   * the process: an EMF metric on AWS, the ops log locally. Never answered; must not throw.
   */
  readonly onIgnored?: (e: IgnoredUpdate) => void;
}

/** An update that was ignored: who sent it, where, and what it was. */
export interface IgnoredUpdate {
  readonly userId: number;
  readonly chatId: number;
  readonly kind: 'message' | 'tap';
  readonly at: number;
}

/** Counters for tests, logs and metrics. */
export interface ConsoleCounters {
  commands: number;
  ignored: number;
  refused: number;
  confirmed: number;
  duplicates: number;
}

function nameOf(u: Sender): string {
  return u.username ? `@${u.username}` : (u.firstName ?? '');
}

export class ConsoleService {
  readonly counters: ConsoleCounters = { commands: 0, ignored: 0, refused: 0, confirmed: 0, duplicates: 0 };

  constructor(private readonly deps: ConsoleServiceDeps) {}

  /** The sender's role, or undefined when the sender or the chat is not allowed. */
  roleOf(user: Sender, chatId: number): Role | undefined {
    const a = this.deps.access;
    const role: Role | undefined = a.operators.includes(user.id) ? 'operator' : a.viewers.includes(user.id) ? 'viewer' : undefined;
    if (role === undefined) return undefined;
    const chatOk = chatId === user.id || (a.chatId !== undefined && chatId === a.chatId);
    return chatOk ? role : undefined;
  }

  /** A text message; undefined when it is ignored (not allowed, or not a command). */
  async onMessage(updateId: number, chatId: number, user: Sender, text: string): Promise<Answer | undefined> {
    const role = this.roleOf(user, chatId);
    if (role === undefined) return this.ignore(user, chatId, 'message');
    const m = /^\/([a-z_]+)(?:@\w+)?(?:\s+(.*))?$/is.exec(text.trim());
    if (!m) return undefined;
    const name = m[1]!.toLowerCase();
    const args = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const spec = COMMANDS[name === 'start' ? 'help' : name];
    this.counters.commands++;
    const logged = name === 'resume' && args.length ? '/resume ******' : `/${name}${args.length ? ` ${args.join(' ')}` : ''}`.slice(0, 256);
    let answer: Answer;
    if (!spec) answer = this.text(`Unknown command /${esc(name)}. /help lists the commands.`);
    else if (spec.role === 'operator' && role !== 'operator') {
      this.counters.refused++;
      answer = this.text(`/${esc(name)} needs the operator role; you are a viewer.`);
    } else {
      try {
        answer = await this.run(name === 'start' ? 'help' : name, args, user, role, updateId);
      } catch (e) {
        answer = this.text(`/${esc(name)} failed: ${esc(e instanceof Error ? e.message : String(e))}`);
      }
    }
    await this.log(updateId, user, role, logged, answer);
    return answer;
  }

  /** A tapped button; undefined when the tap is ignored. */
  async onTap(updateId: number, chatId: number, user: Sender, data: string): Promise<Answer | undefined> {
    const role = this.roleOf(user, chatId);
    if (role === undefined) return this.ignore(user, chatId, 'tap');
    if (data === 'cancel') return { messages: [], toast: 'Cancelled', editTo: 'Cancelled.' };
    const now = this.deps.now();
    const check = verifyConfirmation(this.deps.confirmKey, data, user.id, now);
    let answer: Answer;
    if (!check.ok) answer = { messages: [], toast: check.why === 'expired' ? 'This button has expired: send the command again' : check.why === 'not yours' ? 'Only the operator who asked can confirm' : 'Not a valid button' };
    else if (role !== 'operator') answer = { messages: [], toast: 'Confirming needs the operator role' };
    else if (!(await this.deps.once.claim(`confirm:${check.confirmation.nonce}`, ONCE_TTL_MS))) answer = { messages: [], toast: 'Already done' };
    else answer = await this.confirmed(check.confirmation.action, check.confirmation.arg, check.confirmation.state, user);
    await this.log(updateId, user, role, `tap ${check.ok ? check.confirmation.action : data.slice(0, 20)}`, answer);
    return answer;
  }

  private ignore(user: Sender, chatId: number, kind: IgnoredUpdate['kind']): undefined {
    this.counters.ignored++;
    try {
      this.deps.onIgnored?.({ userId: user.id, chatId, kind, at: this.deps.now() });
    } catch {
      // Counting must not turn an ignored update into an error (or an answer).
    }
    return undefined;
  }

  private text(html: string): Answer {
    return { messages: [{ html }] };
  }

  private pages(blocks: Block[]): Answer {
    return { messages: paginate(blocks).map((html) => ({ html })) };
  }

  private async log(updateId: number, user: Sender, role: Role, command: string, answer: Answer): Promise<void> {
    const first = answer.editTo ?? answer.messages[0]?.html ?? answer.toast ?? '';
    const entry: CommandLogRecord = {
      id: `telegram:${updateId}`,
      at: this.deps.now(),
      userId: String(user.id),
      user: nameOf(user).slice(0, 128),
      role,
      command,
      result: first.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').slice(0, 1024),
    };
    try {
      await this.deps.control.logCommand(entry);
    } catch {
      // The log is for the operator's record; a failed write must not lose the command's answer.
    }
  }

  private n(args: readonly string[], def: number, max: number): number {
    const raw = args[0];
    if (raw === undefined) return def;
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new Error(`expected a whole number from 1 to ${max}, got "${raw}"`);
    return Math.min(v, max);
  }

  private async quote(): Promise<string> {
    return (await this.deps.view.status())?.doc.quoteAsset ?? 'USDT';
  }

  private async run(name: string, args: readonly string[], user: Sender, role: Role, updateId: number): Promise<Answer> {
    const { view } = this.deps;
    const now = this.deps.now();
    switch (name) {
      case 'help': {
        const lines = Object.entries(COMMANDS)
          .filter(([, s]) => role === 'operator' || s.role === 'viewer')
          .map(([n, s]) => `/${n}${s.args ? ` ${esc(s.args)}` : ''}: ${esc(s.help)}`);
        return this.pages([{ html: `<b>Commands</b> (you are ${role === 'operator' ? 'an operator' : 'a viewer'})` }, ...lines.map((html) => ({ html }))]);
      }
      case 'status':
        return this.pages(statusBlocks(await view.status(), now));
      case 'positions':
        return this.pages(positionsBlocks(await view.status(), now));
      case 'trades':
        return this.pages(tradesBlocks(await recentTrades(view, now, this.n(args, 10, 100)), await this.quote()));
      case 'profit':
        return this.pages(await profitBlocks(view, now, this.n(args, 30, 366), await this.quote()));
      case 'daily':
        return this.pages(await periodBlocks(view, now, 'day', this.n(args, 7, 60), await this.quote()));
      case 'weekly':
        return this.pages(await periodBlocks(view, now, 'week', this.n(args, 4, 26), await this.quote()));
      case 'monthly':
        return this.pages(await periodBlocks(view, now, 'month', this.n(args, 3, 12), await this.quote()));
      case 'performance':
        return this.pages(await performanceBlocks(view, now, await this.quote()));
      case 'risk':
        return this.pages(riskBlocks(await view.status()));
      case 'health':
        return this.pages(healthBlocks(await view.status(), now));
      case 'report':
        return this.report(args, now);
      case 'pause':
      case 'emergency_stop':
        return this.ask(name, '', user, now);
      case 'forceexit':
        return this.askForceExit(args, user, now);
      case 'resume':
        return this.askResume(args, user, now);
      case 'backtest':
        return this.backtest(args, user, updateId, now);
      case 'optimize':
        return this.optimize(updateId, now);
      case 'ml_retrain':
        return this.retrain(updateId, user, now);
      case 'dashboard': {
        const link = this.deps.control.dashboardLink?.(user.id);
        return this.text(link ? `Dashboard (this link works for 15 minutes, for you only; do not forward it):\n${esc(link)}` : 'No dashboard URL is configured for this bot (locally the dashboard is http://127.0.0.1:8787/).');
      }
    }
    return this.text('Unknown command. /help lists the commands.');
  }

  private async report(args: readonly string[], now: number): Promise<Answer> {
    const period = (args[0] ?? '').toLowerCase();
    const days = period === 'day' || period === 'today' ? 1 : period === 'week' ? 7 : period === 'month' ? 31 : undefined;
    if (days === undefined) return this.text('Usage: /report day, /report week or /report month');
    const quote = await this.quote();
    const per = await periodBlocks(this.deps.view, now, 'day', days, quote);
    const report = this.deps.control.periodReport;
    if (report) {
      // The scheduled report's figures for the period so far, then the last days' rows.
      const period = days === 1 ? 'daily' : days === 7 ? 'weekly' : 'monthly';
      return this.pages([{ html: await report(period, now) }, ...(days > 1 ? per : [])]);
    }
    const blocks = await profitBlocks(this.deps.view, now, days, quote);
    return this.pages([{ html: `<b>Report: the last ${days} day(s)</b>` }, ...blocks, ...per]);
  }

  private async ask(action: ConfirmAction, arg: string, user: Sender, now: number, extra = ''): Promise<Answer> {
    const state = await this.deps.view.killSwitch();
    if (action === 'pause' && state === 'EMERGENCY_STOP') return this.text('The kill switch is at EMERGENCY_STOP: pausing would relax it. Nothing changed.');
    if (action === 'pause' && state === 'PAUSED') return this.text('Already PAUSED.');
    const data = signConfirmation(this.deps.confirmKey, { action, arg, state, userId: user.id }, now);
    const what: Record<ConfirmAction, string> = {
      pause: 'Pause trading? No new entries; open positions keep their stops and targets.',
      emergency_stop: '<b>EMERGENCY STOP?</b> Every order is cancelled and every position closed at market; trading halts until a restart.',
      forceexit: `Close the <b>${esc(arg)}</b> position at market now?`,
      resume: 'Resume trading? New entries will be allowed again.',
    };
    return {
      messages: [
        {
          html: `${what[action]}${extra}\nKill switch now: ${esc(state)}. The button works for 2 minutes, for you only.`,
          buttons: [[{ text: action === 'emergency_stop' ? 'EMERGENCY STOP' : `Confirm ${action === 'forceexit' ? `exit ${arg}` : action}`, data }, { text: 'Cancel', data: 'cancel' }]],
        },
      ],
    };
  }

  private async askForceExit(args: readonly string[], user: Sender, now: number): Promise<Answer> {
    const symbol = (args[0] ?? '').toUpperCase();
    if (!/^[A-Z0-9]{2,20}$/.test(symbol)) return this.text('Usage: /forceexit SYMBOL, e.g. /forceexit DOGEUSDT');
    const status = await this.deps.view.status();
    const known = new Set([...(this.deps.symbols ?? []), ...(status?.doc.positions.map((p) => p.symbol) ?? [])]);
    if (!known.has(symbol)) return this.text(`${esc(symbol)} is not traded here${known.size ? ` (traded: ${esc([...known].join(', '))})` : ''}.`);
    const pos = status?.doc.positions.find((p) => p.symbol === symbol);
    const extra = pos ? `\n${esc(pos.quantityDisplay ?? '')} ${esc(pos.base ?? '')}, uPnL ${esc(pos.unrealisedPnlDisplay ?? 'n/a')} ${esc(status?.doc.quoteAsset ?? '')}` : '\n(No open position in the last status; the hot path checks again.)';
    return this.ask('forceexit', symbol, user, now, extra);
  }

  private async askResume(args: readonly string[], user: Sender, now: number): Promise<Answer> {
    const key = this.deps.totpKey;
    if (!key) return this.text('/resume is disabled: no one-time-code secret is configured (TELEGRAM_TOTP_SECRET locally, the TOTP secret in Secrets Manager on AWS).');
    const code = args[0];
    if (!code) return this.text('Send /resume followed by the 6-digit code from your authenticator app, e.g. /resume 123456.');
    const step = verifyTotp(key, code, Math.floor(now / 1000));
    if (step === undefined) {
      this.counters.refused++;
      return this.text('That code is not valid now. Nothing changed.');
    }
    // RFC 6238 5.2: each code once (per user and step), also across Lambda invocations.
    if (!(await this.deps.once.claim(`totp:${user.id}:${step}`, ONCE_TTL_MS))) {
      this.counters.refused++;
      return this.text('That code was used already; wait for the next one. Nothing changed.');
    }
    const state = await this.deps.view.killSwitch();
    if (state === 'RUNNING') return this.text('Already RUNNING.');
    const extra = state === 'EMERGENCY_STOP' ? '\nAfter an emergency stop the hot path stays halted until it is restarted; resuming lets a restarted task trade.' : '';
    return this.ask('resume', '', user, now, extra);
  }

  /** A confirmed tap: re-checks the kill switch, then acts through it or the commands queue. */
  private async confirmed(action: ConfirmAction, arg: string, askedIn: string, user: Sender): Promise<Answer> {
    const { control } = this.deps;
    const now = this.deps.now();
    const who = `telegram ${user.id} ${nameOf(user)}`.trim();
    const state = await this.deps.view.killSwitch();
    const done = (text: string, toast: string): Answer => {
      this.counters.confirmed++;
      return { messages: [{ html: text }], toast, editTo: text };
    };
    if (state !== askedIn) {
      // Something changed the switch between the question and the tap: an emergency stop racing a
      // resume must win, and a stale pause must not overwrite a newer decision.
      if (!(action === 'emergency_stop' || (action === 'forceexit' && state !== 'EMERGENCY_STOP'))) {
        return { messages: [{ html: `Not done: the kill switch changed from ${esc(askedIn)} to <b>${esc(state)}</b> since you asked. Ask again if it still stands.` }], toast: 'The kill switch changed: not done' };
      }
    }
    switch (action) {
      case 'pause':
        if (state === 'EMERGENCY_STOP') return { messages: [], toast: 'EMERGENCY_STOP is in force: not relaxed' };
        await control.setKillSwitch('PAUSED', `${who}: /pause`);
        return done('Kill switch set to <b>PAUSED</b>: no new entries; the hot path reads it within 5 s.', 'Paused');
      case 'emergency_stop':
        await control.setKillSwitch('EMERGENCY_STOP', `${who}: /emergency_stop`);
        return done('Kill switch set to <b>EMERGENCY_STOP</b>: orders are cancelled and positions closed within seconds; the hot path halts until restarted. The result comes as an alert.', 'Emergency stop sent');
      case 'resume':
        await control.setKillSwitch('RUNNING', `${who}: /resume (one-time code checked)`);
        return done(`Kill switch set to <b>RUNNING</b>.${askedIn === 'EMERGENCY_STOP' ? ' The halted process stays halted until it is restarted.' : ''}`, 'Resumed');
      case 'forceexit': {
        if (state === 'EMERGENCY_STOP') return { messages: [{ html: 'The emergency stop is in force: every position is being closed already.' }], toast: 'Emergency stop in progress' };
        const id = `force_exit:${arg}:${Math.floor(now / 1000)}:${user.id}`;
        await control.sendCommand({ type: 'operator_command', id, time: now, command: 'force_exit', symbol: arg, requestedBy: who.slice(0, 200) });
        return done(`Force exit of <b>${esc(arg)}</b> queued (command ${esc(id)}); the hot path carries it out within seconds and answers here.`, 'Force exit queued');
      }
    }
  }

  private async backtest(args: readonly string[], user: Sender, updateId: number, now: number): Promise<Answer> {
    const run = this.deps.control.runBacktest;
    if (!run)
      return this.text(
        '<b>/backtest is not available here</b>: no backtest runner is wired beside this bot. Nothing was queued. Instead: /optimize runs the research state machine over the candle archive (its report includes the untuned backtest of the shipped config); or, on a machine, <code>aws s3 sync s3://&lt;ArtifactBucketName&gt;/candles/ candles/</code> then <code>npm run backtest -- --data candles/ --out out/backtest</code>.',
      );
    const days = this.n(args, CONSOLE_BACKTEST.days, CONSOLE_BACKTEST.maxDays);
    const jobId = `backtest-${now.toString(36)}-${updateId}`;
    return this.text(await run({ jobId, time: now, requestedBy: `telegram ${user.id} ${nameOf(user)}`.trim().slice(0, 200), days }, this.deps.notify));
  }

  private async optimize(updateId: number, now: number): Promise<Answer> {
    const start = this.deps.control.startOptimize;
    if (!start)
      return this.text(
        '<b>/optimize is not available here</b>: no optimisation runner is wired. Run <code>npm run optimize -- --data &lt;files&gt; --space spaces/sr.json --objective sharpe --out &lt;dir&gt;</code> (add <code>--on aws</code> for the research runner). Nothing was queued.',
      );
    const jobId = `optimize-${now.toString(36)}-${updateId}`;
    return this.text(await start(jobId, this.deps.notify));
  }

  private async retrain(updateId: number, user: Sender, now: number): Promise<Answer> {
    const request = this.deps.control.requestRetrain;
    if (!request) return this.text('<b>/ml_retrain is not available here</b>: no retrain job runs beside <code>npm start</code>. Run <code>npm run train -- --data &lt;candles&gt; --out &lt;dir&gt;</code>. Nothing was queued.');
    const jobId = `retrain-${now.toString(36)}-${updateId}`;
    await request({ type: 'retrain_request', id: `retrain_request:${jobId}`, time: now, reason: `asked by telegram ${user.id} ${nameOf(user)}`.trim().slice(0, 500), jobId });
    return this.text(`Retrain queued as job <code>${esc(jobId)}</code>. The retrain job answers here when it has run (it may wait for the next slot; a retrain only promotes a model that beats the current one out of sample).`);
  }
}
