import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import yaml from 'js-yaml';
import { ensureKubectl } from './services';
import path from 'node:path';
import { checkManifests, type Finding } from './manifest-checks';
import { ROOT } from './manifests';
import { copyManifests } from '../../test/support/manifests';

/** Findings of the checks (as manifests:check runs them, kustomize included) on a copy of knative/ and keda/ with edits applied (null deletes a file). */
async function findingsAfter(edits: Record<string, ((text: string) => string) | null>): Promise<Finding[]> {
  const copy = copyManifests(edits);
  try {
    return (await checkManifests({ dirs: copy.dirs, secretKeysFile: copy.secretKeysFile, kubectl: ensureKubectl() })).findings;
  } finally {
    copy.cleanup();
  }
}

const BOOK = 'knative/base/booking-queue/book-slot.yaml';
const CONSUMER = 'knative/base/booking-queue/booking-consumer.yaml';
const PUBLISHER = 'knative/base/booking-queue/outbox-publisher.yaml';
const INTAKE = 'knative/base/dead-letter/dead-letter-intake.yaml';
const ROUTES = 'knative/base/booking-queue/routes.yaml';
const SYSTEM = 'knative/base/booking-queue/kustomization.yaml';
const BASE = 'knative/base/kustomization.yaml';
const COMPONENT = 'knative/components/function/function.yaml';
const SCALED = 'keda/booking-consumer-source.yaml';
const PRIVATE = '    networking.knative.dev/visibility: cluster-local\n';

/** Two more rules for routes.yaml (its last rule again, at other paths). */
const moreRules = (t: string) => {
  const last = t.slice(t.lastIndexOf('    - matches:'));
  return t + last.replace('value: /api/queue/board', 'value: /api/queue/board-1') + last.replace('value: /api/queue/board', 'value: /api/queue/board-2');
};

