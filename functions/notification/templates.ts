// The words of every notice, in Vietnamese and English: a title and a body per template, with {{variable}}
// places filled from the request's variables (ids, times and codes: never a test name, a value or a
// diagnosis). Rules are data, versioned with the code; a template that names a variable the request did not
// carry is refused (the request goes to the dead-letter system with the variable's name), never sent half-done.
import { invalid, notFound } from '../shared/domain-errors';
import type { RenderedMessage } from './channels/channel';

export type Language = 'vi' | 'en';

interface Words { title: string; body: string; link?: string }

export interface Template {
  /** Category used for preferences when the request names none. */
  category: string;
  /** Critical by nature (a clinician asks the patient to call): bypasses quiet hours and digests. */
  critical?: boolean;
  vi: Words;
  en: Words;
}

const t = (category: string, vi: Words, en: Words, critical?: boolean): Template => ({ category, vi, en, ...(critical ? { critical } : {}) });

export const templates: Record<string, Template> = {
  'results-ready': t('results',
    { title: 'Kết quả xét nghiệm đã sẵn sàng', body: 'Kết quả xét nghiệm của bạn đã có. Vui lòng đăng nhập cổng thông tin bệnh nhân để xem.', link: '{{link}}' },
    { title: 'Your results are ready', body: 'Your lab results are ready. Please sign in to the patient portal to view them.', link: '{{link}}' }),
  'results-updated': t('results',
    { title: 'Kết quả xét nghiệm đã được cập nhật', body: 'Kết quả xét nghiệm của bạn đã được cập nhật. Vui lòng đăng nhập cổng thông tin bệnh nhân để xem.', link: '{{link}}' },
    { title: 'Your results were updated', body: 'Your lab results were updated. Please sign in to the patient portal to view them.', link: '{{link}}' }),
  'results-call-clinic': t('results',
    { title: 'Vui lòng liên hệ phòng khám', body: 'Bác sĩ muốn trao đổi với bạn. Vui lòng gọi cho phòng khám sớm nhất có thể.', link: '{{link}}' },
    { title: 'Please call the clinic', body: 'A clinician would like to speak with you. Please call the clinic as soon as you can.', link: '{{link}}' }, true),
  'appointment-confirmed': t('appointment',
    { title: 'Lịch hẹn đã được xác nhận', body: 'Lịch hẹn của bạn lúc {{localTime}} {{weekday}} {{localDate}} đã được xác nhận.', link: '{{link}}' },
    { title: 'Appointment confirmed', body: 'Your appointment at {{localTime}} on {{weekday}} {{localDate}} is confirmed.', link: '{{link}}' }),
  'appointment-awaiting-payment': t('appointment',
    { title: 'Lịch hẹn chờ thanh toán', body: 'Lịch hẹn của bạn lúc {{localTime}} {{weekday}} {{localDate}} đang chờ thanh toán.', link: '{{link}}' },
    { title: 'Appointment awaiting payment', body: 'Your appointment at {{localTime}} on {{weekday}} {{localDate}} is waiting for payment.', link: '{{link}}' }),
  'appointment-changed': t('appointment',
    { title: 'Lịch hẹn đã thay đổi', body: 'Lịch hẹn của bạn nay vào lúc {{localTime}} {{weekday}} {{localDate}}.', link: '{{link}}' },
    { title: 'Appointment changed', body: 'Your appointment is now at {{localTime}} on {{weekday}} {{localDate}}.', link: '{{link}}' }),
  'appointment-cancelled': t('appointment',
    { title: 'Lịch hẹn đã bị hủy', body: 'Lịch hẹn của bạn lúc {{localTime}} {{weekday}} {{localDate}} đã bị hủy.', link: '{{link}}' },
    { title: 'Appointment cancelled', body: 'Your appointment at {{localTime}} on {{weekday}} {{localDate}} was cancelled.', link: '{{link}}' }),
  'appointment-payment-expired': t('appointment',
    { title: 'Lịch hẹn đã hết hạn thanh toán', body: 'Lịch hẹn lúc {{localTime}} {{weekday}} {{localDate}} đã bị hủy vì chưa được thanh toán.', link: '{{link}}' },
    { title: 'Appointment not paid in time', body: 'Your appointment at {{localTime}} on {{weekday}} {{localDate}} was cancelled as it was not paid in time.', link: '{{link}}' }),
  'appointment-reminder': t('reminder',
    { title: 'Nhắc lịch hẹn', body: 'Nhắc bạn lịch hẹn lúc {{localTime}} {{weekday}} {{localDate}}.', link: '{{link}}' },
    { title: 'Appointment reminder', body: 'A reminder of your appointment at {{localTime}} on {{weekday}} {{localDate}}.', link: '{{link}}' }),
  'sample-rejected': t('appointment',
    { title: 'Cần lấy lại mẫu xét nghiệm', body: 'Chúng tôi cần lấy lại mẫu xét nghiệm của bạn. Vui lòng chọn thời gian phù hợp trên cổng thông tin.', link: '{{rebookPath}}' },
    { title: 'A new sample is needed', body: 'We need to take a new sample. Please choose a time in the patient portal.', link: '{{rebookPath}}' }),
  'booking-confirmed': t('booking',
    { title: 'Đặt lịch thành công', body: 'Lịch của bạn lúc {{localTime}} {{localDate}} đã được xác nhận.', link: '{{link}}' },
    { title: 'Booking confirmed', body: 'Your booking at {{localTime}} on {{localDate}} is confirmed.', link: '{{link}}' }),
  'booking-rejected': t('booking',
    { title: 'Không thể đặt lịch', body: 'Rất tiếc, thời gian bạn chọn không còn trống. Vui lòng chọn thời gian khác.', link: '{{link}}' },
    { title: 'Booking not possible', body: 'Sorry, the time you chose is no longer free. Please choose another.', link: '{{link}}' }),
  'booking-reminder': t('reminder',
    { title: 'Nhắc lịch xét nghiệm', body: 'Nhắc bạn lịch xét nghiệm lúc {{localTime}} {{localDate}}. Vui lòng đến sớm 10 phút.', link: '{{link}}' },
    { title: 'Lab visit reminder', body: 'A reminder of your lab visit at {{localTime}} on {{localDate}}. Please arrive 10 minutes early.', link: '{{link}}' }),
  'queue-turn-near': t('queue',
    { title: 'Sắp đến lượt bạn', body: 'Sắp đến lượt của bạn (số {{ticket}}). Vui lòng có mặt gần quầy.', link: '{{link}}' },
    { title: 'Your turn is near', body: 'Your turn is near (ticket {{ticket}}). Please stay close to the counter.', link: '{{link}}' }),
  'dead-letter-alert': t('operations',
    { title: '[{{severity}}] Dead letters: {{kind}}', body: '{{summary}}\nConsole: {{console}}\nRunbook: {{runbook}}' },
    { title: '[{{severity}}] Dead letters: {{kind}}', body: '{{summary}}\nConsole: {{console}}\nRunbook: {{runbook}}' }),
  'dead-letter-daily-report': t('operations',
    { title: 'Dead letters on {{day}}', body: 'Received {{received}}, resolved {{resolved}}, parked {{parked}}, discarded {{discarded}}, open {{open}}.\nConsole: {{console}}' },
    { title: 'Dead letters on {{day}}', body: 'Received {{received}}, resolved {{resolved}}, parked {{parked}}, discarded {{discarded}}, open {{open}}.\nConsole: {{console}}' }),
};

