// The dead-letter system (seed pat--dlq--be): every KafkaSource's dead-letter sink. Its tables live in the
// PostgreSQL schema dead_letter. It emits no events yet.
import { defineSystem } from '../shared/system';

export const system = defineSystem({ name: 'dead-letter', seed: 'pat--dlq--be', schema: 'dead_letter', events: {} });
