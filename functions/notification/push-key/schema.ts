// What notification-push-key answers: the VAPID public key a browser subscribes with (applicationServerKey).
export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['publicKey'],
  properties: {
    /** The uncompressed P-256 point, base64url (what PushManager.subscribe takes as applicationServerKey). */
    publicKey: { type: 'string' },
  },
} as const;
