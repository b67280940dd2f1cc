/** Report renderers (pure: they return strings; the CLI writes the files) and the progress reporter. */
export { tradesToCsv, csvField, TRADE_CSV_COLUMNS } from './csv.js';
export { equityChartSvg, type EquityChartOptions } from './chart.js';
export { reportHtml, type ReportMeta, type CostAssumptions, type DataQuality, type DataQualityValue } from './html.js';
export { createProgress, formatEta, type Progress, type ProgressOptions } from './progress.js';
export { downsampleMinMax, type XY } from './downsample.js';
export { niceStep, valueAxis, timeTicks, type ValueAxis, type TimeTick } from './scales.js';
export { escapeXml, groupThousands, fmtNum, fmtTime, fmtDate } from './format.js';
