// Reading a PostgreSQL EXPLAIN: which index scans a plan takes (the benchmarks report a query's index use).

export interface IndexScan {
  kind: 'Index Only Scan' | 'Index Scan' | 'Bitmap Index Scan';
  index: string;
}

export function indexScans(plan: string): IndexScan[] {
  return [...plan.matchAll(/(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/g)]
    .map((m) => ({ kind: m[1] as IndexScan['kind'], index: m[2] }));
}
