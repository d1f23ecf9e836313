// Who may see or act on what. Patients see their own records; staff act at their branch (no branchId claim:
// every branch); services act for other systems. A record the caller may not see answers exactly as one that
// does not exist: handlers ask mayView() and throw the same notFound either way.
import type { Caller, Grant } from './auth';
import { forbidden, invalid } from './domain-errors';

/** May the caller see (and act on) a patient's record kept at a branch? */
export function mayView(caller: Caller, record: { patientId?: string | null; branchId: string }): boolean {
  if (caller.role === 'patient') return !!record.patientId && record.patientId === caller.patientId;
  if (caller.role === 'staff') return !caller.branchId || caller.branchId === record.branchId;
  return true;
}

/** Acting on a branch as a whole (its queue, its slots): branches are public, so a refusal is 403, not 404. */
export function assertBranch(caller: Caller, branchId: string, field = 'branchId'): void {
  if (caller.role === 'service') return;
  if (caller.role === 'staff' && (!caller.branchId || caller.branchId === branchId)) return;
  throw forbidden(`you cannot act on branch ${branchId}`, field);
}

/** Does the caller hold a grant (staff only: patients and services never do)? */
export function holds(caller: Caller | undefined, grant: Grant): boolean {
  return caller?.role === 'staff' && !!caller.grants?.includes(grant);
}

/** Who acted, as audit trails and timelines write it: 'patient:<patientId>', 'staff:<subject>', 'service:<subject>'. */
export const actorOf = (caller: Caller): string => `${caller.role}:${caller.role === 'patient' ? caller.patientId : caller.subject}`;

/**
 * Whose records a request is about: a patient's own (naming another patient is 403); staff and services
 * name the patient (400 without one). `what` names the records in the refusals ("results", "appointments").
 */
export function patientOf(caller: Caller, patientId: string | undefined, what: string): string {
  if (caller.role === 'patient') {
    if (patientId !== undefined && patientId !== caller.patientId) throw forbidden(`a patient sees and books only their own ${what}`, 'patientId');
    return caller.patientId;
  }
  if (!patientId) throw invalid(`staff and services name the patient whose ${what} they mean`, 'patientId');
  return patientId;
}
