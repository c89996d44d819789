import type { KvEntry } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import type { Ask } from './fleet-connection.js';
import { readHosts } from './fleet-view.js';
import type { NatsClients } from './nats-clients.js';
import { checkedStatus } from './status-check.js';
import { OnceWarnings } from './warnings.js';

const service = {
  service: 'web',
  file: '/ssl/web.crt',
  certificate: { subject: '', issuer: 'CA', serial: '01', notBefore: '2026-11-01T00:00:00Z', notAfter: '2027-01-30T00:00:00Z', names: [], selfSigned: false },
  profile: null,
  daysLeft: 50,
  renewal: { due: false, rule: 'lifetime', dueAt: '2027-01-01T00:00:00Z', reason: 'a third of its lifetime left' },
  missingNames: [],
};
const pending = { issuer: 'le', order: 'https://ca.test/order/1', names: ['a.test'], createdAt: '2026-12-01T00:00:00Z', waitedSeconds: 60, heldBy: '' };
const failure = { code: 'ACME_RATE_LIMITED', message: 'too many', severity: 'error' };
const lastRun = { at: '2026-12-01T00:00:00Z', result: 'failed', actions: [], dropped: [], failures: [failure] };
const target = { target: 'shop', names: ['a.test'], services: [service], pending: [pending], lastRun };
const statusWith = (targets: unknown[]) => ({ hostname: 'web1', config: '/etc/certsmith.json', now: '2026-12-01T00:00:00Z', lastRun: null, targets });

describe('checkedStatus', () => {
  it('keeps a sound status as it is', () => {
    expect(checkedStatus(statusWith([target]))).toEqual({ status: statusWith([target]), leftOut: [] });
  });

  it('is null for what is not a status at all', () => {
    for (const value of [null, 'x', [], { hostname: 'h', now: 'n' }, { ...statusWith([]), targets: {} }, { ...statusWith([]), hostname: 1 }])
      expect(checkedStatus(value)).toBeNull();
  });

  it('leaves out the entries the view could not read, naming each, and keeps the rest of the host', () => {
    const checked = checkedStatus(
      statusWith([
        null,
        { target: 'no-arrays' },
        {
          ...target,
          services: [service, { ...service, certificate: { notAfter: 'soon', selfSigned: false } }, { ...service, renewal: null }, 7],
          pending: [null, {}, { ...pending, waitedSeconds: 'long' }, { ...pending, createdAt: 'yesterday' }, pending],
          lastRun: { ...lastRun, failures: [{}, failure, { code: 'X' }] },
        },
        { ...target, target: 'odd-run', lastRun: 'failed' },
      ]),
    );
    expect(checked?.leftOut).toEqual([
      'targets[0]',
      'targets[1]',
      'targets[2].services[1]',
      'targets[2].services[2]',
      'targets[2].services[3]',
      'targets[2].pending[0]',
      'targets[2].pending[1]',
      'targets[2].pending[2]',
      'targets[2].pending[3]',
      'targets[2].lastRun.failures[0]',
      'targets[2].lastRun.failures[2]',
      'targets[3].lastRun',
    ]);
    expect(checked?.status.targets).toEqual([
      { ...target, services: [service], pending: [pending], lastRun: { ...lastRun, failures: [failure] } },
      { ...target, target: 'odd-run', lastRun: null },
    ]);
  });
});

describe('readHosts', () => {
  it('says each key whose status had entries left out once, and hands on the time the server stored the report', async () => {
    const created = new Date('2026-12-01T00:00:05Z');
    const values: Record<string, unknown> = {
      web1: { host: 'web1', reportedAt: '2026-12-01T00:00:00Z', status: statusWith([target, { ...target, pending: [null] }]) },
      web2: { host: 'web2', reportedAt: '2026-12-01T00:00:00Z', status: statusWith([{ ...target, lastRun: { ...lastRun, failures: [{}] } }]) },
      web3: { host: 'web3', reportedAt: '2026-12-01T00:00:00Z', status: { targets: [] } },
      web4: { host: 'web4', reportedAt: '2026-12-01T00:00:00Z', status: statusWith([target]) },
    };
    const entryOf = (key: string) => ({ key, operation: 'PUT', revision: 1, created, string: () => JSON.stringify(values[key]) }) as unknown as KvEntry;
    const bucket = {
      keys: async () =>
        (async function* () {
          yield* Object.keys(values);
        })(),
      get: async (key: string) => (key in values ? entryOf(key) : null),
    };
    const ask: Ask = (call) => call({ bucket: async () => bucket } as unknown as NatsClients);
    const warnings = new OnceWarnings();
    const hosts = await readHosts(ask, 'b', warnings);
    expect(hosts.map((h) => [h.host, h.receivedAt, h.status.targets.length])).toEqual([
      ['web1', created.toISOString(), 2],
      ['web2', created.toISOString(), 1],
      ['web4', created.toISOString(), 1],
    ]);
    expect(hosts[0]!.status.targets[1]!.pending).toEqual([]);
    expect(warnings.take()).toEqual([
      'the status under web1 in bucket b has entries that are not sound: targets[1].pending[0] left out',
      'the status under web2 in bucket b has entries that are not sound: targets[0].lastRun.failures[0] left out',
      'the value under web3 in bucket b is not a status document: left out',
    ]);
  });
});
