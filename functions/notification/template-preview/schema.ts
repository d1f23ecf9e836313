// What notification-template-preview accepts and answers: a template, a language and its variables as JSON.
import { id } from '../api-schemas';

export const query = {
  type: 'object',
  additionalProperties: false,
  required: ['template'],
  properties: {
    template: id,
    language: { enum: ['vi', 'en'], default: 'vi' },
    /** A JSON object of the template's variables (strings, numbers, booleans), e.g. {"localTime":"09:30"}. */
    variables: { type: 'string', maxLength: 4000, default: '{}' },
  },
} as const;

export const view = {
  type: 'object',
  additionalProperties: false,
  required: ['template', 'category', 'critical', 'language', 'variables', 'title', 'body', 'link'],
  properties: {
    template: { type: 'string' },
    category: { type: 'string' },
    critical: { type: 'boolean' },
    language: { enum: ['vi', 'en'] },
    /** The variables the template names (what a request must carry). */
    variables: { type: 'array', items: { type: 'string' } },
    title: { type: 'string' },
    body: { type: 'string' },
    link: { type: ['string', 'null'] },
  },
} as const;
