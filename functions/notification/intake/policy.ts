// The notification policy operators tune in knative/base/notification/policy.yaml (a ConfigMap): default
// channels per category, quiet hours, the operators' teams and their addresses, portal links. In a cluster the
// ConfigMap is mounted and NOTIFICATION_POLICY_FILE names the file (default /etc/notification/policy.yaml in
// production); on a laptop the manifest itself is read, so what an operator writes is what runs. A policy that
// does not hold together stops the function at start-up, naming the field.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { problemsOf } from '../../shared/validate';
import { refuse } from '../../shared/config';
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

/** Parses and checks a policy document (the ConfigMap's policy.yaml); errors name the field at fault. */
export function parsePolicy(text: string, where: string): NotificationPolicy {
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (err) {
    throw new Error(`${where}: not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const problems = problemsOf(schema, doc, 'policy');
  if (problems.length) throw new Error(`${where}: ${problems.map((p) => `${p.name} ${p.reason}`).join('; ')}`);
  const policy = doc as NotificationPolicy;
  // PORTAL_URL (the environment's own portal: staging, a laptop) wins over the policy's.
  const portalUrl = process.env.PORTAL_URL?.trim() || policy.links.portalUrl;
  if (!/^https?:\/\//.test(portalUrl)) throw new Error(`PORTAL_URL must be an http(s) URL, not "${portalUrl}"`);
  return { ...policy, links: { ...policy.links, portalUrl: portalUrl.replace(/\/+$/, '') } };
}

const MANIFEST = path.join(__dirname, '..', '..', '..', 'knative', 'base', 'notification', 'policy.yaml');
/** Where the notification Services mount the ConfigMap (knative/base/notification). */
const MOUNTED = '/etc/notification/policy.yaml';

let loaded: NotificationPolicy | undefined;

/** The policy in force: the mounted file (NOTIFICATION_POLICY_FILE), else the repository's manifest (laptops, tests). */
export function notificationPolicy(): NotificationPolicy {
  if (loaded) return loaded;
  const production = process.env.NODE_ENV === 'production';
  const file = process.env.NOTIFICATION_POLICY_FILE || (production ? MOUNTED : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`the notification policy ${file} cannot be read (${(err as NodeJS.ErrnoException).code}): mount the notification-policy ConfigMap there, or set NOTIFICATION_POLICY_FILE`);
    }
    return (loaded = parsePolicy(text, file));
  }
  if (!existsSync(MANIFEST)) throw new Error('NOTIFICATION_POLICY_FILE must name the notification policy (policy.yaml of the notification-policy ConfigMap)');
  const manifest = loadYaml(readFileSync(MANIFEST, 'utf8')) as { data?: Record<string, string> };
  if (typeof manifest?.data?.['policy.yaml'] !== 'string') throw new Error(`${MANIFEST}: data.policy.yaml is required`);
  return (loaded = parsePolicy(manifest.data['policy.yaml'], MANIFEST));
}

/** Forget the loaded policy (tests that write their own file). */
export function reloadNotificationPolicy(): void {
  loaded = undefined;
}

/** Reads the policy now: a function that needs it refuses to start without it, naming what is wrong. */
export function assertNotificationPolicy(): void {
  refuse(notificationPolicy);
}
