// A patient's channel preferences as the routes read and write them: per category ('*' for every category
// without its own), the channels in the order to try them (the in-app inbox is always among them), and quiet
// hours on the patient's own clock. The categories are those of the templates a patient can receive.
import { templates } from './templates';
import { invalid } from '../shared/domain-errors';
import type { Preference } from '../shared/generated/prisma/client';

/** Operator alerts (dead letters) go to on-call teams, never to a patient: not a patient's category. */
const TEAM_ONLY = new Set(['operations']);

export const ALL_CATEGORIES = '*';
export const patientCategories: string[] = [...new Set(Object.values(templates).map((t) => t.category))].filter((c) => !TEAM_ONLY.has(c)).sort();
export const categoryNames: string[] = [ALL_CATEGORIES, ...patientCategories];

export function preferenceView(p: Preference) {
  return {
    category: p.category,
    channels: p.channels,
    quietHours: p.quietStart && p.quietEnd ? { start: p.quietStart, end: p.quietEnd } : null,
    updatedAt: p.updatedAt.toISOString(),
  };
}

/**
 * The in-app inbox cannot be switched off. Quiet hours may cross midnight (22:00–07:00); equal start and end
 * mean none (the patient wants to hear at any hour); none given means the clinic's (the policy's, 21:00–07:00).
 */
export function checkPreference(channels: readonly string[], _quietHours: { start: string; end: string } | null | undefined): void {
  if (!channels.includes('in-app')) throw invalid('must include in-app: the inbox is always on', 'channels');
}
