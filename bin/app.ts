/**
 * The CDK app entry (`cdk.json` runs it with tsx). One stage per run: `npx cdk synth -c stage=prod`
 * (default `dev`); the stage's config is `context.stages.<stage>` in cdk.json, validated by
 * lib/config.ts. cdk-nag's AwsSolutions checks run on every synth.
 */
import { buildApp } from '../lib/app.js';

buildApp().app.synth();
