/**
 * The state module's public vocabulary in one import, for the many callers that need a bit of
 * each. The real homes: `records.ts` (record types and their zod schemas), `keys.ts` (the
 * single-table key design), `errors.ts` (the store's errors), `port.ts` (`StateStore` and the
 * low-level `ItemTable`). See README.md.
 */
export * from './records.js';
export * from './reportRecords.js';
export * from './keys.js';
export * from './errors.js';
export * from './port.js';
