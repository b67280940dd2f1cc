/** Runs a CLI command: known errors print one clear line (and the usage for bad flags), never a stack. */
import { UsageError } from './args.js';
import { ConfigError, DataValidationError, DomainError } from '../services/core/errors.js';

export async function runMain(fn: () => Promise<unknown>, usage: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof UsageError) {
      if (e.message) console.error(`error: ${e.message}\n\n${usage}`);
      process.exitCode = e.message ? 2 : 0;
      return;
    }
    if (e instanceof ConfigError || e instanceof DataValidationError) {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
      return;
    }
    // Any other known failure (an exchange refusing, a venue that stays unavailable) is one line too;
    // only a bug prints a stack.
    if (e instanceof DomainError) {
      console.error(`error: ${e.name}: ${e.message}`);
      process.exitCode = 1;
      return;
    }
    console.error(e);
    process.exitCode = 1;
  }
}
