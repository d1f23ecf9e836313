// The in-app inbox: the notice is written as the patient's InboxItem in the caller's transaction (with the
// delivery's status), so it is there exactly once whatever redeliveries; delivered at once. Dispatch writes
// it with the notice (intake/dispatch.ts); the sender does, through here, for an in-app delivery left queued.
import type { Tx } from '../../shared/db';
import type { Channel, Send, SendResult } from './channel';

export const inAppChannel: Channel = {
  name: 'in-app',
  async send(request: Send, tx?: Tx): Promise<SendResult> {
    if (!tx) throw new Error('the in-app channel writes in the caller\'s transaction');
    if (!request.patientId) return { status: 'failed', provider: 'inbox', errorCode: 'no-patient' };
    await tx.inboxItem.createMany({
      data: [{
        patientId: request.patientId, notificationId: request.notificationId, deliveryId: request.deliveryId, category: request.category,
        title: request.message.title, body: request.message.body, link: request.message.link ?? null,
      }],
      skipDuplicates: true,
    });
    return { status: 'delivered', provider: 'inbox', providerMessageId: request.notificationId };
  },
};
