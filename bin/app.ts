/**
 * The CDK app entry (`cdk.json` runs it with tsx). One stage per run: `npx cdk synth -c stage=prod`
 * (default `dev`); the stage's config is `context.stages.<stage>` in cdk.json, validated by
 * lib/config.ts. cdk-nag's AwsSolutions checks and AWS Control Tower's proactive controls (cfn-guard)
 * run on every synth (lib/nag.ts); an unacknowledged finding of either fails it.
 */
import { buildApp } from '../lib/app.js';

buildApp().app.synth();
