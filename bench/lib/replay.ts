// Replaying captured statements (pg-wire.ts) as a reference: the same SQL, in the same order, with the
// parameters of another request. Each parameter value of the capture is split into the request's own values
// (tokens: the slot, the patient, a key…), ids the code made up for it (any other UUID: a booking id, an
// event id; fresh for every replay) and constants (everything else: timestamps, statuses, sizes). From that:
//   - pgbench: a custom script whose statements are the captured SQL with each $n replaced by pgbench
//     variables (tokens and fresh ids computed from per-transaction variables, constants bound from -D),
//     cast to the type the server gives that parameter, so the server runs what the function made it run;
//   - JS: the values for another record (the pipeline's reference consumer sends them with plain pg).
import type pg from 'pg';
import { describeStatements, type WireStatement } from './pg-wire';
import { fmt } from './stats';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export type Part = { lit: string } | { token: string } | { fresh: number };

export interface TemplateStatement {
  sql: string;
  protocol: WireStatement['protocol'];
  /** null: a NULL parameter. */
  params: Array<Part[] | null>;
  /** Types the client declared in Parse (0: none, the server infers). */
  paramTypes: number[];
  /** CommandComplete tags of the capture. */
  tags: string[];
}

export interface Template {
  statements: TemplateStatement[];
  /** Distinct made-up ids (fresh per replay). */
  freshCount: number;
}

/**
 * Splits values into tokens (name → value in the capture), made-up ids (any other UUID; the same id gets the
 * same number wherever it appears: a booking id in a statement, in an event's data, as a record key) and
 * literal text.
 */
