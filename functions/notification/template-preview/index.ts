// Staff (and systems that send notification requests) see what a template says with given variables, in
// Vietnamese or English, exactly as a patient would read it: the same render() the sender uses, so a missing
// variable is refused here as it would be there. Needs no database.
import { route, ok } from '../../shared/http';
import { DomainError } from '../../shared/domain-errors';
import { invalid } from '../../shared/errors';
import { render, templateOf, variablesOf, type Variables } from '../templates';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

function variablesFrom(text: string): Variables {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid([{ name: 'query/variables', reason: 'is not JSON' }]);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid([{ name: 'query/variables', reason: 'must be a JSON object' }]);
  const wrong = Object.entries(parsed).filter(([, v]) => !['string', 'number', 'boolean'].includes(typeof v)).map(([k]) => k);
  if (wrong.length) throw invalid(wrong.map((k) => ({ name: `query/variables/${k}`, reason: 'must be a string, number or boolean' })));
  return parsed as Variables;
}

export const handle = route(
  {
    name: 'notification-template-preview', system, method: 'GET', path: '/api/notifications/templates/preview',
    summary: 'A template rendered with given variables, as the patient would read it', auth: ['staff', 'service'], query, database: false,
    responses: { 200: { description: 'the rendered title, body and link', schema: view } },
    refuses: { 'not-found': 'no such template', invalid: 'variables that are not a JSON object; a variable the template needs and was not given' },
  },
  async ({ query }) => {
    const template = templateOf(query.template);
    const variables = variablesFrom(query.variables);
    let message;
    try {
      message = render(query.template, query.language, variables);
    } catch (err) {
      // render() names the missing variable as variables/<name>: here it came in the query.
      if (err instanceof DomainError && err.refusal === 'invalid') throw invalid([{ name: `query/${err.field}`, reason: err.message }]);
      throw err;
    }
    return ok({
      template: query.template, category: template.category, critical: !!template.critical, language: message.language,
      variables: variablesOf(query.template), title: message.title, body: message.body, link: message.link ?? null,
    });
  },
);
