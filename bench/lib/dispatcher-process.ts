// The KafkaSources' dispatcher in a process of its own, as Knative runs it (one kafka-source-dispatcher
// deployment for every KafkaSource, never inside a function or beside the providers): the bench process keeps
// the stand-ins and the reference, so the providers answer the pipeline from an event loop as free as the
// reference's. startDispatcherProcess() spawns this file; it runs a KafkaDispatcher per binding and reports
// their counts to the parent over IPC whenever they change.
import { fork, type ChildProcess } from 'node:child_process';
import { KafkaDispatcher, type SourceBinding } from '../../scripts/lib/runtime/dispatcher';
import { shortFetchWait } from './kafka-fetch-wait';
import { track } from './procs';

type Counts = KafkaDispatcher['counts'];
type Start = { op: 'start'; bindings: Record<string, Omit<SourceBinding, 'log'>>; brokers: string[] };
type Reply = { op: 'started'; joinedMs: Record<string, number> } | { op: 'counts'; counts: Record<string, Counts> } | { op: 'failed'; error: string };

/** A dispatcher in the child, as the bench sees it: its counts, kept current by the child. */
export interface RemoteDispatcher { readonly counts: Counts }

export interface DispatcherProcess {
  dispatchers: Record<string, RemoteDispatcher>;
  /** How long each group took to join. */
  joinedMs: Record<string, number>;
  pid: number;
  stop(): Promise<void>;
}

export async function startDispatcherProcess(bindings: Record<string, Omit<SourceBinding, 'log'>>, brokers: string[]): Promise<DispatcherProcess> {
  const child: ChildProcess = track(fork(__filename, [], { execArgv: ['--require', 'tsx/cjs'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const counts: Record<string, Counts> = Object.fromEntries(Object.keys(bindings).map((k) => [k, { delivered: 0, 'dead-lettered': 0, dropped: 0, lost: 0, interrupted: 0 }]));
  const started = new Promise<Record<string, number>>((resolve, reject) => {
    child.on('message', (m: Reply) => {
      if (m.op === 'counts') Object.assign(counts, m.counts);
      else if (m.op === 'started') resolve(m.joinedMs);
      else reject(new Error(`the dispatcher process failed: ${m.error}`));
    });
    child.once('exit', (code) => reject(new Error(`the dispatcher process exited (${code}) before its groups joined`)));
  });
  child.send({ op: 'start', bindings, brokers } satisfies Start);
  const joinedMs = await started;
  return {
    dispatchers: Object.fromEntries(Object.keys(bindings).map((k) => [k, { get counts() { return counts[k]; } }])),
    joinedMs,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ op: 'stop' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

// ---------- the child ----------
if (require.main === module) {
  const running: Record<string, KafkaDispatcher> = {};
  let last = '';
  const report = () => {
    const now = Object.fromEntries(Object.entries(running).map(([k, d]) => [k, { ...d.counts }]));
    const text = JSON.stringify(now);
    if (text !== last && process.connected) {
      last = text;
      process.send!({ op: 'counts', counts: now } satisfies Reply);
    }
  };
  const ticker = setInterval(report, 5);
  process.on('message', async (m: Start | { op: 'stop' }) => {
    if (m.op === 'start') {
      try {
        shortFetchWait();
        const joinedMs: Record<string, number> = {};
        for (const [k, b] of Object.entries(m.bindings)) {
          const d = new KafkaDispatcher(b, m.brokers);
          running[k] = d;
          const t = Date.now();
          await d.setReplicas(Math.max(1, b.source.consumers));
          joinedMs[k] = Date.now() - t;
        }
        process.send!({ op: 'started', joinedMs } satisfies Reply);
      } catch (err) {
        process.send!({ op: 'failed', error: err instanceof Error ? err.message : String(err) } satisfies Reply);
      }
    } else {
      clearInterval(ticker);
      report();
      await Promise.allSettled(Object.values(running).map((d) => d.stop()));
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
