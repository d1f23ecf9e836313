// The notification policy operators tune in knative/base/notification/policy.yaml (a ConfigMap): default
// channels per category, quiet hours, the operators' teams and their addresses, portal links. In a cluster the
// ConfigMap is mounted and NOTIFICATION_POLICY_FILE names the file (default /etc/notification/policy.yaml in
// production); on a laptop the manifest itself is read, so what an operator writes is what runs. A policy that
// does not hold together stops the function at start-up, naming the field.
import path from 'node:path';
import { policyFile } from '../../shared/policy-file';
import type { JsonSchema } from '../../shared/validate';
import { channels as CHANNELS } from '../events';
import type { ChannelName } from '../channels/channel';

export interface NotificationPolicy {
  channels: { defaults: Record<string, ChannelName[]> };
  quietHours: { start: string; end: string };
  teams: Record<string, { email: string[] }>;
  links: { portalUrl: string; validDays: number };
}

const clock = { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } as const;
const channelList = { type: 'array', items: { enum: CHANNELS }, uniqueItems: true } as const;

const schema = {
  type: 'object', additionalProperties: false, required: ['channels', 'quietHours', 'teams', 'links'],
  properties: {
    channels: {
      type: 'object', additionalProperties: false, required: ['defaults'],
      properties: { defaults: { type: 'object', required: ['*'], properties: { '*': channelList }, additionalProperties: channelList } },
    },
    quietHours: { type: 'object', additionalProperties: false, required: ['start', 'end'], properties: { start: clock, end: clock } },
    teams: {
      type: 'object',
      additionalProperties: {
        type: 'object', additionalProperties: false, required: ['email'],
        properties: { email: { type: 'array', minItems: 1, items: { type: 'string', format: 'email' } } },
      },
    },
    links: {
      type: 'object', additionalProperties: false, required: ['portalUrl', 'validDays'],
      properties: { portalUrl: { type: 'string', pattern: '^https?://' }, validDays: { type: 'integer', minimum: 1, maximum: 90 } },
    },
  },
} as const;

function build(doc: unknown): NotificationPolicy {
  const policy = doc as NotificationPolicy;
  // PORTAL_URL (the environment's own portal: staging, a laptop) wins over the policy's.
  const portalUrl = process.env.PORTAL_URL?.trim() || policy.links.portalUrl;
  if (!/^https?:\/\//.test(portalUrl)) throw new Error(`PORTAL_URL must be an http(s) URL, not "${portalUrl}"`);
  return { ...policy, links: { ...policy.links, portalUrl: portalUrl.replace(/\/+$/, '') } };
}

const file = policyFile({
  name: 'notification', env: 'NOTIFICATION_POLICY_FILE', mounted: '/etc/notification/policy.yaml',
  manifest: path.join(__dirname, '..', '..', '..', 'knative', 'base', 'notification', 'policy.yaml'), schema: schema as JsonSchema, build,
});

/** Parses and checks a policy document (the ConfigMap's policy.yaml); errors name the field at fault. */
export const parsePolicy = file.parse;
/** The policy in force: the mounted file (NOTIFICATION_POLICY_FILE), else the repository's manifest (laptops, tests). */
export const notificationPolicy = file.get;
/** Forget the loaded policy (tests that write their own file). */
export const reloadNotificationPolicy = file.reload;
/** Reads the policy now: a function that needs it refuses to start without it, naming what is wrong. */
export const assertNotificationPolicy = file.assert;
