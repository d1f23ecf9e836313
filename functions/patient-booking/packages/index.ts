// The catalogue a patient books from: every package on offer whose tests are all on offer, with its tests
// (LOINC code, unit, reference range), its price and the booking queue service whose slots take it. Public,
// as the branches and their free places are: a visitor compares packages before signing in.
import { route, ok } from '../../shared/http';
import { bookablePackages } from '../catalogue';
import { system } from '../system';
import { query, view } from './schema';
export { init, shutdown } from '../../shared/lifecycle';

export const handle = route(
  {
    name: 'packages', system, method: 'GET', path: '/api/packages',
    summary: 'The bookable test packages, with their tests and prices', auth: 'public', query,
    responses: { 200: { description: 'the bookable packages by name (none withdrawn, none holding a withdrawn test)', schema: view } },
  },
  async ({ query, db }) => {
    const packages = (await bookablePackages(db)).filter((p) =>
      (!query.test || p.tests.some((t) => t.code === query.test || t.loinc === query.test)) &&
      (!query.sex || !p.sex || p.sex === query.sex) &&
      (query.age === undefined || ((p.minAge === null || query.age >= p.minAge) && (p.maxAge === null || query.age <= p.maxAge))));
    return ok({
      packages: packages.map((p) => ({
        code: p.code, name: p.name, description: p.description, priceVnd: p.priceVnd, serviceId: p.serviceId,
        sex: p.sex, minAge: p.minAge, maxAge: p.maxAge, tests: p.tests,
      })),
    });
  },
);
