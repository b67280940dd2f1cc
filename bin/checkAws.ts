/**
 * `npm run check:aws`: synthesises the stage (as `npm run synth` does, offline, the image only
 * staged, Lambda bundling skipped) and prints what AWS Control Tower's proactive controls say of it:
 * how many rules ran, every accepted finding with the reason written next to its resource, and any
 * unaccepted one (then it exits 1). `-c`-style stage selection: `npm run check:aws -- prod`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CfnResource, Validations } from 'aws-cdk-lib';
import { buildApp } from '../lib/app.js';
import { ControlTowerChecks, GUARD_PLUGIN } from '../lib/nag.js';
import { repoPath } from '../lib/paths.js';
import { parseFlags, type UsageError } from '../cli/args.js';

const USAGE = `usage: npm run check:aws [-- <stage>]

  <stage>   the stage to synthesise and check (a key of cdk.json's context stages; default dev)
  Prints AWS Control Tower's proactive-control findings of the synthesised template, accepted ones
  with their reasons; exits 1 on any unaccepted finding.`;

let parsed: { values: { help?: boolean }; positionals: string[] };
try {
  parsed = parseFlags(process.argv.slice(2), { help: { type: 'boolean', short: 'h' } }, true);
} catch (e) {
  console.error(`error: ${(e as UsageError).message}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (parsed.positionals.length > 1) {
  console.error(`error: one stage at most, got ${parsed.positionals.join(' ')}\n\n${USAGE}`);
  process.exit(2);
}
const stage = parsed.positionals[0] ?? 'dev';
const context = (JSON.parse(readFileSync(repoPath('cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const outdir = mkdtempSync(path.join(tmpdir(), 'check-aws-'));
try {
  const { app, stack } = buildApp({ outdir, context: { ...context, stage, 'aws:cdk:bundling-stacks': [] } }, { guard: false, nag: false });
  const checks = new ControlTowerChecks();
  Validations.of(app).addPlugins(checks);
  let failed = false;
  try {
    app.synth();
  } catch (e) {
    failed = true;
    console.error(String(e));
  }
  const template = path.join(outdir, stack.templateFile);
  const raw = checks.validate({ templatePaths: [template], appConstruct: app });
  // Where each acknowledgement was written, with its reason (CDK keeps them as construct metadata).
  const acks: { scope: string; rule: string; reason: string }[] = [];
  const pathOf = new Map<string, string>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c)) pathOf.set(stack.getLogicalId(c), c.node.path);
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        if (id.startsWith(`${GUARD_PLUGIN}::`)) acks.push({ scope: c.node.path, rule: id.slice(GUARD_PLUGIN.length + 2), reason });
      }
    }
  }
  let unaccepted = 0;
  const accepted = new Map<string, { reason: string; resources: string[] }>();
  for (const v of raw.violations) {
    for (const r of v.violatingResources) {
      const at = pathOf.get(r.resourceLogicalId) ?? r.resourceLogicalId;
      const ack = acks.find((a) => a.rule === v.ruleName && at.startsWith(`${a.scope}/`));
      if (ack === undefined) {
        unaccepted += 1;
        console.log(`NOT ACCEPTED ${v.ruleName} ${v.description}: ${at}`);
        continue;
      }
      const entry = accepted.get(v.ruleName) ?? { reason: ack.reason, resources: [] };
      entry.resources.push(at);
      accepted.set(v.ruleName, entry);
    }
  }
  console.log(`AWS Control Tower proactive controls on ${stack.stackName}: ${checks.ruleIds?.length ?? 0} rules, ${raw.violations.length} rules with findings, ${accepted.size} accepted, ${unaccepted} unaccepted finding(s).`);
  for (const [rule, a] of accepted) console.log(`accepted ${rule} (${a.resources.length}): ${a.reason}`);
  process.exitCode = failed || unaccepted > 0 ? 1 : 0;
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
