// Test-only: an ACME order object as a CA returns it, for tests that drive the order flow with a faked client.
import type { Order } from '../src/client.js';

/** The order at `url` for `names` in `status`: one authorization per name, its certificate once valid. */
export function fakeOrder(url: string, names: string[], status: Order['status']): Order {
  return {
    url,
    status,
    identifiers: names.map((value) => ({ type: 'dns', value })),
    authorizations: names.map((n) => `https://ca.test/authz/${n}`),
    finalize: 'https://ca.test/finalize/1',
    ...(status === 'valid' ? { certificate: 'https://ca.test/cert/1' } : {}),
  };
}
