// The bundle's event catalogue, assembled from the systems (functions/<system>/events.ts via system.ts):
// every CloudEvent type with its topic, record key and JSON Schema, and the topics written outside the
// bundle. Manifest checks and README's event table read it.
import { systems } from '../systems';
import type { EventContract } from '../system';

export const eventTypes: Record<string, EventContract> = Object.assign({}, ...systems().map((s) => s.events));

export const externalTopics: Record<string, string> = Object.assign({}, ...systems().map((s) => s.externalTopics ?? {}));
