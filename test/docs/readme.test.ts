/** The README documents what the code does: reason codes, scripts and profile numbers must match. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RISK_REASONS } from '../../services/risk/index.js';
import { RISK_PROFILES } from '../../services/config/schema.js';
import { FAULT_PROFILES } from '../../services/sim/faults.js';
import { SIGNAL_REASONS } from '../../services/signals/types.js';
import { SIGNAL_PROFILES } from '../../services/signals/policy.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('lists every risk reason code with its description', () => {
    for (const [code, text] of Object.entries(RISK_REASONS)) expect(readme).toContain(`| \`${code}\` | ${text} |`);
  });

  it('lists every signal refusal code with its description, and the signal profiles as configured', () => {
    for (const [code, text] of Object.entries(SIGNAL_REASONS)) expect(readme).toContain(`| \`${code}\` | ${text} |`);
    for (const [name, p] of Object.entries(SIGNAL_PROFILES)) {
      expect(readme).toContain(`| \`${name}\` | entry - ${p.atrMultiple} x ATR | entry + ${p.rewardRisk} x risk | ${p.maxNotional} USDT |`);
    }
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(0);
    for (const s of named) expect(Object.keys(pkg.scripts)).toContain(s);
  });

  it('states the risk profiles as configured', () => {
    // e.g. "| moderate | 1.5% | 5 | 3% | 7% |"
    for (const [name, p] of Object.entries(RISK_PROFILES)) {
      const row = readme.split('\n').find((l) => l.startsWith(`| ${name}`));
      expect(row, name).toBeDefined();
      const cells = (row as string).split('|').map((c) => c.trim());
      expect(cells.slice(2, 6)).toEqual([`${p.riskPerTradePct}%`, `${p.maxPositions}`, `${p.dailyLossLimitPct}%`, `${p.weeklyLossLimitPct}%`]);
    }
  });

  it('describes every fault profile the simulator accepts, and no other', () => {
    const section = readme.slice(readme.indexOf('### Fault profiles'), readme.indexOf('## Paper trading'));
    const named = [...section.matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]);
    expect(named.sort()).toEqual(Object.keys(FAULT_PROFILES).sort());
  });

  it('gives the test command CI runs', () => {
    expect(readme).toContain('npm test');
    expect(readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8')).toMatch(/^npm test$/m);
  });
});
