// The local DCV of an issuer whose CA validates against a standing record: read first, a probe only when the record
// still has to be published, the read's warnings carried, another account's record fatal for the name.
import { describe, expect, it } from 'vitest';
import { completeConfig } from '../config/config.js';
import type { DcvMethod, Issuer, NameVerdict, Published, StandingRecord } from '../contracts.js';
import { dcvCheckOptionsOf } from '../dcv-check-options.js';
import { createBus, type LifecycleEvents } from '../events.js';
import { Pipeline } from '../pipeline.js';
import { RunReportCollector } from '../report.js';
import type { PipelineDeps } from './run-context.js';

const target = { id: 'hostname', names: ['a.test', 'b.test', 'c.test'], services: [], kind: 'hostname' as const };
const standing: StandingRecord = { issuerDomainNames: ['ca.test'], accountUri: 'https://ca.test/acct/1' };

/** A DNS method whose read-only check says, per name, what its standing record is. */
function method(reads: Record<string, Omit<NameVerdict, 'name'>>) {
  const published: string[] = [];
  const dcv: DcvMethod = {
    id: 'dns-memory',
    answers: ['probe', 'dns-txt'],
    publish: async (challenge): Promise<Published> => {
      published.push(challenge.name);
      return { method: 'dns-memory', challenge, where: 'memory', handle: null };
    },
    check: async (p) => ({ name: p.challenge.name, ok: true }),
    cleanup: async () => undefined,
    precheck: async (name, _target, _signal, options) => ({ name, ...(options?.standing ? reads[name]! : { ok: true }) }),
  };
  return { dcv, published };
}

function pipelineWith(dcv: DcvMethod) {
  const bus = createBus();
  const validated: LifecycleEvents['validated'][] = [];
  bus.on('validated', (e) => validated.push(e));
  const config = completeConfig({ hostname: 'a.test', profile: 'dnsonly' }, '/etc/certsmith/config.json');
  const deps = { config, bus, report: new RunReportCollector(bus), dcv: [dcv], issuers: [], installers: [], clock: { now: () => new Date() } };
  return { pipeline: new Pipeline(deps as unknown as PipelineDeps), validated };
}

describe('local DCV against a standing record', () => {
  it('publishes no probe for a name whose record stands, one for a name whose record is still to come (its warning kept), and drops one another account holds', async () => {
    const { dcv, published } = method({
      'a.test': { ok: true, reason: 'the standing record binds the account' },
      'b.test': { ok: true, warnings: [{ code: 'DNS_PERSIST_MISSING', message: 'no standing record yet' }] },
      'c.test': { ok: false, code: 'DNS_PERSIST_OTHER_ACCOUNT', reason: 'bound to another account' },
    });
    const { pipeline, validated } = pipelineWith(dcv);
    const passed = await pipeline.localDcv(target, target.names, 'dns', AbortSignal.timeout(5_000), { standing });
    expect(passed).toEqual(['a.test', 'b.test']);
    expect(published).toEqual(['b.test']);
    const by = (name: string) => validated.find((v) => v.name === name);
    expect(by('a.test')).toMatchObject({ ok: true, reason: 'the standing record binds the account' });
    expect(by('b.test')).toMatchObject({ ok: true, warnings: [{ code: 'DNS_PERSIST_MISSING', message: 'no standing record yet' }] });
    expect(by('c.test')).toMatchObject({ ok: false, code: 'DNS_PERSIST_OTHER_ACCOUNT' });
  });

  it('without a standing record to prove, probes every name as before', async () => {
    const { dcv, published } = method({});
    const { pipeline } = pipelineWith(dcv);
    expect(await pipeline.localDcv(target, target.names, 'dns', AbortSignal.timeout(5_000), {})).toEqual(target.names);
    expect(published.sort()).toEqual(target.names);
  });

  it('takes whom the record must name from an issuer that validates that way, and only the address preference from others', async () => {
    const plain = { id: 'x', trusted: true, precheck: 'dns', issuerPatterns: [], addressPreference: 'first' } as unknown as Issuer;
    expect(await dcvCheckOptionsOf(plain, '/nowhere')).toEqual({ addressPreference: 'first' });
    const persisting = { ...plain, standingRecord: async (dir: string) => (dir === '/state' ? standing : null) } as unknown as Issuer;
    expect(await dcvCheckOptionsOf(persisting, '/state')).toEqual({ addressPreference: 'first', standing });
    expect(await dcvCheckOptionsOf(persisting, '/other')).toEqual({ addressPreference: 'first' });
  });
});
