/**
 * Builds the CDK app for one stage: reads `stages` and `stage` from the context, validates the
 * stage's config, creates its stack and registers cdk-nag and AWS Control Tower's proactive controls. `bin/app.ts` calls it; tests call it with
 * their own context.
 */
import { App, type AppProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { stageConfigFromContext, type StageConfig } from './config.js';
import { addGuardChecks, addNagChecks } from './nag.js';
import { ScalperStack } from './scalperStack.js';

export interface BuiltApp {
  readonly app: App;
  readonly stack: ScalperStack;
  readonly config: StageConfig;
}

/** Options for tests: a fixed image instead of the Docker asset, a fixed account and region. */
export interface BuildAppOptions {
  readonly image?: ecs.ContainerImage;
  readonly env?: { readonly account: string; readonly region: string };
  /** Register cdk-nag on the app (default true). */
  readonly nag?: boolean;
  /** Register AWS Control Tower's proactive controls (cfn-guard) on the app (default true). */
  readonly guard?: boolean;
}

/** The stack's name for a stage. */
export function stackName(stage: string): string {
  return `MexcScalper-${stage}`;
}

export function buildApp(appProps: AppProps = {}, options: BuildAppOptions = {}): BuiltApp {
  const app = new App(appProps);
  const config = stageConfigFromContext(app.node.tryGetContext('stages'), app.node.tryGetContext('stage'));
  // `-c image=<uri>` deploys a pre-built image instead of building fargate/Dockerfile.
  const imageUri: unknown = app.node.tryGetContext('image');
  const image = options.image ?? (typeof imageUri === 'string' && imageUri !== '' ? ecs.ContainerImage.fromRegistry(imageUri) : undefined);
  const env = options.env ?? {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: config.region ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1',
  };
  const stack = new ScalperStack(app, stackName(config.stage), {
    config,
    env,
    description: `mexc-scalper ${config.stage}: hot path on Fargate, jobs on Lambda, state in DynamoDB`,
    tags: { project: 'mexc-scalper', stage: config.stage },
    terminationProtection: config.stage === 'prod',
    ...(image === undefined ? {} : { image }),
  });
  if (options.nag ?? true) addNagChecks(app);
  if (options.guard ?? true) addGuardChecks(app);
  return { app, stack, config };
}