export type Variables = Record<string, string | number | boolean>;

const PLACE = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** The variables a template's words name (what a request must carry). */
export function variablesOf(template: string): string[] {
  const found = templateOf(template);
  const names = new Set<string>();
  for (const words of [found.vi, found.en]) for (const text of [words.title, words.body, words.link ?? '']) for (const m of text.matchAll(PLACE)) names.add(m[1]);
  return [...names].sort();
}

export function templateOf(name: string): Template {
  const found = templates[name];
  if (!found) throw notFound('template', `no template ${name}`);
  return found;
}

/** The template's words in the language (Vietnamese when the language has none), every place filled, or the refusal naming what is missing. */
export function render(name: string, language: string | undefined, variables: Variables): RenderedMessage {
  const found = templateOf(name);
  const lang: Language = language === 'en' ? 'en' : 'vi';
  const words = found[lang];
  const missing = new Set<string>();
  const fill = (text: string) => text.replace(PLACE, (_, key: string) => {
    const value = variables[key];
    if (value === undefined || value === '') { missing.add(key); return ''; }
    return String(value);
  });
  const message = { title: fill(words.title), body: fill(words.body), ...(words.link ? { link: fill(words.link) } : {}), language: lang };
  if (missing.size) throw invalid(`template ${name} needs ${[...missing].sort().join(', ')}`, `variables/${[...missing].sort()[0]}`);
  return message;
}