const cases: Array<[string, Record<string, ((t: string) => string) | null>, RegExp]> = [
  ['a Service field of the wrong type fails the Knative Service schema', { [BOOK]: (t) => t.replace('containerConcurrency: 100', 'containerConcurrency: lots') }, /book-slot\.yaml: Service book-slot: schema: spec\.template\.spec\.containerConcurrency must be integer/],
  ['a KafkaSource initialOffset outside the CRD enum fails its schema', { [CONSUMER]: (t) => t.replace('initialOffset: earliest', 'initialOffset: middle') }, /booking-consumer\.yaml: KafkaSource booking-consumer-source: schema: spec\.initialOffset must be equal to one of the allowed values/],
  ['an unknown KafkaSource field fails its schema', { [CONSUMER]: (t) => t.replace('  consumers: 1', '  consumers: 1\n  replicas: 2') }, /schema: spec must NOT have additional properties \(replicas\)/],
  ['a ScaledObject lagThreshold written as a number fails the KEDA schema (metadata values are strings)', { [SCALED]: (t) => t.replace('lagThreshold: "20"', 'lagThreshold: 20') }, /ScaledObject booking-consumer-source: schema: spec\.triggers\.0\.metadata\.lagThreshold must be string/],
  ['a PingSource schedule of the wrong type fails its schema', { [PUBLISHER]: (t) => t.replace('schedule: "* * * * *"', 'schedule: 60') }, /PingSource booking-queue-outbox-publisher-ping: schema: spec\.schedule must be string/],
  ['an HTTPRoute path match of an unknown type fails the Gateway API schema', { [ROUTES]: (t) => t.replace('type: Exact', 'type: Glob') }, /HTTPRoute booking-queue-api: schema: spec\.rules\.0\.matches\.0\.path\.type must be equal to one of the allowed values/],
  ['a name that is not a DNS-1035 label is refused', { [BOOK]: (t) => t.replace('  name: book-slot\n', '  name: Book_Slot\n') }, /book-slot\.yaml: metadata\.name: "Book_Slot" must be a DNS-1035 label/],
  ['a name longer than 63 characters is refused', { [BOOK]: (t) => t.replace('  name: book-slot\n', `  name: ${'b'.repeat(64)}\n`) }, /metadata\.name: "b{64}" must be a DNS-1035 label .* of at most 63 characters/],
  ['a function without a Service is reported', { [BOOK]: null }, /function functions\/booking-queue\/book-slot has no Knative Service/],
  ['a Service whose function does not exist is reported', { [BOOK]: (t) => t.replace('medlab.io/function: functions/booking-queue/book-slot', 'medlab.io/function: functions/booking-queue/book-slots') }, /book-slot\.yaml: metadata\.annotations\.medlab\.io\/function: Service book-slot runs functions\/booking-queue\/book-slots, which has no index\.ts/],
  ['two Services for one function are reported', { 'knative/base/booking-queue/bookings.yaml': (t) => t.replace('functions/booking-queue/bookings', 'functions/booking-queue/book-slot') }, /functions\/booking-queue\/book-slot is run by 2 Services/],
  ['a KafkaSource sink that does not exist is reported', { [CONSUMER]: (t) => t.replace(/(  sink:\n    ref:\n      apiVersion: serving\.knative\.dev\/v1\n      kind: Service\n      name: )booking-consumer/, '$1ghost') }, /booking-consumer\.yaml: spec\.sink\.ref\.name: Service ghost does not exist/],
  ['a KafkaSource without a dead-letter sink is reported', { [CONSUMER]: (t) => t.replace(/    deadLetterSink:\n      ref:\n.*\n.*\n.*\n.*\n.*\n/, '') }, /spec\.delivery\.deadLetterSink: KafkaSource booking-consumer-source has no dead-letter sink/],
  ['a dead-letter sink other than the intake is reported', { [CONSUMER]: (t) => t.replace('name: dead-letter-intake', 'name: dead-letter-gone') }, /spec\.delivery\.deadLetterSink\.ref\.name: KafkaSource booking-consumer-source must dead-letter to Service dead-letter-intake/],
  ['a dead-letter sink that does not say which KafkaSource it is for is reported', { [CONSUMER]: (t) => t.replace('uri: /?kafkasource=booking-consumer-source', 'uri: /') }, /spec\.delivery\.deadLetterSink\.uri: must be "\/\?kafkasource=booking-consumer-source"/],
  ['a PingSource sink that does not exist is reported', { [PUBLISHER]: (t) => t.replace(/(      kind: Service\n      name: )booking-queue-outbox-publisher\n/, '$1outbox-sweeper\n') }, /outbox-publisher\.yaml: spec\.sink\.ref\.name: Service outbox-sweeper does not exist/],
  ['an HTTPRoute backend that does not exist is reported', { [ROUTES]: (t) => t.replace('        - name: book-slot\n', '        - name: book-a-slot\n') }, /spec\.rules \(\/api\/bookings\)\.backendRefs\[0\]\.name: Service book-a-slot does not exist/],
  ['an HTTPRoute path the function does not declare is reported', { [ROUTES]: (t) => t.replace('value: /api/queue/board', 'value: /api/board') }, /sends GET \/api\/board to queue-board, which declares GET \/api\/queue\/board/],
  ['a topic nobody produces and not declared external is reported', { [CONSUMER]: (t) => t.replace('    - booking-requests', '    - booking-requestz'), [SCALED]: (t) => t.replace('topic: booking-requests', 'topic: booking-requestz') }, /booking-consumer\.yaml: spec\.topics: no function produces topic booking-requestz and it is not declared external/],
  ['a ScaledObject aimed at a missing KafkaSource is reported', { [SCALED]: (t) => t.replace('    name: booking-consumer-source', '    name: booking-source') }, /spec\.scaleTargetRef\.name: KafkaSource booking-source does not exist/],
  ['a ScaledObject watching another consumer group is reported', { [SCALED]: (t) => t.replace('consumerGroup: booking-consumer', 'consumerGroup: bookings') }, /consumerGroup: bookings is not the consumer group of KafkaSource booking-consumer-source \(booking-consumer\)/],
  ['a ScaledObject watching another topic is reported', { [SCALED]: (t) => t.replace('topic: booking-requests', 'topic: booking-events') }, /metadata\.topic: booking-events is not a topic of KafkaSource booking-consumer-source/],
  ['minReplicaCount above maxReplicaCount is reported', { [SCALED]: (t) => t.replace('minReplicaCount: 0', 'minReplicaCount: 6') }, /spec\.minReplicaCount: 6 is above maxReplicaCount 4/],
  ['a Knative min-scale above max-scale is reported', { [BOOK]: (t) => t.replace('min-scale: "3"', 'min-scale: "30"') }, /book-slot\.yaml: spec\.template\.metadata\.annotations\.autoscaling\.knative\.dev\/min-scale: 30 is above max-scale 10/],
  ['an unknown autoscaling metric is reported', { [BOOK]: (t) => t.replace('autoscaling.knative.dev/metric: concurrency', 'autoscaling.knative.dev/metric: vibes') }, /metric: vibes is not one of concurrency, rps, cpu, memory/],
  ['a probe not on faas-js-runtime\'s health path is reported where it is set (the function component)', { [COMPONENT]: (t) => t.replace('path: /health/readiness', 'path: /ready') }, /knative\/components\/function\/function\.yaml: spec\.template\.spec\.containers\[0\]\.readinessProbe\.httpGet\.path: must be \/health\/readiness/],
  ['a function Prometheus would not scrape is reported where the annotation is set (the function component)', { [COMPONENT]: (t) => t.replace(/- op: add\n  path: \/spec\/template\/metadata\/annotations\/prometheus\.io~1scrape\n  value: "true"\n/, '') }, /knative\/components\/function\/function\.yaml: spec\.template\.metadata\.annotations\.prometheus\.io\/scrape: must be "true" so Prometheus scrapes .* is missing in Service book-slot/],
  ['metrics on another path than faas-js-runtime\'s are reported', { [COMPONENT]: (t) => t.replace('  value: /metrics', '  value: /stats') }, /function\.yaml: spec\.template\.metadata\.annotations\.prometheus\.io\/path: must be "\/metrics" .* is "\/stats"/],
  ['a Secret key nobody creates is reported in the function component', { [COMPONENT]: (t) => t.replace('key: database-url', 'key: db-url') }, /knative\/components\/function\/function\.yaml: spec\.template\.spec\.containers\[0\]\.env\[1\] \(DATABASE_URL\): Secret portal-secrets has no key db-url/],
  ['a ConfigMap key that is not in the ConfigMap is reported', { [COMPONENT]: (t) => t.replace('key: kafka-brokers', 'key: kafka-servers') }, /function\.yaml: .*\(KAFKA_BROKERS\): ConfigMap portal-config has no key kafka-servers/],
  ['a Service setting what the function component sets is reported (kustomize would replace it)', { [BOOK]: (t) => t.replace(/      containerConcurrency: \d+\n/, (line) => `${line}      timeoutSeconds: 6000\n`) }, /book-slot\.yaml: spec\.template\.spec\.timeoutSeconds: 6000 is replaced by \d+ when kustomize renders it \(.*knative\/components\/function\/function\.yaml sets it for every Service\)/],
  ['a Service env of its own is reported (the component\'s env replaces it)', { [BOOK]: (t) => t.replace('          image: patient-portal/book-slot\n', '          image: patient-portal/book-slot\n          env:\n            - name: BOOKING_HOLD\n              value: "5"\n') }, /book-slot\.yaml: spec\.template\.spec\.containers\[0\]\.env\[0\]: \{"name":"BOOKING_HOLD","value":"5"\} is replaced by \{"name":"NODE_ENV"/],
  ['a manifest left out of its system\'s kustomization is reported (the cluster would not get it)', { [SYSTEM]: (t) => t.replace('  - branches.yaml\n', '') }, /branches\.yaml: metadata\.name: Service branches is in no kustomization, so the cluster never gets it: list branches\.yaml in .*knative\/base\/booking-queue\/kustomization\.yaml/],
  ['a document kustomize renders that no file under knative/base declares is reported', { [BASE]: (t) => t.replace('  - dead-letter\n', '  - dead-letter\n  - ../../keda\n') }, /knative\/base\/kustomization\.yaml: resources: renders ScaledObject booking-consumer-source, which no YAML file under .*knative\/base declares/],
  ['a kustomization that does not render is reported', { [SYSTEM]: (t) => t.replace('  - branches.yaml\n', '  - branch.yaml\n') }, /knative\/base\/kustomization\.yaml: \(render\): .*booking-queue\/branch\.yaml: no such file/],
  ['an image other than the one deploy.sh builds is reported', { [BOOK]: (t) => t.replace('image: patient-portal/book-slot', 'image: patient-portal/booking') }, /book-slot\.yaml: spec\.template\.spec\.containers\[0\]\.image: patient-portal\/booking is not patient-portal\/book-slot/],
  ['a consumer Service that is not cluster-local is reported', { [CONSUMER]: (t) => t.replace(PRIVATE, '') }, /booking-consumer\.yaml: metadata\.labels\.networking\.knative\.dev\/visibility: consumer function booking-consumer is reached only through Knative eventing \(its KafkaSource\)/],
  ['a scheduled job Service that is public is reported', { [PUBLISHER]: (t) => t.replace('visibility: cluster-local', 'visibility: public') }, /outbox-publisher\.yaml: metadata\.labels\.networking\.knative\.dev\/visibility: scheduled function booking-queue-outbox-publisher is reached only through Knative eventing \(its PingSource\)/],
  ['a dead-letter intake that is not cluster-local is reported', { [INTAKE]: (t) => t.replace(PRIVATE, '') }, /dead-letter-intake\.yaml: metadata\.labels\.networking\.knative\.dev\/visibility: sink function dead-letter-intake is reached only through Knative eventing/],
  ['an HTTPRoute sending a path to a function that is not a route is reported', { [ROUTES]: (t) => t.replace('        - name: queue-board\n', '        - name: booking-consumer\n') }, /routes\.yaml: spec\.rules\[14\]\.backendRefs\[0\]\.name: sends GET \/api\/queue\/board to booking-consumer, a consumer function: only route functions are public/],
  ['a route without an OPTIONS match for the browser\'s preflight is reported', { [ROUTES]: (t) => t.replace(/        # the browser's CORS preflight for it\n        - path:\n            type: Exact\n            value: \/api\/queue\/board\n          method: OPTIONS\n          headers:\n            - name: access-control-request-method\n              value: GET\n/, '') }, /routes\.yaml: spec\.rules\[14\]\.matches \(GET \/api\/queue\/board\): no OPTIONS match sends the browser's preflight for GET \/api\/queue\/board to queue-board/],
  ['an HTTPRoute with more than 16 rules is reported', { [ROUTES]: moreRules }, /routes\.yaml: spec\.rules: HTTPRoute booking-queue-api has 17 rules; the Gateway API allows 16 per HTTPRoute/],
  ['a method and path sent to two functions is reported', { [ROUTES]: (t) => t.replace('value: /api/bookings/cancel', 'value: /api/bookings') }, /routes\.yaml: spec\.rules\[2\]\.matches \(POST \/api\/bookings\): is already sent to book-slot by HTTPRoute booking-queue-api/],
  ['a Service without the OTLP endpoint is reported in the function component (its traces would go nowhere)', { [COMPONENT]: (t) => t.replace(/    - name: OTEL_EXPORTER_OTLP_ENDPOINT\n(.*\n){4}/, '') }, /function\.yaml: spec\.template\.spec\.containers\[0\]\.env: Service book-slot has no OTEL_EXPORTER_OTLP_ENDPOINT/],
  ['an OTLP endpoint that is not the collector\'s Service is reported', { 'knative/base/config.yaml': (t) => t.replace('http://otel-collector:4318', 'http://otel-collectr:4318') }, /knative\/base\/config\.yaml: data\.otel-exporter-otlp-endpoint: http:\/\/otel-collectr:4318 is not a Service of .* on port 4318/],
  ['a collector Deployment field of the wrong type fails the Deployment schema', { 'knative/observability/otel-collector.yaml': (t) => t.replace('replicas: 2', 'replicas: two') }, /otel-collector\.yaml: Deployment otel-collector: schema: spec\.replicas must be integer/],
  ['broken YAML is reported with its file', { [SCALED]: (t) => t + '\n  oops: [unclosed\n' }, /booking-consumer-source\.yaml: \(yaml\)/],
];

describe('npm run manifests:check', function () {
  this.timeout(60_000);

  it('passes on the manifests as committed', async () => {
    const findings = await findingsAfter({});
    assert.deepEqual(findings, []);
  });

  for (const [title, edits, expected] of cases) {
    it(title, async () => {
      const findings = await findingsAfter(edits);
      const lines = findings.map((f) => `${f.file}: ${f.field}: ${f.message}`);
      assert.ok(lines.some((l) => expected.test(l)), `expected ${expected}, got:\n${lines.join('\n')}`);
    });
  }
});

describe('kustomize overlays and the deploy script', () => {
  it('every overlay renders offline with kubectl kustomize, with its own Kafka and namespace', async () => {
    const kubectl = ensureKubectl();
    const overlays = readdirSync(path.join(ROOT, 'knative', 'overlays'));
    assert.deepEqual(overlays.sort(), ['production', 'staging']);
    for (const o of overlays) {
      const r = spawnSync(kubectl, ['kustomize', path.join(ROOT, 'knative', 'overlays', o)], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /kind: ScaledObject/);
      assert.match(r.stdout, new RegExp(`kafka-${o === 'production' ? 'prod' : 'staging'}-bootstrap`));
      assert.doesNotMatch(r.stdout, /kafka-bootstrap\.kafka:9092/, `${o} still points at the base Kafka`);
      // The function component reaches the overlay's Services, and the overlay's ConfigMap has every key they read.
      const docs = yaml.loadAll(r.stdout) as any[];
      const config = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'portal-config').data;
      const services = docs.filter((d) => d.kind === 'Service' && d.apiVersion.startsWith('serving.knative.dev/'));
      assert.ok(services.length > 0);
      for (const s of services) {
        const env = s.spec.template.spec.containers[0].env as any[];
        assert.ok(env.some((e) => e.name === 'DATABASE_URL'), `${o}: ${s.metadata.name} has the component's env`);
        for (const e of env) if (e.valueFrom?.configMapKeyRef) assert.ok(e.valueFrom.configMapKeyRef.key in config, `${o}: portal-config has ${e.valueFrom.configMapKeyRef.key}`);
      }
      assert.ok(!docs.some((d) => JSON.stringify(d).includes('auth-jwt-secret')), `${o}: no HS256 token secret in production manifests`);
    }
  });

  it('deploy.sh creates exactly the Secret keys the manifests may reference', () => {
    const script = readFileSync(path.join(ROOT, 'scripts', 'deploy.sh'), 'utf8');
    const created = [...script.matchAll(/--from-literal=([a-z0-9-]+)=/g)].map((m) => m[1]).sort();
    const contract = Object.keys((yaml.load(readFileSync(path.join(ROOT, 'knative', 'secret-keys.yaml'), 'utf8')) as Record<string, object>)['portal-secrets']).sort();
    assert.deepEqual(created, contract);
  });
});
