/**
 * Shared setup of the infrastructure tests: the app built from cdk.json's context exactly as
 * `npm run synth` builds it, with a fixed account and region (no credentials), an image from a
 * registry instead of the Docker build, and Lambda bundling skipped (`aws:cdk:bundling-stacks` = []),
 * which bundling.test.ts covers on its own.
 */
import { readFileSync } from 'node:fs';
import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp, type BuildAppOptions, type BuiltApp } from '../../lib/app.js';
import { repoPath } from '../../lib/paths.js';

export const TEST_ENV = { account: '123456789012', region: 'us-east-1' } as const;
export const TEST_IMAGE_URI = 'public.ecr.aws/docker/library/node:22-bookworm-slim';

/** The `context` object of cdk.json. */
export function cdkJsonContext(): Record<string, unknown> {
  const json = JSON.parse(readFileSync(repoPath('cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return json.context;
}

export interface TestApp extends BuiltApp {
  readonly template: Template;
}

/**
 * Builds and synthesises the app of a stage (cdk-nag included unless `options.nag` is false; the
 * Control Tower pack only when `options.guard` is true: guard.test.ts and cli.test.ts cover it, and
 * it costs a cfn-guard process per synth).
 */
export function synthTestApp(extraContext: Record<string, unknown> = {}, options: BuildAppOptions = {}): TestApp {
  const built = buildApp(
    { context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...extraContext } },
    { env: TEST_ENV, image: ecs.ContainerImage.fromRegistry(TEST_IMAGE_URI), guard: false, ...options },
  );
  return { ...built, template: Template.fromStack(built.stack) };
}

type Json = Record<string, unknown>;

/** Resources of a type as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): [string, Json][] {
  return Object.entries(template.findResources(type) as Record<string, Json>);
}

/** The single resource of a type whose properties satisfy `pick`; fails unless exactly one does. */
export function onlyResource(template: Template, type: string, pick: (props: Json, id: string) => boolean = () => true): [string, Json] {
  const hits = resourcesOf(template, type).filter(([id, r]) => pick((r.Properties ?? {}) as Json, id));
  if (hits.length !== 1) throw new Error(`expected exactly one ${type} matching, found ${hits.length}`);
  return hits[0]!;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

/** Every Allow statement of the IAM policies attached to a role (by its logical id). */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
    const props = policy.Properties as { Roles?: unknown[]; PolicyDocument: { Statement: Statement[] } };
    if (!(props.Roles ?? []).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) continue;
    out.push(...props.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow'));
  }
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId] as { Properties: { Policies?: { PolicyDocument: { Statement: Statement[] } }[] } } | undefined;
  for (const p of role?.Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow'));
  return out;
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

export function resourcesOfStatement(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

/** Whether a JSON value mentions a logical id anywhere (Ref, GetAtt, or inside a Join). */
export function mentions(value: unknown, logicalId: string): boolean {
  return JSON.stringify(value).includes(`"${logicalId}"`);
}

/** The logical id of a construct's CloudFormation resource (or of a CfnResource itself). */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (cfn === undefined || !CfnResource.isCfnResource(cfn)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(cfn).getLogicalId(cfn);
}
