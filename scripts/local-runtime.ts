// npm start: the whole bundle on one machine, wired from knative/. Embedded PGlite and an in-process bus
// unless DATABASE_URL / KAFKA_BROKERS say otherwise. Migrates the database and seeds demo data first.
// Tracing starts first of all (before http, pg and kafkajs load): recent traces are served at /traces.
import { laptopTracing } from './lib/laptop/tracing';
import { branchDay } from '../functions/booking-queue/calendar';
import { Bundle } from './lib/runtime/bundle';
import { checkManifests } from './lib/manifest-checks';
import { closeDb } from '../functions/shared/db';
import { closeBus } from '../functions/shared/bus';
import { kafkaBrokers } from '../functions/shared/kafka';
import { closeEmbeddedDatabase, embeddedDataDir, usingEmbeddedDatabase } from './lib/laptop/embedded-db';
import { prepareDatabase } from './lib/laptop/prepare';
import { demoCatalogue, demoCustomers, demoPoisonEvent, wantsDemoPoisonEvent } from './lib/seed';
import { signToken } from '../functions/shared/auth';
import { logger } from '../functions/shared/log';
import { startCatcher, CAUGHT_PATH } from './lib/laptop/providers/catcher';

// The demo branches' days (their timezone), for the example availability call.
const localDay = (plus: number) => branchDay(new Date(Date.now() + plus * 86_400_000), 'Asia/Ho_Chi_Minh');

