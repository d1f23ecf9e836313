// Which test packages to recommend to a patient, and why: explainable rules in the manner of a FHIR
// PlanDefinition (applicability conditions → an action, here a package, with its rationale). A pure function
// of the rules, the bookable catalogue, the patient's profile and their history (released results, completed
// package bookings): no database, no clock of its own, so the rules are tested as plain data.
//
// A rule applies when every condition it states holds: age, sex, the latest released result of a LOINC code
// out of range or past a threshold, the time since the last check of a code or a package. A package scores
// the weights of the rules that point at it; the highest score ranks first, and each package says why in
// the words of its rules (the patient's language).

export type Language = 'vi' | 'en';

export interface ResultCondition {
  /** Any of these LOINC codes (LDL measured or calculated, …): the latest released one is read. */
  loinc: string[];
  /** The value is at or above this (in `unit` when given). */
  atLeast?: number;
  /** The value is at or below this. */
  atMost?: number;
  /** Outside the reference range the lab reported with it, or flagged abnormal (HL7 L, H, LL, HH, A, AA). */
  outOfRange?: boolean;
  /** Thresholds are in this unit; a result in another unit is not compared (6.5 mmol/mol is no 6.5 %). */
  unit?: string;
}

export interface DueCondition {
  /** The last released result of any of these LOINC codes … */
  loinc?: string[];
  /** … or the last completed booking of this package … */
  package?: string;
  /** … is older than this many months, or there is none. */
  months: number;
}

export interface Rule {
  id: string;
  /** The package this rule recommends (the catalogue's code). */
  package: string;
  weight: number;
  when: {
    age?: { min?: number; max?: number };
    sex?: 'female' | 'male';
    result?: ResultCondition;
    due?: DueCondition;
  };
  rationale: Record<Language, string>;
}

export interface RuleSet {
  version: string;
  /** At most this many packages are recommended. */
  maxPackages: number;
  rules: Rule[];
}

export interface Profile {
  sex?: string | null;
  birthDate?: Date | null;
  language: Language;
}

/** A package the patient could book now (the catalogue decides what is bookable). */
export interface Offer {
  code: string;
  sex?: string | null;
  minAge?: number | null;
  maxAge?: number | null;
}

/** One released result of the patient's. */
export interface PastResult {
  loinc: string;
  value?: number | null;
  unit?: string | null;
  low?: number | null;
  high?: number | null;
  interpretation?: string[];
  at: Date;
}

export interface History {
  results: PastResult[];
  /** When each package was last done (its booking completed), by package code. */
  packagesDone: Record<string, Date>;
}

export interface Reason {
  ruleId: string;
  reason: string;
}

export interface Recommended {
  packageCode: string;
  rank: number;
  score: number;
  reasons: Reason[];
}

const ABNORMAL = new Set(['L', 'H', 'LL', 'HH', 'A', 'AA', 'LU', 'HU', '<', '>']);

/** Whole years from birth to `now` (a birthday today counts). */
export function ageAt(birthDate: Date, now: Date): number {
  let age = now.getUTCFullYear() - birthDate.getUTCFullYear();
  const month = now.getUTCMonth() - birthDate.getUTCMonth();
  if (month < 0 || (month === 0 && now.getUTCDate() < birthDate.getUTCDate())) age--;
  return age;
}

/** `months` calendar months before `now`. */
export function monthsBefore(now: Date, months: number): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

function latest(results: PastResult[], loinc: string[]): PastResult | undefined {
  let found: PastResult | undefined;
  for (const r of results) if (loinc.includes(r.loinc) && (!found || r.at > found.at)) found = r;
  return found;
}

function resultHolds(c: ResultCondition, results: PastResult[]): boolean {
  // The latest result decides: an HbA1c back in range no longer calls for the diabetes package.
  const r = latest(results, c.loinc);
  if (!r) return false;
  if (c.atLeast !== undefined || c.atMost !== undefined) {
    if (r.value === null || r.value === undefined) return false;
    if (c.unit && r.unit && r.unit !== c.unit) return false;
    if (c.atLeast !== undefined && r.value < c.atLeast) return false;
    if (c.atMost !== undefined && r.value > c.atMost) return false;
  }
  if (c.outOfRange) {
    const flagged = (r.interpretation ?? []).some((f) => ABNORMAL.has(f.toUpperCase()));
    const outside = r.value !== null && r.value !== undefined && ((r.low !== null && r.low !== undefined && r.value < r.low) || (r.high !== null && r.high !== undefined && r.value > r.high));
    if (!flagged && !outside) return false;
  }
  return true;
}

function dueHolds(c: DueCondition, history: History, now: Date): boolean {
  const checks: Date[] = [];
  if (c.loinc) {
    const r = latest(history.results, c.loinc);
    if (r) checks.push(r.at);
  }
  if (c.package && history.packagesDone[c.package]) checks.push(history.packagesDone[c.package]);
  if (!checks.length) return true;
  const last = checks.reduce((a, b) => (a > b ? a : b));
  return last < monthsBefore(now, c.months);
}

function applies(rule: Rule, age: number | undefined, profile: Profile, history: History, now: Date): boolean {
  const { when } = rule;
  if (when.age) {
    if (age === undefined) return false;
    if (when.age.min !== undefined && age < when.age.min) return false;
    if (when.age.max !== undefined && age > when.age.max) return false;
  }
  if (when.sex && profile.sex !== when.sex) return false;
  if (when.result && !resultHolds(when.result, history.results)) return false;
  if (when.due && !dueHolds(when.due, history, now)) return false;
  return true;
}

/** Is the package for this patient (the catalogue's sex and ages)? An unknown age or sex fits no restricted package. */
function fits(offer: Offer, age: number | undefined, profile: Profile): boolean {
  if (offer.sex && profile.sex !== offer.sex) return false;
  if ((offer.minAge !== null && offer.minAge !== undefined) || (offer.maxAge !== null && offer.maxAge !== undefined)) {
    if (age === undefined) return false;
    if (offer.minAge !== null && offer.minAge !== undefined && age < offer.minAge) return false;
    if (offer.maxAge !== null && offer.maxAge !== undefined && age > offer.maxAge) return false;
  }
  return true;
}

/** The packages to recommend, best first, each with the reasons of the rules that chose it. */
export function recommend(rules: RuleSet, offers: Offer[], profile: Profile, history: History, now: Date): Recommended[] {
  const age = profile.birthDate ? ageAt(profile.birthDate, now) : undefined;
  const bookable = new Map(offers.filter((o) => fits(o, age, profile)).map((o) => [o.code, o]));
  const chosen = new Map<string, { score: number; matched: Rule[] }>();
  for (const rule of rules.rules) {
    if (!bookable.has(rule.package) || !applies(rule, age, profile, history, now)) continue;
    const entry = chosen.get(rule.package) ?? { score: 0, matched: [] };
    entry.score += rule.weight;
    entry.matched.push(rule);
    chosen.set(rule.package, entry);
  }
  return [...chosen.entries()]
    .sort(([a, x], [b, y]) => y.score - x.score || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, rules.maxPackages)
    .map(([packageCode, { score, matched }], i) => ({
      packageCode,
      rank: i + 1,
      score,
      // The strongest reason first; rules of equal weight in the order the rules file gives them.
      reasons: [...matched].sort((a, b) => b.weight - a.weight).map((r) => ({ ruleId: r.id, reason: r.rationale[profile.language] ?? r.rationale.vi })),
    }));
}
