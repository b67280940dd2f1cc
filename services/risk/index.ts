/** The risk engine: entry approval, sizing, loss limits and halts. */
export { RiskEngine } from './engine.js';
export { sizeEntry, sizingParams, percentOf, openNotional, type SizingParams } from './sizing.js';
export { MinMaxWindow } from './priceWindow.js';
export { parseRiskState } from './state.js';
export { utcDayStart, isoWeekStart, DAY_MS, WEEK_MS, MINUTE_MS } from './calendar.js';
export {
  RISK_REASONS,
  RISK_REASON_CODES,
  type RiskReason,
  type HaltReason,
  type AdjustmentReason,
  type RejectionReason,
  type EntryProposal,
  type OpenPositionView,
  type RiskAccount,
  type RiskDecision,
  type TradeExitReason,
  type TradeClosedEvent,
  type RiskEngineConfig,
  type HaltState,
  type DayState,
  type WeekState,
  type PriceWindowState,
  type RiskState,
  type RiskStatus,
} from './types.js';
