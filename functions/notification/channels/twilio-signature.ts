// Twilio's request signature (X-Twilio-Signature): HMAC-SHA1, keyed by the account's auth token, of the full
// URL the provider posted to followed by every POST parameter's name and value, sorted by name; base64.
// The callback route checks it; the laptop's SMS stand-in signs with it.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-twilio-signature';

export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]>): string {
  const data = Object.keys(params).sort().reduce((acc, key) => {
    const value = params[key];
    return acc + (Array.isArray(value) ? [...value].sort().map((v) => key + v).join('') : key + value);
  }, url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function validTwilioSignature(authToken: string, url: string, params: Record<string, string | string[]>, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(twilioSignature(authToken, url, params));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
