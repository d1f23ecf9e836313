// Loaded before anything else so modules read these when they initialise.
process.env.LOG_LEVEL ??= 'silent';
process.env.NODE_ENV ??= 'test';
