/**
 * One Lambda of the system, the way all of them are built: a NodejsFunction bundled locally with
 * esbuild (no Docker), ARM64, Node.js 22, its own log group with the stage's retention, and its own
 * role that may write only that log group until the job's construct grants it more.
 *
 * Bundles are CommonJS: `__dirname` is then the bundle's directory, which is where
 * @tensorflow/tfjs-backend-wasm looks for its .wasm files (the retrain job copies them there), and
 * esbuild converts the ESM-only packages (middy 6) into it. The cost: a handler cannot use top-level
 * await or `import.meta.url` (esbuild reports the first as an error when bundling).
 */
import { Size, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge, guardRule } from './nag.js';
import { LAMBDA_BUNDLING } from './lambdaBundling.js';
import { REPO_ROOT, repoPath } from './paths.js';

export interface ScalperFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts` (which exports `handler`). */
  readonly job: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
  /** The KMS key of the log group (lib/dataKey.ts). */
  readonly logKey: kms.IKey;
  readonly environment: Readonly<Record<string, string>>;
  /** 1 for the jobs that may trade: never two copies acting on the exchange at once. */
  readonly reservedConcurrentExecutions?: number;
  readonly ephemeralStorageMiB?: number;
  /** Shell commands run after esbuild, given the input (repo root) and output (bundle) directories. */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
  /** Default ARM64. The report Lambda runs on x86_64: its PNG renderer's native binary is copied from the build machine's node_modules (lib/reporting.ts). */
  readonly architecture?: 'arm64' | 'x86_64';
  /** Modules left out of the bundle besides the AWS SDK (native binaries copied beside it). */
  readonly extraExternalModules?: readonly string[];
}

export class ScalperFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ScalperFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays as logs.RetentionDays, encryptionKey: props.logKey });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `mexc-scalper ${props.job} Lambda`,
    });
    // Only this function's own log group (instead of AWSLambdaBasicExecutionRole's logs on "*").
    this.logGroup.grantWrite(this.role);

    const afterBundling = props.afterBundling;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: repoPath('lambdas', props.job, 'handler.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: repoPath('package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(props.reservedConcurrentExecutions === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.ephemeralStorageMiB === undefined ? {} : { ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMiB) }),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      bundling: {
        forceDockerBundling: false,
        // One set of options for the CDK and for the bundle test (lib/lambdaBundling.ts).
        format: LAMBDA_BUNDLING.format === 'cjs' ? nodejs.OutputFormat.CJS : nodejs.OutputFormat.ESM,
        target: LAMBDA_BUNDLING.target,
        minify: LAMBDA_BUNDLING.minify,
        // Keep `cdk synth --quiet` quiet: esbuild still prints warnings and errors.
        logLevel: nodejs.LogLevel.WARNING,
        sourceMap: LAMBDA_BUNDLING.sourceMap,
        externalModules: [...LAMBDA_BUNDLING.externalModules, ...(props.extraExternalModules ?? [])],
        ...(afterBundling === undefined
          ? {}
          : {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling,
              },
            }),
      },
    });
    acknowledge(this.function, [
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 on purpose: the project targets Node 20+ and is tested on 22; moving to a newer runtime is a deliberate upgrade with its own test run, not something a linter should force.',
      },
      guardRule(
        'lambda_inside_vpc_check',
        'Outside a VPC on purpose: the functions call MEXC, Telegram and AWS APIs over TLS and accept no inbound connection. Inside the VPC they would need a NAT gateway (about $33 a month, more than the rest of the deployment) or several interface endpoints (about $7 a month each) for the same outbound calls.',
      ),
    ]);
  }
}
