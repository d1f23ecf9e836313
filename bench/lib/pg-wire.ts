// What a function really sends to PostgreSQL, read off the wire: a TCP relay between the function and the
// server that decodes the frontend protocol (simple Query; Parse/Bind/Execute) and the server's answers
// (CommandComplete tags, errors). It sees whatever the code under test sends, whichever library or build
// produced it, without restarting the server (pg_stat_statements needs shared_preload_libraries) or reading
// its log. Only capture runs go through it; measured runs connect to PostgreSQL directly.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface WireStatement {
  /** Connection number (order of connection). */
  conn: number;
  /** performance.now() when the statement was sent (Execute or Query) and when its answer came. */
  sentAt: number;
  doneAt?: number;
  /** simple: a Query message (text only); extended: Parse/Bind/Execute. */
  protocol: 'simple' | 'extended';
  /** Prepared statement name ('' = unnamed, parsed again each time). */
  statementName: string;
  sql: string;
  /** Parameter type OIDs the client declared in Parse (0 = let the server infer). */
  paramTypes: number[];
  /** Parameter values as sent (text format; binary ones base64, see binary). */
  values: Array<string | null>;
  binary: boolean[];
  /** CommandComplete tags (INSERT 0 1, UPDATE 1, SELECT 3…); a simple Query may carry several statements. */
  tags: string[];
  error?: string;
}

export interface PgCapture {
  /** The database URL to hand to the function: same database and credentials, through the relay. */
  url: string;
  /** Every statement so far, in the order they were sent. */
  statements(): WireStatement[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

const cstr = (buf: Buffer, at: number): [string, number] => {
  const end = buf.indexOf(0, at);
  return [buf.toString('utf8', at, end), end + 1];
};

/** Splits a byte stream into protocol messages; `typed` says whether messages start with a type byte. */
class MessageStream {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onMessage: (type: string, body: Buffer) => void, private readonly untypedFirst: () => boolean) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.untypedFirst()) {
        if (this.buf.length < 4) return;
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < len) return;
        this.onMessage('', this.buf.subarray(4, len));
        this.buf = this.buf.subarray(len);
        continue;
      }
      if (this.buf.length < 5) return;
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < 1 + len) return;
      this.onMessage(String.fromCharCode(this.buf[0]), this.buf.subarray(5, 1 + len));
      this.buf = this.buf.subarray(1 + len);
    }
  }
}

