// A real SMTP server (smtp-server) that keeps every message it is given: the tests' mail provider and the
// laptop catcher's. It can be told to refuse the next messages with a code (451: try later; 550: no such
// mailbox) or to refuse one recipient for good, as a real server would. `emails` is what was sent; `mailbox`
// is what the patient sees: one message per recipient and Message-ID, as RFC 5322 §3.6.4 makes the same
// Message-ID the same message and receiving mailboxes keep it once (Gmail drops the copy; clients hide it).
import { SMTPServer } from 'smtp-server';
import { readMessage } from './mime';

export interface CaughtEmail { at: string; from: string; to: string[]; subject: string; messageId: string; deliveryId?: string; text: string; headers: Record<string, string> }

export interface SmtpStandIn {
  url: string;
  port: number;
  /** Every message the server accepted, in order. */
  emails: CaughtEmail[];
  /** The recipients' mailboxes: the accepted messages, once per recipient and Message-ID. */
  mailbox(): Array<CaughtEmail & { recipient: string }>;
  /** The next `count` messages are refused with `code` (4xx passing, 5xx permanent). */
  refuseNext(code: number, count?: number): void;
  /** Every message to this address is refused with 550 (mailbox unknown). */
  refuseRecipient(address: string): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startSmtpStandIn(options: { port?: number; host?: string } = {}): Promise<SmtpStandIn> {
  const emails: CaughtEmail[] = [];
  const refusing: number[] = [];
  const unknown = new Set<string>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'], logger: false, banner: 'medlab laptop SMTP catcher',
    onRcptTo(address, _session, callback) {
      if (unknown.has(address.address.toLowerCase())) return callback(Object.assign(new Error('no such mailbox here'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = refusing.shift();
        if (code) return callback(Object.assign(new Error(code >= 500 ? 'message refused' : 'mailbox busy, try again later'), { responseCode: code }));
        const { headers, text } = readMessage(Buffer.concat(chunks).toString('utf8'));
        emails.push({
          at: new Date().toISOString(),
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: headers.subject ?? '', messageId: headers['message-id'] ?? '', deliveryId: headers['x-medlab-delivery-id'], text, headers,
        });
        callback();
      });
    },
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://${host}:${port}`, port, emails,
    mailbox: () => {
      const kept = new Map<string, CaughtEmail & { recipient: string }>();
      for (const e of emails) for (const recipient of e.to) {
        const key = `${recipient.toLowerCase()}\n${e.messageId || `no-id-${kept.size}`}`;
        if (!kept.has(key)) kept.set(key, { ...e, recipient });
      }
      return [...kept.values()];
    },
    refuseNext: (code, count = 1) => { for (let i = 0; i < count; i++) refusing.push(code); },
    refuseRecipient: (address) => void unknown.add(address.toLowerCase()),
    reset: () => { emails.length = 0; refusing.length = 0; unknown.clear(); },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
