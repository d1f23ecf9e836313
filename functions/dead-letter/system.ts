// The dead-letter system (seed pat--dlq--be): every KafkaSource's dead-letter sink, the operators' API and
// console, automatic retries, redrives to the original topics, alerts and reports. Its tables live in the
// PostgreSQL schema dead_letter.
import { defineSystem, type Emit } from '../shared/system';
import { events } from './events';

export const system = defineSystem({ name: 'dead-letter', seed: 'pat--dlq--be', schema: 'dead_letter', events });

export type DeadLetterEmit = Emit<typeof events>;
