// The channels by name, built once from this process's settings (settings.ts): the sender asks for one and
// sends through it. Push marks the subscriptions its push service says are gone.
import { db } from '../../shared/db';
import type { Channel, ChannelName } from './channel';
import { channelSettings } from './settings';
import { emailChannel } from './email';
import { smsChannel, twilioProvider, type SmsProvider } from './sms';
import { pushChannel } from './push';
import { inAppChannel } from './in-app';

let registry: Map<ChannelName, Channel> | undefined;
let provider: SmsProvider | undefined;

/** The SMS provider the settings name (the callback route verifies and reads its callbacks). */
export function smsProvider(): SmsProvider {
  return (provider ??= twilioProvider(channelSettings().sms));
}

export function channel(name: ChannelName): Channel {
  if (!registry) {
    const s = channelSettings();
    registry = new Map<ChannelName, Channel>([
      ['in-app', inAppChannel],
      ['email', emailChannel(s.email, s.publicUrl)],
      ['sms', smsChannel(smsProvider(), s.sms.callbackBase, s.publicUrl)],
      ['push', pushChannel(s.push, async (ids) => {
        await db().pushSubscription.updateMany({ where: { id: { in: ids }, goneAt: null }, data: { goneAt: new Date() } });
      })],
    ]);
  }
  const found = registry.get(name);
  if (!found) throw new Error(`no channel ${name}`);
  return found;
}

/** Tests that start stand-ins on their own ports build the channels again from the environment. */
export function resetChannels(): void {
  registry = undefined;
  provider = undefined;
}
