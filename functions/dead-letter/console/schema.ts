// What dead-letter-console accepts: nothing but which of its own files to send (the page by default).
export const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    asset: { type: 'string', enum: ['app.js', 'app.css', 'icon.svg'], description: "the page's script, style sheet or icon (default: the page)" },
  },
} as const;
