/** Types the test helpers re-export, so tests import them from one place. */
export type { Fill, OrderUpdate, OrderRequest } from '../../services/model/orders.js';
export type { Intent, EnterIntent, ExitReason } from '../../services/model/intents.js';
