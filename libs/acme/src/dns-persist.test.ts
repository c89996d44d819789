// dns-persist-01 in the order flow, against a CA scripted in memory: which challenge is answered, what is asked of the
// DCV method (a standing record, proved before the CA is told, never removed), and the fall back to dns-01.
import { describe, expect, it } from 'vitest';
import { createBus, type Challenge, type DcvMethod, type LifecycleEvents, type NameVerdict, type Published } from '@certsmith/core';
import type { AcmeChallenge, AcmeClient, Authorization, Order } from './client.js';
import { AccountKey } from './jws.js';
import { driveOrder, type ChallengeType } from './order-flow.js';
import { fakeOrder } from '../testing/fake-order.js';
import { AcmeError } from './problem.js';

const ACCOUNT = 'https://ca.test/acct/7';

/** A CA whose authorizations offer `offered` challenges; every answered one is valid at the next look. */
function scriptedCa(names: string[], offered: (name: string) => AcmeChallenge[], wildcard = false) {
  const responded: string[] = [];
  let finalized = false;
  const order = (status: Order['status']): Order => fakeOrder('https://ca.test/order/1', names, status);
  const client = {
    accountUrl: ACCOUNT,
    getAuthorization: async (url: string): Promise<Authorization> => {
      const name = url.split('/').pop()!;
      return { url, status: 'pending', identifier: { type: 'dns', value: name }, challenges: offered(name), ...(wildcard ? { wildcard } : {}) };
    },
    respond: async (challenge: AcmeChallenge) => {
      responded.push(challenge.url);
      return { ...challenge, status: 'processing' as const };
    },
    getOrder: async () => (finalized ? order('valid') : order(responded.length === names.length ? 'ready' : 'pending')),
    finalize: async () => {
      finalized = true;
      return order('valid');
    },
    certificate: async () => ({ pems: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----'], url: 'https://ca.test/cert/1', topIssuer: null }),
  };
  return { client: client as unknown as AcmeClient, start: order('pending'), responded };
}

/** A DCV method in memory: what it was asked to publish, check and clean up; a standing record may already stand. */
function memoryDcv(options: { stands?: boolean; verdict?: Partial<NameVerdict> } = {}) {
  const log: string[] = [];
  const published: Challenge[] = [];
  const method: DcvMethod = {
    id: 'memory-dns',
    answers: ['dns-txt', 'dns-persist'],
    publish: async (challenge): Promise<Published> => {
      published.push(challenge);
      log.push(`publish ${challenge.kind}`);
      return { method: 'memory-dns', challenge, where: 'memory', handle: null, ...(options.stands ? { kept: true } : {}) };
    },
    check: async (p) => {
      log.push(`check ${p.challenge.kind}`);
      return { name: p.challenge.name, ok: true, ...options.verdict };
    },
    cleanup: async (p) => {
      log.push(`cleanup ${p.challenge.kind}`);
    },
  };
  return { method, log, published };
}

/** null: a challenge without issuer-domain-names. */
const persist = (name: string, idns: string[] | null = ['ca.test', 'other-name.ca.test']): AcmeChallenge => ({
  type: 'dns-persist-01',
  url: `https://ca.test/chall/persist/${name}`,
  status: 'pending',
  ...(idns ? { 'issuer-domain-names': idns } : {}),
});
const dns01 = (name: string): AcmeChallenge => ({ type: 'dns-01', url: `https://ca.test/chall/dns/${name}`, status: 'pending', token: `t-${name}` });

async function drive(
  ca: ReturnType<typeof scriptedCa>,
  dcv: DcvMethod,
  challengeTypes: ChallengeType[] = ['dns-persist-01', 'dns-01'],
  issuerDomainNames?: string[],
) {
  const bus = createBus();
  const created: LifecycleEvents['dcv-created'][] = [];
  bus.on('dcv-created', (e) => created.push(e));
  const outcome = await driveOrder(
    ca.start,
    new Uint8Array([1]),
    {
      client: ca.client,
      accountKey: await AccountKey.generate(),
      dcv: [dcv],
      target: { id: 't', names: ['a.test'], services: [], kind: 'hostname' },
      bus,
      signal: new AbortController().signal,
      timing: { now: () => 0, sleep: async () => undefined },
    },
    { challengeTypes, maxWaitMs: 60_000, issuerDomainNames },
  );
  return { outcome, created };
}

describe('dns-persist-01 in the order flow', () => {
  it("answers it when the CA offers it: the standing record names the CA's first issuer domain name and the account, is proved, then told, never removed", async () => {
    const ca = scriptedCa(['a.test'], (n) => [dns01(n), persist(n)]);
    const dcv = memoryDcv();
    const { outcome, created } = await drive(ca, dcv.method);
    expect(outcome.status).toBe('issued');
    expect(dcv.published).toEqual([
      { kind: 'dns-persist', name: 'a.test', owner: '_validation-persist.a.test', issuerDomainName: 'ca.test', accountUri: ACCOUNT, wildcard: false },
    ]);
    expect(dcv.log).toEqual(['publish dns-persist', 'check dns-persist']);
    expect(ca.responded).toEqual(['https://ca.test/chall/persist/a.test']);
    expect(created).toHaveLength(1);
  });

  it('says nothing was created when the record already stood, and covers a wildcard with the base name and policy=wildcard', async () => {
    const ca = scriptedCa(['a.test'], (n) => [persist(n, null)], true);
    // An early draft's single issuer-domain-name is read too.
    const offered = scriptedCa(['a.test'], (n) => [{ ...persist(n, null), 'issuer-domain-name': 'ca.test' }], true);
    const dcv = memoryDcv({ stands: true });
    // No issuer domain name at all: the type is passed over, and nothing else is offered.
    await expect(drive(ca, dcv.method, ['dns-persist-01'])).rejects.toMatchObject({ code: 'ACME_NO_DCV_METHOD' });
    const { outcome, created } = await drive(offered, dcv.method, ['dns-persist-01']);
    expect(outcome.status).toBe('issued');
    expect(dcv.published).toEqual([
      { kind: 'dns-persist', name: '*.a.test', owner: '_validation-persist.a.test', issuerDomainName: 'ca.test', accountUri: ACCOUNT, wildcard: true },
    ]);
    expect(created).toEqual([]);
  });

  it('names the issuer domain name the issuer knows (its CAA identities) when the CA offers several', async () => {
    const ca = scriptedCa(['a.test'], (n) => [persist(n)]);
    const dcv = memoryDcv();
    await drive(ca, dcv.method, ['dns-persist-01'], ['Other-Name.CA.test']);
    expect(dcv.published).toMatchObject([{ kind: 'dns-persist', issuerDomainName: 'other-name.ca.test' }]);
  });

  it('falls back to dns-01 where the CA does not offer it', async () => {
    const ca = scriptedCa(['a.test'], (n) => [dns01(n)]);
    const dcv = memoryDcv();
    const { outcome } = await drive(ca, dcv.method);
    expect(outcome.status).toBe('issued');
    expect(dcv.published.map((c) => c.kind)).toEqual(['dns-txt']);
    expect(dcv.log).toEqual(['publish dns-txt', 'cleanup dns-txt']);
    expect(ca.responded).toEqual(['https://ca.test/chall/dns/a.test']);
  });

  it('does not tell the CA when the record is not served everywhere, and says why with the check code', async () => {
    const ca = scriptedCa(['a.test'], (n) => [persist(n)]);
    const dcv = memoryDcv({ verdict: { ok: false, code: 'DNS_DCV_NOT_SEEN', reason: 'ns2 serves no TXT record yet' } });
    const error = await drive(ca, dcv.method).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DNS_DCV_NOT_SEEN', message: 'ns2 serves no TXT record yet' });
    expect(error).not.toBeInstanceOf(AcmeError);
    expect(ca.responded).toEqual([]);
  });
});
