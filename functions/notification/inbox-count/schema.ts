// What notification-inbox-count answers: the badge (unread and unseen items of the inbox, not the archive).
export { counts as view } from '../api-schemas';