async function main() {
  // A broken manifest stops the start with its file and field, as it would fail in the cluster.
  const { findings } = await checkManifests();
  if (findings.length) {
    for (const f of findings) console.error(`✗ ${f.file}: ${f.field}: ${f.message}`);
    throw new Error(`${findings.length} problem(s) in knative/ or keda/ (npm run manifests:check)`);
  }
  const port = Number(process.env.PORT ?? 8080);
  const embedded = usingEmbeddedDatabase();
  const { applied, seededSlots } = await prepareDatabase();
  if (applied.length) logger.info({ applied }, 'migrations applied');
  if (seededSlots !== undefined) logger.info({ slots: seededSlots }, 'demo branches, services and slots created');

  // Every email, SMS and push is caught on this machine (unless SMTP_URL / SMS_API_URL name real providers).
  const catcher = await startCatcher();
  const bundle = await new Bundle({ port, localPages: { [CAUGHT_PATH]: catcher.serve } }).start();
  const poisoned = await putDemoPoisonEvent(bundle);
  await putDemoRecords(bundle);
  const patient = signToken({ sub: 'patient-demo', role: 'patient', exp: Math.floor(Date.now() / 1000) + 30 * 86400 });
  const staff = signToken({ sub: 'staff-demo', role: 'staff', branchId: 'hcm-d1', exp: Math.floor(Date.now() / 1000) + 30 * 86400 });
  const operator = signToken({ sub: 'ops-demo', role: 'staff', grants: ['operator', 'phi'], exp: Math.floor(Date.now() / 1000) + 30 * 86400 });
  const admin = signToken({ sub: 'admin-demo', role: 'staff', branchId: 'hcm-d1', grants: ['admin'], exp: Math.floor(Date.now() / 1000) + 30 * 86400 });
  const clinician = signToken({ sub: 'dr-demo', role: 'staff', grants: ['clinician', 'phi'], exp: Math.floor(Date.now() / 1000) + 30 * 86400 });
  const u = bundle.url;
  process.stdout.write(`
Patient portal bundle is up: ${bundle.functions.length} functions, ${bundle.manifests.kafkaSources.length} KafkaSource(s), ${bundle.manifests.pingSources.length} PingSource(s)
  database  ${embedded ? `embedded PGlite (${embeddedDataDir()})` : 'PostgreSQL at DATABASE_URL'}
  events    ${kafkaBrokers() ? `Kafka at ${kafkaBrokers()!.join(',')}` : 'in-process bus (set KAFKA_BROKERS for Kafka)'}

  functions ${u}/            (JSON: ${u}/functions)
  API       ${u}/openapi.json
  health    ${u}/health
  traces    ${laptopTracing ? `${u}/traces     (every trace sampled; OTEL_SDK_DISABLED=true turns tracing off)` : 'off (OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none)'}
  metrics   ${u}/functions/<name>/metrics

Dev tokens (30 days; mint more with npm run token):
  export PATIENT=${patient}
  export STAFF=${staff}
  export OPERATOR=${operator}    # staff with the operator and phi grants: the dead-letter console and API
  export ADMIN=${admin}    # staff of hcm-d1 with the admin grant: clinic resources, schedules, visit types
  export CLINICIAN=${clinician}    # staff with the clinician and phi grants: lab results, held results released, critical values called

Dead-letter console: ${u}/dead-letters   (sign in with $OPERATOR${poisoned ? '; a demo poison event is in it' : ''})
Caught notifications: ${u}${CAUGHT_PATH}   (every email, SMS and push each patient would have received, with statuses; nothing leaves this machine${catcher.smtp && catcher.sms ? '' : ' but what SMTP_URL / SMS_API_URL send'})

Try:
  curl -s ${u}/api/recommendations -H "authorization: Bearer $PATIENT"
  curl -s '${u}/api/availability?branchId=hcm-d1&from=${localDay(0)}&to=${localDay(1)}'
  curl -s -X POST ${u}/api/bookings -H "authorization: Bearer $PATIENT" -H 'content-type: application/json' -d '{"slotId":"<slotId>"}'
  curl -s -X POST ${u}/api/queue/check-in -H "authorization: Bearer $PATIENT" -H 'content-type: application/json' -d '{"branchId":"hcm-d1","bookingId":"<bookingId>"}'
  curl -s '${u}/api/queue/board?branchId=hcm-d1'
  curl -s ${u}/api/dead-letters -H "authorization: Bearer $OPERATOR"
  curl -s '${u}/api/appointments/availability?visitTypeId=annual-checkup&branchId=hcm-d1&from=${localDay(1)}&limit=3' -H "authorization: Bearer $PATIENT"
  curl -s -X POST ${u}/api/appointments/hold -H "authorization: Bearer $PATIENT" -H 'content-type: application/json' -d '{"visitTypeId":"annual-checkup","branchId":"hcm-d1","start":"<start>"}'

`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await bundle.stop();
    await catcher.close();
    await closeBus();
    await closeDb();
    if (embedded) await closeEmbeddedDatabase();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * A fresh laptop's console is not empty: the demo poison event goes on booking-requests through the gateway,
 * as any producer's record would, and the booking consumer is woken at once (not at KEDA's next poll), so
 * the letter is in the console by the time the banner is read.
 */
async function putDemoPoisonEvent(bundle: Bundle): Promise<boolean> {
  if (!(await wantsDemoPoisonEvent())) return false;
  const res = await fetch(`${bundle.url}/topics/booking-requests`, {
    method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(demoPoisonEvent),
  });
  if (res.status !== 202) {
    logger.warn({ status: res.status }, 'the demo poison event could not be put on booking-requests');
    return false;
  }
  await bundle.pollScalers();
  return true;
}

/**
 * The demo patients, put on crm-customers as the CRM would, and the test catalogue on test-master-data as the
 * master data source would (SEED_DEMO=false: none).
 */
async function putDemoRecords(bundle: Bundle): Promise<void> {
  if (process.env.SEED_DEMO === 'false') return;
  for (const [topic, events] of [['crm-customers', demoCustomers], ['test-master-data', demoCatalogue]] as const) {
    for (const event of events) {
      const res = await fetch(`${bundle.url}/topics/${topic}`, {
        method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(event),
      });
      if (res.status !== 202) logger.warn({ status: res.status, topic }, 'a demo record could not be put on its topic');
    }
  }
  // Their consumers are woken at once (not at KEDA's next poll): the walkthroughs need the contacts and packages.
  await bundle.pollScalers();
}

main().catch((err) => {
  logger.error({ err }, 'the bundle could not start');
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
