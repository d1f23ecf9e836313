// Notification requests from any system (notification-requests): a template, its variables, a recipient and
// a category; this consumer decides the rest. Everything is checked before anything is written (the template
// exists, both languages render with the variables given, the patient or the team is known), so a request is
// either refused whole (422 naming data/template, data/variables/<name>, data/recipient/…: the dead-letter
// system keeps it) or becomes one notification: the same requestId twice is one, whatever the event ids.
// variables.sendAt (an ISO instant in the future) schedules it; otherwise it is due now, and waits only for
// the patient's quiet hours unless it is critical (the request says so, or its template is critical by nature).
import { consume, DUPLICATE } from '../../shared/consume';
import { invalid, notFound } from '../../shared/domain-errors';
import { topics } from '../events';
import { system } from '../system';
import { render, templateOf, type Variables } from '../templates';
import { assertNotificationPolicy, notificationPolicy } from '../intake/policy';
import { intakeNow } from '../intake/clock';
import { writeNotice } from '../intake/notice';
export { init, shutdown } from '../../shared/lifecycle';

const NAME = 'notification-requests-consumer';
assertNotificationPolicy();

/** variables.sendAt: when to send (a past instant means now); anything but an ISO 8601 instant is refused. */
function sendAtOf(variables: Variables, now: Date): Date {
  const raw = variables.sendAt;
  if (raw === undefined) return now;
  const at = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : undefined;
  if (!at || Number.isNaN(at.getTime())) throw invalid('sendAt must be an ISO 8601 instant (e.g. 2026-12-08T01:00:00Z)', 'variables/sendAt');
  return at.getTime() > now.getTime() ? at : now;
}

export const handle = consume(
  { name: NAME, system, topics: [topics.requests], summary: 'Turn notification requests into notifications: check, plan channels, respect quiet hours, hand due deliveries to the sender' },
  {
    'com.medlab.notification.requested': async (request, { tx, emit }) => {
      const now = intakeNow();
      const template = templateOf(request.template);
      const variables: Variables = request.variables ?? {};
      // Both languages render, or nothing is written: the patient's language may change before it is sent.
      render(request.template, 'vi', variables);
      render(request.template, 'en', variables);
      const sendAt = sendAtOf(variables, now);
      const { recipient } = request;
      if (recipient.kind === 'patient') {
        if (!recipient.patientId) throw invalid('a patient recipient names its patientId', 'recipient/patientId');
        const contact = await tx.contactPoint.findUnique({ where: { patientId: recipient.patientId }, select: { erased: true } });
        if (!contact || contact.erased) throw notFound('recipient/patientId', 'no such patient');
      } else {
        if (!recipient.team) throw invalid('an operators recipient names its team', 'recipient/team');
        if (!notificationPolicy().teams[recipient.team]) throw notFound('recipient/team', `no team ${recipient.team} in the notification policy`);
      }
      const written = await writeNotice(tx, emit, {
        requestId: request.requestId,
        recipientKind: recipient.kind,
        patientId: recipient.kind === 'patient' ? recipient.patientId : undefined,
        team: recipient.kind === 'operators' ? recipient.team : undefined,
        template: request.template,
        category: request.category,
        critical: Boolean(request.critical || template.critical),
        variables,
        sendAt,
      }, now);
      return written.duplicate ? DUPLICATE : written;
    },
  },
);
