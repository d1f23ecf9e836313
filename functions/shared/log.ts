// Structured logs (pino) with PHI redaction: patient identifiers that are not opaque ids, contact details
// and tokens never reach a log line, however deep in an object they sit.
import pino from 'pino';
import { logTraceFields } from './telemetry';

const PHI_KEYS = [
  'authorization', 'token', 'password', 'secret',
  'fullName', 'patientName', 'firstName', 'lastName', 'name_of_patient',
  'phone', 'phoneNumber', 'email', 'dateOfBirth', 'dob', 'nationalId', 'insuranceNumber', 'address',
  'diagnosis', 'resultValue', 'notes',
];

// pino's redact takes explicit paths; cover top level and a few levels deep, where request bodies
// and event data put them.
const paths = PHI_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.K_SERVICE ?? process.env.FUNCTION_NAME ?? 'local' },
  redact: { paths, censor: '[redacted]' },
  // A line written inside a traced span names it (trace_id, span_id), so logs and traces join up.
  mixin: logTraceFields,
});

export type Logger = pino.Logger;

export function functionLogger(name: string): Logger {
  return logger.child({ fn: name });
}
