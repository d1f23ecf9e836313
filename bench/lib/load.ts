// HTTP load generators over keep-alive connections to a loopback address.
// closedLoop: N clients, each sends its next request as soon as the previous answered (peak throughput).
// openLoop: requests are scheduled at a fixed rate whatever the answers do; a request's latency counts from
// the moment it was due, so a server that falls behind shows it (no coordinated omission).
import http from 'node:http';

export interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Sample {
  status: number;
  /** Milliseconds from send (closed loop) or from the scheduled time (open loop) to the full answer. */
  ms: number;
}

export interface LoadResult {
  samples: Sample[];
  /** Requests that failed without an HTTP answer (connection errors, timeouts). */
  errors: number;
  firstError?: string;
  elapsedMs: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

function send(agent: http.Agent, base: URL, req: Request): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = http.request({ agent, host: base.hostname, port: base.port, method: req.method, path: req.path, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

export async function closedLoop(opts: {
  url: string;
  clients: number;
  durationMs: number;
  request: (client: number, seq: number) => Request;
}): Promise<LoadResult> {
  const base = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.clients });
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + opts.durationMs;
  const client = async (c: number) => {
    for (let seq = 0; performance.now() < end; seq++) {
      const t = performance.now();
      try {
        const status = await send(agent, base, opts.request(c, seq));
        samples.push({ status, ms: performance.now() - t });
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        // A refused connection answers at once: do not spin through the rest of the run.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => client(c)));
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return { samples, errors, firstError, elapsedMs };
}

export async function openLoop(opts: {
  url: string;
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Connections (requests in flight) at most; a request due while all are busy waits, and that wait counts. */
  maxInFlight: number;
  request: (seq: number) => Request;
}): Promise<LoadResult> {
  const base = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000));
  const interval = 1000 / opts.rate;
  const samples: Sample[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  let inFlight = 0;
  let done = 0;
  const start = performance.now();
  // Bounded: whatever has not been sent 30 s after the schedule ended is abandoned (and counted as errors).
  const hardEnd = start + opts.durationMs + 30_000;

  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finishIfDone = () => {
      if (done >= total) {
        if (timer) clearTimeout(timer);
        resolve();
      }
    };
    const pump = () => {
      timer = undefined;
      const now = performance.now();
      if (now > hardEnd) {
        errors += total - next;
        firstError ??= 'the server fell more than 30 s behind the schedule';
        done += total - next;
        next = total;
        finishIfDone();
        return;
      }
      while (next < total && inFlight < opts.maxInFlight && start + next * interval <= now) {
        const seq = next++;
        const due = start + seq * interval;
        inFlight++;
        send(agent, base, opts.request(seq)).then(
          (status) => samples.push({ status, ms: performance.now() - due }),
          (err) => { errors++; firstError ??= (err as Error).message; },
        ).finally(() => {
          inFlight--;
          done++;
          finishIfDone();
          if (!timer && next < total) timer = setTimeout(pump, 0);
        });
      }
      // All connections busy: the next completion pumps again. Otherwise sleep until the next request is due.
      if (next < total && !timer && inFlight < opts.maxInFlight) timer = setTimeout(pump, Math.max(0, start + next * interval - performance.now()));
    };
    pump();
  });
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return { samples, errors, firstError, elapsedMs };
}

export function countBy(samples: Sample[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of samples) out[s.status] = (out[s.status] ?? 0) + 1;
  return out;
}
