// PingSource on a laptop: the schedule (and timezone) from the manifest, delivering the same
// dev.knative.sources.ping CloudEvent Knative sends.
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { CloudEvent } from 'cloudevents';
import type { PingSourceManifest } from '../manifests';
import { httpMessage } from './cloudevents';
import { logger } from '../../../functions/shared/log';

const log = logger.child({ component: 'ping-source' });

export function pingEvent(source: PingSourceManifest): CloudEvent<unknown> {
  let data: unknown = source.data;
  if (source.data && (source.contentType ?? 'application/json').includes('json')) {
    try { data = JSON.parse(source.data); } catch { /* keep as text */ }
  }
  return new CloudEvent<unknown>({
    id: randomUUID(),
    type: 'dev.knative.sources.ping',
    source: `/apis/v1/namespaces/${source.namespace}/pingsources/${source.name}`,
    datacontenttype: source.contentType ?? 'application/json',
    ...(data !== undefined ? { data } : {}),
  }, false);
}

export async function firePing(source: PingSourceManifest, sinkUrl: string): Promise<number | undefined> {
  const { headers, body } = httpMessage(pingEvent(source));
  try {
    const res = await fetch(sinkUrl, { method: 'POST', headers, body });
    const text = await res.text();
    const line = { source: source.name, status: res.status, body: text.slice(0, 300) };
    if (res.ok) log.debug(line, 'ping delivered');
    else log.warn(line, 'ping answered with an error');
    return res.status;
  } catch (err) {
    log.warn({ source: source.name, err: String(err) }, 'ping could not be delivered');
    return undefined;
  }
}

export function schedulePing(source: PingSourceManifest, sinkUrl: string): Cron {
  return new Cron(source.schedule, { timezone: source.timezone, protect: true }, async () => { await firePing(source, sinkUrl); });
}
