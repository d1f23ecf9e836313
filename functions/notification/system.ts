// The notification system (seed pat--notification--be): every patient told once, on the right channel, with
// no health data in the message. Contacts and preferences (a synced copy), notifications, their deliveries
// per channel and the in-app inbox live in the PostgreSQL schema notification.
import { defineSystem, type Emit } from '../shared/system';
import { events, topics } from './events';

export const system = defineSystem({
  name: 'notification',
  seed: 'pat--notification--be',
  schema: 'notification',
  events,
  externalTopics: {
    [topics.customers]: 'the CRM (customers: contacts, language, time zone, tier; erasure requests)',
  },
});

export type NotificationEmit = Emit<typeof events>;