export async function startPgCapture(databaseUrl: string): Promise<PgCapture> {
  const target = new URL(databaseUrl);
  const host = target.hostname;
  const port = Number(target.port || 5432);
  const all: WireStatement[] = [];
  const sockets = new Set<net.Socket>();
  let nextConn = 0;

  const server = net.createServer((client) => {
    const conn = nextConn++;
    const upstream = net.connect(port, host);
    sockets.add(client).add(upstream);
    const statements = new Map<string, { sql: string; types: number[] }>();
    const portals = new Map<string, { statement: string; values: Array<string | null>; binary: boolean[] }>();
    const pending: WireStatement[] = [];
    let startup = true;
    // The server answers SSLRequest/GSSENCRequest with one untyped byte.
    let oneByteAnswer = false;
    let opaque = false;

    const fromClient = new MessageStream((type, body) => {
      if (opaque) return;
      if (type === '') {
        const code = body.readInt32BE(0);
        if (code === SSL_REQUEST || code === GSS_REQUEST) oneByteAnswer = true;
        else if (code !== CANCEL_REQUEST) startup = false;
        return;
      }
      switch (type) {
        case 'Q': {
          const [sql] = cstr(body, 0);
          const s: WireStatement = { conn, sentAt: performance.now(), protocol: 'simple', statementName: '', sql, paramTypes: [], values: [], binary: [], tags: [] };
          all.push(s);
          pending.push(s);
          break;
        }
        case 'P': {
          const [name, a] = cstr(body, 0);
          const [sql, b] = cstr(body, a);
          const n = body.readInt16BE(b);
          const types = Array.from({ length: n }, (_, i) => body.readUInt32BE(b + 2 + 4 * i));
          statements.set(name, { sql, types });
          break;
        }
        case 'B': {
          const [portal, a] = cstr(body, 0);
          const [statement, b] = cstr(body, a);
          let at = b;
          const nFormats = body.readInt16BE(at); at += 2;
          const formats = Array.from({ length: nFormats }, (_, i) => body.readInt16BE(at + 2 * i)); at += 2 * nFormats;
          const n = body.readInt16BE(at); at += 2;
          const values: Array<string | null> = [];
          const binary: boolean[] = [];
          for (let i = 0; i < n; i++) {
            const len = body.readInt32BE(at); at += 4;
            const isBinary = (nFormats === 1 ? formats[0] : formats[i] ?? 0) === 1;
            binary.push(isBinary);
            if (len < 0) values.push(null);
            else {
              const raw = body.subarray(at, at + len);
              values.push(isBinary ? raw.toString('base64') : raw.toString('utf8'));
              at += len;
            }
          }
          portals.set(portal, { statement, values, binary });
          break;
        }
        case 'E': {
          const [portal] = cstr(body, 0);
          const bound = portals.get(portal);
          const prepared = bound ? statements.get(bound.statement) : undefined;
          const s: WireStatement = {
            conn, sentAt: performance.now(), protocol: 'extended', statementName: bound?.statement ?? '',
            sql: prepared?.sql ?? '<unknown statement>', paramTypes: prepared?.types ?? [],
            values: bound?.values ?? [], binary: bound?.binary ?? [], tags: [],
          };
          all.push(s);
          pending.push(s);
          break;
        }
        default: break; // Describe, Sync, Flush, Close, Terminate, password…: nothing to record
      }
    }, () => startup);

    const fromServer = new MessageStream((type, body) => {
      const head = pending[0];
      switch (type) {
        case 'C': // CommandComplete
          if (head) {
            head.tags.push(cstr(body, 0)[0]);
            head.doneAt = performance.now();
            if (head.protocol === 'extended') pending.shift();
          }
          break;
        case 'I': // EmptyQueryResponse
        case 's': // PortalSuspended
          if (head?.protocol === 'extended') { head.doneAt = performance.now(); pending.shift(); }
          break;
        case 'E': { // ErrorResponse: fields of (code byte, cstring)
          let at = 0;
          const fields: Record<string, string> = {};
          while (at < body.length && body[at] !== 0) {
            const code = String.fromCharCode(body[at]);
            const [text, next] = cstr(body, at + 1);
            fields[code] = text;
            at = next;
          }
          if (head) {
            head.error = `${fields.C ?? ''} ${fields.M ?? ''}`.trim();
            head.doneAt = performance.now();
            if (head.protocol === 'extended') pending.shift();
          }
          break;
        }
        case 'Z': // ReadyForQuery: whatever is still open has ended (simple queries, skipped executes)
          while (pending.length) { const s = pending.shift()!; s.doneAt ??= performance.now(); }
          break;
        default: break;
      }
    }, () => false);

    client.on('data', (d: Buffer) => {
      try { fromClient.push(d); } catch { opaque = true; }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (oneByteAnswer) {
        oneByteAnswer = false;
        // 'S': the rest is TLS and cannot be read here; the relay still passes it on.
        if (d[0] === 0x53) opaque = true;
        const rest = d.subarray(1);
        client.write(d);
        if (rest.length && !opaque) { try { fromServer.push(rest); } catch { opaque = true; } }
        return;
      }
      if (!opaque) { try { fromServer.push(d); } catch { opaque = true; } }
      client.write(d);
    });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const relay = new URL(databaseUrl);
  relay.hostname = '127.0.0.1';
  relay.port = String((server.address() as AddressInfo).port);
  return {
    url: relay.toString(),
    statements: () => all,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

// ---------- reading a capture ----------

const TX_START = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const TX_END = /^\s*(COMMIT|ROLLBACK|END)\b/i;

/**
 * The statements of one request, from a capture window: everything sent before its first transaction, then
 * that transaction to its COMMIT (with whatever other connections sent meanwhile). What comes after the
 * commit (e.g. the outbox publisher's own transaction) is returned apart.
 */
export function splitAtCommit(window: WireStatement[]): { request: WireStatement[]; afterCommit: WireStatement[] } {
  const begin = window.findIndex((s) => TX_START.test(s.sql));
  if (begin === -1) return { request: window, afterCommit: [] };
  const conn = window[begin].conn;
  const end = window.findIndex((s, i) => i > begin && s.conn === conn && TX_END.test(s.sql));
  if (end === -1) return { request: window, afterCommit: [] };
  return { request: window.slice(0, end + 1), afterCommit: window.slice(end + 1) };
}

/** Rows a statement wrote, from its tag (INSERT 0 n, UPDATE n, DELETE n), by verb. */
export function rowsWritten(s: WireStatement): { insert: number; update: number; delete: number } {
  const out = { insert: 0, update: 0, delete: 0 };
  for (const tag of s.tags) {
    const m = /^(INSERT \d+|UPDATE|DELETE) (\d+)$/.exec(tag);
    if (!m) continue;
    const verb = m[1].startsWith('INSERT') ? 'insert' : m[1] === 'UPDATE' ? 'update' : 'delete';
    out[verb] += Number(m[2]);
  }
  return out;
}

/** One line per statement for a report: protocol, SQL (one line), tag. */
export function describeStatements(stmts: WireStatement[], maxSql = 400): string[] {
  return stmts.map((s, i) => {
    const sql = s.sql.replace(/\s+/g, ' ').trim();
    const shown = sql.length > maxSql ? `${sql.slice(0, maxSql)}…` : sql;
    const how = s.protocol === 'simple' ? 'simple' : s.statementName ? `prepared "${s.statementName}"` : 'extended';
    return `${String(i + 1).padStart(2)}. [${how}${s.values.length ? `, ${s.values.length} params` : ''}] ${shown} → ${s.error ? `ERROR ${s.error}` : s.tags.join(', ') || 'no tag'}`;
  });
}
