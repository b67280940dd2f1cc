/**
 * The custom metrics the alarms in `observability.ts` watch. The names live with the code that
 * emits them (services/observability/metricNames.ts, which the hot path's image contains; lib/
 * does not go into it), and are re-exported here for the constructs.
 */
export { METRIC_NAMESPACE, STAGE_DIMENSION, METRICS, RESOURCE_THRESHOLDS, type MetricName } from '../services/observability/metricNames.js';
