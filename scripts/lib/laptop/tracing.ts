// npm start imports this before anything else: tracing starts (on by default on a laptop, every trace
// sampled, spans kept in memory for the gateway's /traces page; OTEL_SDK_DISABLED=true turns it off) before
// http, pg and kafkajs are first required, so their instrumentations are in place when they load.
import { startTelemetry } from '../../../functions/shared/telemetry';
import { isGatewayPage, traceRing } from '../runtime/traces';

export const laptopTracing = startTelemetry({ laptopExporter: traceRing, ignoreIncoming: (req) => isGatewayPage(req) });
