/**
 * The secrets, created with generated placeholders (CloudFormation never sees the real values); the
 * operator puts the real ones with `aws secretsmanager put-secret-value`:
 *
 * - MEXC credentials: one secret, JSON `{"apiKey": "...", "apiSecret": "..."}` (the format of
 *   `parseMexcSecret` in services/ops/secrets.ts, which the Lambdas read through MEXC_SECRET_ID).
 *   MEXC issues the key and its secret as a pair, so they are stored, replaced and read together.
 *   The Fargate task receives the two fields as MEXC_API_KEY and MEXC_API_SECRET (ECS secrets).
 * - Telegram bot token: the bare token (or `{"token": "..."}`), read by the alert dispatcher.
 *
 * Retained: deleting the stack must not delete keys the operator put.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/** JSON fields of the MEXC credentials secret. */
export const MEXC_API_KEY_FIELD = 'apiKey';
export const MEXC_API_SECRET_FIELD = 'apiSecret';

export class TradingSecrets extends Construct {
  /** JSON `{"apiKey", "apiSecret"}`. */
  readonly mexcCredentials: secretsmanager.Secret;
  readonly telegramBotToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    this.mexcCredentials = new secretsmanager.Secret(this, 'MexcCredentials', {
      description: `MEXC API key and secret (mexc-scalper ${props.stage}) as JSON {"apiKey": "...", "apiSecret": "..."}. Created with a placeholder; put the real value with put-secret-value.`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ [MEXC_API_KEY_FIELD]: 'REPLACE_ME' }),
        generateStringKey: MEXC_API_SECRET_FIELD,
        passwordLength: 32,
        excludePunctuation: true,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.telegramBotToken = new secretsmanager.Secret(this, 'TelegramBotToken', {
      description: `Telegram bot token (mexc-scalper ${props.stage}). Created with a placeholder; put the real value with put-secret-value.`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const s of [this.mexcCredentials, this.telegramBotToken]) {
      acknowledge(s, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'No automatic rotation: MEXC API keys and the Telegram bot token are issued by those services (MEXC web console, BotFather) and have no API a rotation Lambda could call. The operator rotates them by hand and puts the new value.',
        },
      ]);
    }
  }
}
