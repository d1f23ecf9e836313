// node --require build/functions/shared/telemetry-preload.js: starts tracing (when OTEL_* ask for it) before
// the faas-js-runtime CLI requires fastify and the function requires pg and kafkajs. The instrumentations
// patch those modules as they are first required, so they must be in place first; a preload is how
// OpenTelemetry asks Node programs to do it, and it leaves the runtime's CLI and the function untouched.
// With tracing off this loads only @opentelemetry/api.
import { startTelemetry } from './telemetry';

startTelemetry();
