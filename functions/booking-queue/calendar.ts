// Branch-local calendar: the shared rules (functions/shared/calendar.ts) and, for statements that decide
// "that day" in the database, the same rules as SQL.
import { Prisma } from '../shared/generated/prisma/client';

export { branchDay, addDays, daysCovered, isoWeekday, localTimeToUtc, dayBounds } from '../shared/calendar';

// ---------- the same rules inside a statement (PostgreSQL's time-zone rules) ----------

/** The branch-local calendar date (an SQL date) of an instant. */
export const branchDateSql = (instant: Prisma.Sql, timezone: Prisma.Sql) => Prisma.sql`((${instant}) AT TIME ZONE ${timezone})::date`;

/** The branch-local day of an instant as YYYY-MM-DD text, as branchDay() writes it. */
export const branchDaySql = (instant: Prisma.Sql, timezone: Prisma.Sql) => Prisma.sql`to_char(${branchDateSql(instant, timezone)}, 'YYYY-MM-DD')`;

/** The instant a branch-local date (an SQL date expression) begins: midnight at the branch. */
export const dayStartSql = (date: Prisma.Sql, timezone: Prisma.Sql) => Prisma.sql`(${date})::timestamp AT TIME ZONE ${timezone}`;
