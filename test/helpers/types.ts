/** Types the test helpers re-export, so tests import them from one place. */
export type { Fill, OrderUpdate, OrderRequest } from '../../services/execution/types.js';
export type { Intent, EnterIntent, ExitReason } from '../../services/strategy/intents.js';
