/**
 * The report of a period so far, on request (Telegram's `/report day|week|month`): the scheduled
 * report's figures over the current UTC day, ISO week or month up to now, from the state table, in
 * the caption's short form (the same lines the scheduled report's photo carries).
 */
import type { Config } from '../config/schema.js';
import type { StateStore } from '../state/types.js';
import { loadReportData } from './dataset.js';
import { computeFigures } from './figures.js';
import { periodContaining, type ReportPeriod } from './period.js';
import { telegramCaption } from './text.js';

/** The current period's figures to `now` as Telegram HTML (at most the caption's 1,024 characters). */
export async function periodSoFarCaption(store: StateStore, config: Config, period: ReportPeriod, now: number): Promise<string> {
  const window = periodContaining(period, now);
  const data = await loadReportData(store, window);
  return telegramCaption(computeFigures(data, config, now), ['So far: to now, not the complete period; the scheduled report covers the whole one.']);
}
