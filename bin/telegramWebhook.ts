/** Entry point of `npm run telegram:webhook`; see cli/telegramWebhook.ts. */
import { runMain } from '../cli/main.js';
import { TELEGRAM_WEBHOOK_USAGE, telegramWebhookCommand } from '../cli/telegramWebhook.js';

await runMain(() => telegramWebhookCommand(process.argv.slice(2), { log: (s) => console.log(s), env: process.env }), TELEGRAM_WEBHOOK_USAGE);
