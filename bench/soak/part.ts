/** One soak part in its own process (bench/soak.ts starts it): `tsx bench/soak/part.ts <part> <seed> <quick 0|1> <bundle>`. */
import { soakFaults } from './faults.js';
import { soakFuzz } from './fuzz.js';
import { soakRace } from './race.js';
import { soakSecrets } from './secrets.js';
import { soakSigkill } from './sigkill.js';
import type { SoakOptions } from './common.js';

export const PARTS = { sigkill: soakSigkill, faults: soakFaults, fuzz: soakFuzz, secrets: soakSecrets, race: soakRace } as const;

const [name, seed, quick, bundle] = process.argv.slice(2);
const run = PARTS[name as keyof typeof PARTS];
if (!run || !seed || !bundle) {
  console.error(`usage: part.ts <${Object.keys(PARTS).join('|')}> <seed> <0|1> <bundle>`);
  process.exit(2);
}
const opts: SoakOptions = { quick: quick === '1', seed: Number(seed), outDir: quick === '1' ? 'out/soak' : 'bench/results', bundle };
const path = await run(opts);
console.log(`RESULT ${path}`);
// Child processes, sockets and timers of a part are its own business: the part is over.
process.exit(0);
