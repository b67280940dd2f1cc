/**
 * `npm run soak [-- --quick] [--only sigkill,faults,fuzz,secrets,race] [--seed N]`: the reliability
 * figures at the scale a deployment lives through (issue 15), NOT part of `npm test`:
 * - sigkill: 100 SIGKILLs of the runtime trading live against the simulator, checks after every restart;
 * - faults: 1,000 injected exchange faults of every kind, with the same checks, counted per kind;
 * - fuzz: 10,000 fuzzed inputs each for the frame decoder, the simulator's REST, candle files,
 *   config files and every Lambda's event;
 * - secrets: canary key, secret and bot token through the live path and the alert dispatcher;
 * - race: the emergency stop racing the hot path 100 times.
 * Each part runs in its own process, bounded in time (it stops by itself and says how far it got),
 * and writes bench/results/soak-<part>.json; this writes bench/results/soak-summary.json. `--quick`
 * (or SOAK_QUICK=1) is a smoke run of a few minutes whose results go to out/soak/ instead. The seed
 * is printed; the same seed replays the same draws (kill moments, faults, inputs).
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFlags, type UsageError } from '../cli/args.js';
import { bundleRuntime } from '../test/helpers/liveRig.js';
import { machine } from './soak/common.js';

const ALL = ['fuzz', 'secrets', 'sigkill', 'faults', 'race'] as const;
/** Longest each part may take in a full run before it is stopped from outside (each also bounds itself, shorter). */
const HARD_BOUND_MIN: Record<(typeof ALL)[number], number> = { fuzz: 35, secrets: 12, sigkill: 50, faults: 35, race: 45 };

const USAGE = `usage: npm run soak [-- --quick] [--only ${ALL.join(',')}] [--seed N]

  --quick   a smoke run of a few minutes (also SOAK_QUICK=1); results go to out/soak/ instead of bench/results/
  --only    the parts to run, comma-separated (default all: ${ALL.join(', ')})
  --seed    the seed of the draws (kill moments, faults, inputs); printed by every run, also SOAK_SEED`;

let values: { quick?: boolean; only?: string; seed?: string; help?: boolean };
try {
  ({ values } = parseFlags(process.argv.slice(2), { quick: { type: 'boolean', default: false }, only: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }));
} catch (e) {
  console.error(`error: ${(e as UsageError).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
/** A bad value: one line and the usage, no stack. */
function refuse(message: string): never {
  console.error(`error: ${message}\n\n${USAGE}`);
  process.exit(2);
}
const quick = values.quick || process.env.SOAK_QUICK === '1';
const seed = Number(values.seed ?? process.env.SOAK_SEED ?? randomInt(2 ** 31 - 1));
if (!Number.isSafeInteger(seed)) refuse(`--seed must be an integer, got ${values.seed}`);
const parts = (values.only?.split(',').map((s) => s.trim()) ?? [...ALL]) as (typeof ALL)[number][];
for (const p of parts) if (!(ALL as readonly string[]).includes(p)) refuse(`--only: unknown part "${p}" (expected ${ALL.join(', ')})`);
const outDir = quick ? 'out/soak' : 'bench/results';

console.log(`soak: ${quick ? 'QUICK smoke run' : 'full run'}, seed ${seed} (npm run soak -- --seed ${seed}${quick ? ' --quick' : ''} replays it), parts ${parts.join(', ')}`);
mkdirSync('out/soak', { recursive: true });
const bundle = await bundleRuntime(join('out/soak', 'start.mjs'));

type PartSummary = { part: string; ok: boolean; exitCode: number | null; minutes: number; result?: string; timedOut: boolean; seed?: number; date?: string };
const summary: PartSummary[] = [];
for (const part of parts) {
  const t0 = Date.now();
  const bound = (quick ? 8 : HARD_BOUND_MIN[part]) * 60_000;
  console.log(`soak: ${part} (bound ${bound / 60_000} min)`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak/part.ts', part, String(seed), quick ? '1' : '0', bundle], { stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    process.stdout.write(d);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // The part and everything it started (runtimes it spawned are in its process group).
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, bound);
  const exitCode = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  const result = /RESULT (\S+)/.exec(out)?.[1];
  const ok = exitCode === 0 && result !== undefined && existsSync(result) && (JSON.parse(readFileSync(result, 'utf8')) as { ok?: boolean }).ok === true;
  summary.push({ part, ok, exitCode, minutes: Math.round((Date.now() - t0) / 600) / 100, ...(result ? { result } : {}), timedOut, seed, date: new Date(t0).toISOString() });
  console.log(`soak: ${part} ${ok ? 'OK' : 'NOT OK'} in ${((Date.now() - t0) / 60_000).toFixed(1)} min${timedOut ? ' (stopped at its bound)' : ''}`);
}
mkdirSync(outDir, { recursive: true });
// A run of some parts (--only) keeps the latest result of the others in the summary, each part with
// its own seed and date, so the summary always lists every part's most recent run.
const summaryPath = join(outDir, 'soak-summary.json');
const earlier: PartSummary[] = values.only !== undefined && existsSync(summaryPath) ? ((JSON.parse(readFileSync(summaryPath, 'utf8')) as { parts?: PartSummary[] }).parts ?? []) : [];
const all = [...earlier.filter((e) => !parts.includes(e.part as (typeof ALL)[number])), ...summary].sort((a, b) => ALL.indexOf(a.part as (typeof ALL)[number]) - ALL.indexOf(b.part as (typeof ALL)[number]));
writeFileSync(summaryPath, `${JSON.stringify({ seed, quick, date: new Date().toISOString(), machine: machine(), parts: all }, null, 2)}\n`);
console.log(`soak: ${summary.filter((s) => s.ok).length}/${summary.length} parts OK in this run; ${all.filter((s) => s.ok).length}/${all.length} in ${summaryPath}`);
process.exit(summary.every((s) => s.ok) ? 0 : 1);