export class Splitter {
  private readonly byValue: Array<[string, string]>;
  private readonly pattern: RegExp;
  private readonly fresh = new Map<string, number>();
  constructor(tokens: Record<string, string>) {
    this.byValue = Object.entries(tokens).sort((a, b) => b[1].length - a[1].length);
    const escaped = this.byValue.map(([, v]) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = new RegExp([...escaped, UUID.source].join('|'), 'gi');
  }
  get freshCount(): number { return this.fresh.size; }
  split(value: string): Part[] {
    const parts: Part[] = [];
    let last = 0;
    for (const m of value.matchAll(this.pattern)) {
      if (m.index! > last) parts.push({ lit: value.slice(last, m.index) });
      const token = this.byValue.find(([, v]) => v === m[0]);
      if (token) parts.push({ token: token[0] });
      else {
        const key = m[0].toLowerCase();
        if (!this.fresh.has(key)) this.fresh.set(key, this.fresh.size);
        parts.push({ fresh: this.fresh.get(key)! });
      }
      last = m.index! + m[0].length;
    }
    if (last < value.length) parts.push({ lit: value.slice(last) });
    return parts.length ? parts : [{ lit: '' }];
  }
  /** The made-up ids of the capture (for finding the events it emitted). */
  freshIds(): string[] { return [...this.fresh.keys()]; }
}

/** The captured statements with every parameter split (see Splitter). */
export function templateOf(statements: WireStatement[], splitter: Splitter): Template {
  return {
    statements: statements.map((s) => {
      if (s.binary.some(Boolean)) throw new Error(`a captured statement has binary parameters, which the replay cannot rewrite: ${s.sql.slice(0, 200)}`);
      return { sql: s.sql, protocol: s.protocol, tags: s.tags, paramTypes: s.paramTypes, params: s.values.map((v) => (v === null ? null : splitter.split(v))) };
    }),
    get freshCount() { return splitter.freshCount; },
  };
}

/** One value of a replay: tokens of this request, made-up ids of this replay. */
export const fill = (parts: Part[], tokens: Record<string, string>, freshIds: string[]): string =>
  parts.map((p) => ('lit' in p ? p.lit : 'token' in p ? tokens[p.token] : freshIds[p.fresh])).join('');

/** The parameter values of one replay: tokens of this request, fresh ids from `freshId`. */
export function valuesFor(statement: TemplateStatement, tokens: Record<string, string>, freshIds: string[]): Array<string | null> {
  return statement.params.map((parts) => parts && fill(parts, tokens, freshIds));
}

/**
 * The type the server gives each parameter of each statement (pg_prepared_statements after PREPARE with the
 * types the client declared, unknown where it declared none), so the replay binds them the same way.
 */
export async function parameterTypes(db: pg.Pool | pg.ClientBase, statements: WireStatement[]): Promise<string[][]> {
  // PREPARE and pg_prepared_statements are per session: one connection of a pool for the whole probe.
  if ('totalCount' in db) {
    const client = await db.connect();
    try {
      return await parameterTypes(client, statements);
    } finally {
      client.release();
    }
  }
  const client = db;
  const out: string[][] = [];
  for (const s of statements) {
    if (!s.values.length) { out.push([]); continue; }
    const declared = await Promise.all(s.paramTypes.length ? s.paramTypes.map(async (oid) => oid === 0 ? 'unknown'
      : (await client.query<{ t: string }>('SELECT format_type($1::oid, NULL) AS t', [oid])).rows[0].t) : s.values.map(() => 'unknown'));
    await client.query(`PREPARE bench_replay_probe (${declared.join(', ')}) AS ${s.sql}`);
    try {
      const { rows } = await client.query<{ types: string[] }>(`SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'bench_replay_probe'`);
      out.push(rows[0].types);
    } finally {
      await client.query('DEALLOCATE bench_replay_probe');
    }
  }
  return out;
}

export interface PgbenchScript {
  /** The script (pgbench -f). */
  text: string;
  /** Constants, passed as -D name=value. */
  defines: Record<string, string>;
}

/**
 * A pgbench script replaying the template once per transaction. `prelude`: \set lines that compute the
 * per-transaction variables; `tokenSql`: an SQL expression per token (built from those variables);
 * `freshSql(k)`: an SQL expression giving made-up id k of this transaction. Constants, and the literal parts
 * of values built around a token, are -D variables: pgbench reads ":name" anywhere in a statement, quotes
 * included, so a timestamp's ":35" must never appear in its SQL.
 */
export function pgbenchScript(template: Template, types: string[][], prelude: string[], tokenSql: Record<string, string>, freshSql: (k: number) => string, header: string[] = []): PgbenchScript {
  const defines: Record<string, string> = {};
  const constant = new Map<string, string>();
  const named = (value: string) => {
    let name = constant.get(value);
    if (!name) {
      name = `c${constant.size + 1}`;
      constant.set(value, name);
      defines[name] = value;
    }
    return `:${name}`;
  };
  const lines = [...header.map((h) => `-- ${h}`), ...prelude];
  template.statements.forEach((s, i) => {
    const sql = s.sql.replace(/\r?\n\s*/g, ' ').trim().replace(/;$/, '');
    const replaced = sql.replace(/\$(\d+)(::)?/g, (_, n: string, castFollows: string | undefined) => {
      const k = Number(n) - 1;
      const parts = s.params[k];
      const type = types[i]?.[k] ?? 'text';
      const rest = castFollows ?? '';
      if (parts === undefined) throw new Error(`statement ${i + 1} uses $${n} but the capture bound ${s.params.length} parameters`);
      if (parts === null) return `NULL::${type}${rest}`;
      // A plain value is bound as the driver bound it: untyped unless the client declared a type in Parse.
      const declared = (s.paramTypes[k] ?? 0) !== 0;
      if (parts.length === 1 && 'lit' in parts[0]) return `${named(parts[0].lit)}${declared && !castFollows ? `::${type}` : ''}${rest}`;
      // A value built around tokens is an SQL text expression: cast to the type the server gave the parameter
      // (unless the statement casts it right there itself).
      const pieces = parts.filter((p) => !('lit' in p) || p.lit !== '').map((p) => ('lit' in p ? `${named(p.lit)}::text` : 'token' in p ? `(${tokenSql[p.token]})` : `(${freshSql(p.fresh)})`));
      const expression = pieces.length === 1 ? pieces[0] : `(${pieces.join(' || ')})`;
      return castFollows || type === 'text' ? `${expression}${rest}` : `${expression}::${type}`;
    });
    lines.push(`${replaced};`);
  });
  const text = `${lines.join('\n')}\n`;
  // Every :name left in a statement must be a variable the prelude or -D defines.
  const known = new Set([...Object.keys(defines), 'client_id', ...prelude.flatMap((l) => /^\\set\s+(\w+)/.exec(l)?.[1] ?? [])]);
  for (const line of lines.filter((l) => !l.startsWith('\\') && !l.startsWith('--'))) {
    for (const m of line.matchAll(/(?<!:):([A-Za-z0-9_]+)/g)) {
      if (!known.has(m[1])) throw new Error(`the generated pgbench script uses :${m[1]}, which nothing defines: ${line.slice(0, 200)}`);
    }
  }
  return { text, defines };
}

/** Table and verb of a statement that writes (INSERT INTO / UPDATE / DELETE FROM), if it is one. */
export function writeTarget(sql: string): { verb: 'insert' | 'update' | 'delete'; table: string } | undefined {
  const m = /^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)/i.exec(sql);
  if (!m) return undefined;
  const verb = m[1].toUpperCase().startsWith('INSERT') ? 'insert' : m[1].toUpperCase() === 'UPDATE' ? 'update' : 'delete';
  return { verb, table: m[2].replace(/"/g, '') };
}

/** Rows each table got from the captured statements, by verb (from their CommandComplete tags). */
export function writesByTable(statements: Array<{ sql: string; tags: string[] }>): Map<string, { insert: number; update: number; delete: number }> {
  const out = new Map<string, { insert: number; update: number; delete: number }>();
  for (const s of statements) {
    const target = writeTarget(s.sql);
    if (!target) continue;
    const row = out.get(target.table) ?? { insert: 0, update: 0, delete: 0 };
    for (const tag of s.tags) {
      const m = /^(?:INSERT \d+|UPDATE|DELETE) (\d+)$/.exec(tag);
      if (m) row[target.verb] += Number(m[1]);
    }
    out.set(target.table, row);
  }
  return out;
}

/** Row counts of tables (schema.table), for before/after deltas. */
export async function tableCounts(client: pg.Pool | pg.ClientBase, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    const quoted = t.split('.').map((x) => `"${x}"`).join('.');
    out[t] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}`)).rows[0].n);
  }
  return out;
}

/** Rows per transaction from before/after deltas of tableCounts (NaN when there was none). */
export const perTx = (delta: Record<string, number>, n: number) => Object.fromEntries(Object.entries(delta).map(([t, d]) => [t, n ? d / n : NaN]));

/** "booking 1, outbox_event 1, …" for a report. */
export const showPerTx = (r: Record<string, number>) => Object.entries(r).map(([t, v]) => `${t.split('.').pop()} ${fmt(v)}`).join(', ');

/** pgbench's -M for a capture: prepared when the driver named its statements, extended when it mostly used Parse/Bind/Execute. */
export function pgbenchMode(statements: WireStatement[]): 'prepared' | 'extended' | 'simple' {
  const extended = statements.filter((s) => s.protocol === 'extended').length;
  return statements.some((s) => s.statementName) ? 'prepared' : extended >= statements.length / 2 ? 'extended' : 'simple';
}

/** A script's -D constants, one line each (long ones cut), for a report. */
export const describeDefines = (defines: Record<string, string>) =>
  Object.entries(defines).map(([k, v]) => `${k} = ${v.length > 160 ? `${v.slice(0, 160)}… (${v.length} chars)` : v}`);

/** A booking row's appendix: what the function sent (and after its commit), the generated script and its constants. */
export function replayAppendix(fn: string, request: WireStatement[], afterCommit: { note: string; statements: WireStatement[] }, scriptText: string, defines: Record<string, string>): string {
  return [
    `What ${fn} sent for one booking (wire capture; tags as PostgreSQL answered):`,
    '',
    ...describeStatements(request),
    '',
    `After the commit (${afterCommit.note}; not replayed):`,
    '',
    ...describeStatements(afterCommit.statements),
    '',
    'The generated pgbench script:',
    '',
    scriptText.trimEnd(),
    '',
    'Its constants (-D):',
    '',
    ...describeDefines(defines),
  ].join('\n');
}
