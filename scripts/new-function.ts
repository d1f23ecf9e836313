// npm run new -- <system>/<name> --kind route|consumer|job [options]
//   route:    --method GET|POST (GET)  --path /api/<name>  --auth public|patient,staff,service (staff,service)
//   consumer: --topic <topic> --event <CloudEvent type the system declares>
//   job:      --schedule "<cron>" ("*/5 * * * *")
// Scaffolds a function that passes every check: its folder (index.ts, schema.ts, func.yaml, index.test.ts),
// its Service in knative/base/<system>/ (with its KafkaSource or PingSource, or a rule in the system's
// HTTPRoute), and the line in the system's kustomization. The system must exist (functions/<system>/system.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { scaffold, type Kind } from './lib/scaffold';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(): number {
  const args = process.argv.slice(2);
  const target = args.find((a) => !a.startsWith('--') && !args[args.indexOf(a) - 1]?.startsWith('--'));
  const kind = option(args, 'kind') as Kind | undefined;
  if (!target || !/^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*$/.test(target) || !kind || !['route', 'consumer', 'job'].includes(kind)) {
    console.error('usage: npm run new -- <system>/<name> --kind route|consumer|job [--method GET|POST --path /api/x --auth staff,service | --topic t --event type | --schedule "cron"]');
    return 2;
  }
  const [system, name] = target.split('/');
  try {
    const files = scaffold(process.cwd(), {
      system, name, kind,
      method: (option(args, 'method')?.toUpperCase() ?? 'GET') as 'GET' | 'POST',
      path: option(args, 'path'), auth: option(args, 'auth'), topic: option(args, 'topic'), event: option(args, 'event'), schedule: option(args, 'schedule'),
    }, { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync });
    for (const f of files) console.log(`  ${f}`);
    console.log(`\n${kind} ${name} scaffolded in ${system}. Next: write the handler's story in functions/${system}/${name}/index.ts, then\n  npm run manifests:check && npm test -- functions/${system}/${name}/index.test.ts && npm run docs`);
    return 0;
  } catch (err) {
    console.error(`✗ ${(err as Error).message}`);
    return 2;
  }
}

process.exit(main());
