// Starts each function of the bundle under faas-js-runtime, on its own port, exactly as its container
// would start it (module exports handle/init/shutdown, func.yaml read from the function folder).
import path from 'node:path';
import { subscribe } from 'node:diagnostics_channel';
import { createServer, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { start } from 'faas-js-runtime';
import { ROOT, type ServiceManifest } from '../manifests';
import type { RouteSpec } from '../../../functions/shared/http';
import type { ConsumerSpec } from '../../../functions/shared/consume';
import type { ScheduledSpec } from '../../../functions/shared/scheduled';

export type FunctionKind = 'route' | 'consumer' | 'scheduled' | 'sink';

export interface HostedFunction {
  name: string;
  system: string;
  dir: string;
  kind: FunctionKind;
  /** Where faas-js-runtime listens for this function (the function URL inside the bundle). */
  url: string;
  route?: RouteSpec;
  consumer?: ConsumerSpec & { types: string[] };
  scheduled?: ScheduledSpec;
  service: ServiceManifest;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts a function module with faas-js-runtime's start(), as its CLI does, inside a process that hosts
 * more than this function. The runtime exits the process on signals and uncaught exceptions (right for
 * one container, wrong here: it would stop the other functions, and turn a crash inside a test run into
 * exit code 0), so its handlers are taken off again; the host shuts down in its own order.
 */
export async function startUnderRuntime(mod: Record<string, unknown>, options: { port?: number; logLevel?: string; config?: string; host?: string }): Promise<Server> {
  const signals = ['uncaughtException', 'SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as any))]));
  const { host, port, ...runtimeOptions } = options;
  // Without a port the system picks one as it binds (a port probed free and bound later can be taken by another
  // process in between, and faas-js-runtime exits the process when its listen fails). faas-js-runtime takes 0
  // as "the default", so a placeholder goes in and the listen hook below binds port 0 in its place.
  const key = port ?? nextPlaceholder++;
  listenPlans.set(key, { host, port: port ?? 0 });
  try {
    const server = (await start(mod as any, { logLevel: 'warn', ...runtimeOptions, port: key } as any)) as unknown as Server;
    for (const s of signals) for (const l of process.listeners(s as any)) if (!before.get(s)!.has(l)) process.off(s as any, l);
    return server;
  } finally {
    listenPlans.delete(key);
  }
}

/** The port a started function listens on. */
export const portOf = (server: Server) => (server.address() as AddressInfo).port;

/**
 * faas-js-runtime always listens on '::' (right in a container, where the pod network is the boundary). In
 * the bundle the gateway is the boundary, so a hosted function listens on the host asked for (loopback), and
 * on the port asked for or one the system picks; its listen is told apart from other Fastify instances by the
 * port (or placeholder) it was given.
 */
let nextPlaceholder = 100_000;
const listenPlans = new Map<number, { host?: string; port: number }>();
subscribe('fastify.initialization', (message: unknown) => {
  const fastify = (message as { fastify: { listen: (opts: { port?: number; host?: string }) => Promise<string> } }).fastify;
  const listen = fastify.listen.bind(fastify);
  fastify.listen = (opts) => {
    const plan = opts?.port !== undefined ? listenPlans.get(Number(opts.port)) : undefined;
    return listen(plan ? { ...opts, port: plan.port, ...(plan.host ? { host: plan.host } : {}) } : opts);
  };
});

export function loadFunctionModule(functionDir: string): Record<string, any> {
  const file = path.join(ROOT, functionDir, 'index.ts');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file);
}

export function kindOf(mod: Record<string, any>): { kind: FunctionKind; spec?: any } {
  const spec = mod.handle?.spec;
  if (spec?.method) return { kind: 'route', spec };
  if (spec?.types) return { kind: 'consumer', spec };
  if (spec?.schedule) return { kind: 'scheduled', spec };
  return { kind: 'sink' };
}

export async function hostFunction(service: ServiceManifest, logLevel = 'warn'): Promise<HostedFunction> {
  const mod = loadFunctionModule(service.functionDir);
  if (typeof mod.handle !== 'function') throw new Error(`${service.functionDir}/index.ts does not export handle (Service ${service.name})`);
  // Reached only through the gateway (and the KafkaSource/PingSource wiring), as inside a cluster.
  const server = await startUnderRuntime(mod, { logLevel, config: path.join(ROOT, service.functionDir), host: '127.0.0.1' });
  const port = portOf(server);
  const { kind, spec } = kindOf(mod);
  return {
    name: service.name,
    system: service.system,
    dir: service.functionDir,
    kind,
    url: `http://127.0.0.1:${port}`,
    route: kind === 'route' ? spec : undefined,
    consumer: kind === 'consumer' ? spec : undefined,
    scheduled: kind === 'scheduled' ? spec : undefined,
    service,
    close: () => closeWithin(server, CLOSE_GRACE_MS),
  };
}

/** How long a stopping function may finish what it is answering, as a pod's termination grace (shortened). */
const CLOSE_GRACE_MS = 5000;

/** Closes the server; requests still open after the grace are cut, so a stuck handler cannot hold a stop forever. */
function closeWithin(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    cut.unref();
    server.close(() => { clearTimeout(cut); resolve(); });
  });
}
