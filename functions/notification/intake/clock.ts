// The instant the intake reckons from (quiet hours, a request's sendAt, a critical result sent now). The
// function's own clock; a test running a consumer in its own process may set another (never in production:
// there is no way to reach this from a request).
let fixed: Date | undefined;

export function intakeNow(): Date {
  return fixed ? new Date(fixed) : new Date();
}

/** Tests: read the clock as `at` until called again with undefined. */
export function setIntakeClock(at: Date | undefined): void {
  if (at && process.env.NODE_ENV === 'production') throw new Error('the intake clock is set only in tests');
  fixed = at;
}
