// The Web Push content-encoding library web-push itself uses (no types of its own): decrypt is what the
// laptop's push stand-in needs.
declare module 'http_ece' {
  import type { ECDH } from 'node:crypto';
  export function decrypt(buffer: Buffer, params: { version: 'aes128gcm' | 'aesgcm'; privateKey: ECDH; authSecret: Buffer | string; dh?: string }): Buffer;
}
