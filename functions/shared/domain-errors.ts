// Domain errors: what a rule says when it refuses ("no such slot", "the slot is full", "not this branch").
// Domain code throws these and knows nothing of HTTP or events; route() turns them into problem+json with a
// status (and names the field where the request carried it), consume() into a refusal that goes to the
// dead-letter sink. `field` is the domain name of what was at fault (slotId, bookingId), not a request path.

export type Refusal = 'not-found' | 'conflict' | 'forbidden' | 'invalid';

export class DomainError extends Error {
  constructor(readonly refusal: Refusal, message: string, readonly field?: string) {
    super(message);
    this.name = 'DomainError';
  }
}

/** The thing does not exist, or the caller may not know that it does (the two answer alike). */
export const notFound = (field: string, message = `no such ${field.replace(/Id$/, '')}`) => new DomainError('not-found', message, field);
/** The thing exists but its state refuses the change (full, closed, already moved on). */
export const conflict = (message: string, field?: string) => new DomainError('conflict', message, field);
/** The caller is known and may not do this here (another branch, a patient issuing walk-in tickets). */
export const forbidden = (message: string, field?: string) => new DomainError('forbidden', message, field);
/** The request breaks a rule its schema cannot express (a range that ends before it starts). */
export const invalid = (message: string, field: string) => new DomainError('invalid', message, field);
