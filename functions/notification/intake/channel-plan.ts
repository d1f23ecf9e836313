// Which channels a notice goes over, in the order to try them: the patient's preference for the category
// (else their '*' preference, else the policy's default for the category, else its '*'), kept to the channels
// the patient can be reached on. in-app always comes first (the portal's inbox needs no contact); of the rest
// the sender sends the first and fails over to the next. Pure: what the patient has is passed in.
import type { ChannelName } from '../channels/channel';

export const EXTERNAL: readonly ChannelName[] = ['push', 'sms', 'email'];

export interface Reachable {
  email: boolean;
  phone: boolean;
  /** At least one push subscription the push service has not said is gone. */
  push: boolean;
}

export interface PreferenceRow { category: string; channels: string[]; quietStart?: string | null; quietEnd?: string | null }

export interface ChannelPlan {
  /** in-app first, then the external channels to try in order. */
  channels: ChannelName[];
  /** Why the patient cannot be reached outside the inbox (no contact, opted out), when that is so. Never the contact. */
  unreachable?: string;
  /** Where the wanted list came from: the category's preference, the patient's '*', or the policy. */
  source: 'category' | 'all' | 'policy';
}

/** The patient's preference row that applies to a category: its own, else the '*' row. */
export function preferenceFor<P extends PreferenceRow>(rows: P[], category: string): P | undefined {
  return rows.find((r) => r.category === category) ?? rows.find((r) => r.category === '*');
}

const missing: Record<Exclude<ChannelName, 'in-app'>, string> = { email: 'no email address', sms: 'no phone number', push: 'no live push subscription' };

export function planChannels(rows: PreferenceRow[], category: string, defaults: Record<string, readonly string[]>, reachable: Reachable): ChannelPlan {
  const row = preferenceFor(rows, category);
  const source: ChannelPlan['source'] = !row ? 'policy' : row.category === category ? 'category' : 'all';
  const wanted = (row?.channels ?? defaults[category] ?? defaults['*'] ?? []).filter((c): c is ChannelName => (EXTERNAL as readonly string[]).includes(c));
  const has = (c: ChannelName) => (c === 'email' ? reachable.email : c === 'sms' ? reachable.phone : c === 'push' ? reachable.push : false);
  const external = [...new Set(wanted)].filter(has);
  const plan: ChannelPlan = { channels: ['in-app', ...external], source };
  if (!external.length) {
    plan.unreachable = wanted.length
      ? `no usable channel for ${category}: ${[...new Set(wanted)].map((c) => `${c} (${missing[c as Exclude<ChannelName, 'in-app'>]})`).join(', ')}`
      : `the patient chose no channel outside the inbox for ${category}`;
  }
  return plan;
}
