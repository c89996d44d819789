// Zone cuts that no referral showed, against a root and a child signed by BIND's dnssec-signzone in a temp dir at test
// time (no key is committed): the walk knows only the root's cut and asks the DS of each name below it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord } from '../wire.js';
import { validateChain, validateDenial, type ChainContext, type SignedAnswer } from './chain.js';
import { dsData, signzoneRecord } from '../../testing/signzone-records.js';
import type { DsData, RrsigData } from './types.js';
import type { FetchedDs } from './zone-cut.js';

const dir = mkdtempSync(join(tmpdir(), 'certsmith-cut-'));
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, encoding: 'utf8' });

/** Signs `text` as `zone` with a new ECDSA key; returns its records and its DS line's fields. */
function signed(zone: string, text: string): { records: DnsRecord[]; ds: string[] } {
  const base = run('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', zone]).trim();
  const key = readFileSync(join(dir, `${base}.key`), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .join('\n');
  const file = join(dir, `${zone === '.' ? 'root' : zone}.zone`);
  writeFileSync(file, `${text}${key}\n`);
  run('dnssec-signzone', ['-P', '-z', '-O', 'full', '-K', dir, '-d', dir, '-o', zone, '-f', `${file}.signed`, file, join(dir, base)]);
  const records = readFileSync(`${file}.signed`, 'utf8')
    .split('\n')
    .map(signzoneRecord)
    .filter((r): r is DnsRecord => r !== null);
  return {
    records,
    ds: run('dnssec-dsfromkey', ['-2', join(dir, `${base}.key`)])
      .trim()
      .split(/\s+/)
      .slice(3),
  };
}

let root: DnsRecord[];
let sub: DnsRecord[];
let anchor: DsData;

beforeAll(() => {
  const child = signed('sub', `$TTL 300\nsub. IN SOA ns. h. 1 300 60 86400 60\nsub. IN NS ns.\nwww.sub. IN A 192.0.2.10\n`);
  sub = child.records;
  // sub (signed, its DS here), plain (unsigned, no DS) and host (a name, no cut), all under the root's one cut.
  const rootText = `$TTL 300
. IN SOA ns. h. 1 300 60 86400 60
. IN NS ns.
ns. IN A 192.0.2.53
host. IN A 192.0.2.4
sub. IN NS ns.
sub. IN DS ${child.ds.join(' ')}
plain. IN NS ns.
`;
  const parent = signed('.', rootText);
  root = parent.records;
  anchor = dsData(parent.ds);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const at = (records: DnsRecord[], name: string, type: string) => records.filter((r) => r.name === name && r.type === type);
const sigsAt = (records: DnsRecord[], name: string, type: string) =>
  records.filter((r) => r.name === name && r.type === 'RRSIG' && (r.data as RrsigData).typeCovered === type);

/** The root's server: a DS answer, or every signed NSEC of the zone (the walk picks the ones that prove). */
function rootDs(name: string): FetchedDs {
  const ds = at(root, name, 'DS');
  const nsec = root.filter((r) => r.type === 'NSEC' || (r.type === 'RRSIG' && (r.data as RrsigData).typeCovered === 'NSEC'));
  return { ds, signatures: sigsAt(root, name, 'DS'), authority: ds.length ? [] : nsec, server: 'ns' };
}

function context(asked: string[], withDs = true): ChainContext {
  return {
    trustAnchors: [anchor],
    cutOf: () => undefined,
    fetchKeys: async (zone) => {
      const records = zone === '' ? root : sub;
      return { records: [...at(records, zone, 'DNSKEY'), ...sigsAt(records, zone, 'DNSKEY')], server: 'ns' };
    },
    ...(withDs && {
      fetchDs: async (name: string) => {
        asked.push(name);
        return rootDs(name);
      },
    }),
    now: new Date(),
  };
}

const answer = (records: DnsRecord[], name: string, signatures = sigsAt(records, name, 'A')): SignedAnswer => ({
  name,
  type: 'A',
  records: at(records, name, 'A'),
  signatures,
  zone: '',
  server: 'ns',
});

describe('a zone cut that no referral showed', () => {
  it("validates a child's answer through the DS its parent holds: secure, one DS question", async () => {
    const asked: string[] = [];
    expect(await validateChain(answer(sub, 'www.sub'), context(asked))).toEqual({ status: 'secure' });
    expect(asked).toEqual(['sub']);
  });

  it("validates a child's denial in the zone its SOA names", async () => {
    const nsec = sub.filter((r) => r.type === 'NSEC' || (r.type === 'RRSIG' && (r.data as RrsigData).typeCovered === 'NSEC'));
    const denial = { kind: 'nodata' as const, name: 'www.sub', type: 'AAAA', zone: 'sub', server: 'ns', authority: nsec };
    expect(await validateDenial(denial, context([]))).toEqual({ status: 'secure' });
  });

  it('calls an unsigned answer insecure below a delegation whose DS absence the parent proves', async () => {
    const plain: DnsRecord = { name: 'www.plain', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.11' };
    const status = await validateChain({ ...answer([plain], 'www.plain'), signatures: [] }, context([]));
    expect(status).toEqual({ status: 'insecure', reason: 'no DS for plain at ns: an insecure delegation that no referral showed (proven by NSEC)' });
  });

  it('keeps an unsigned answer bogus where the parent proves no cut above it', async () => {
    const status = await validateChain({ ...answer(root, 'host'), signatures: [] }, context([]));
    expect(status).toEqual({ status: 'bogus', reason: 'host: no RRSIG over A by . at ns' });
  });

  it('calls bogus a signer that the parent proves is no zone cut', async () => {
    // An answer below host whose RRSIG names host as its signer (the signature is never reached).
    const forged = sigsAt(sub, 'www.sub', 'A').map((r) => ({ ...r, name: 'www.host', data: { ...(r.data as RrsigData), signersName: 'host' } }));
    const fake: DnsRecord = { name: 'www.host', type: 'A', class: 'IN', ttl: 300, data: '192.0.2.10' };
    const status = await validateChain({ ...answer([fake], 'www.host'), signatures: forged }, context([]));
    expect(status).toEqual({ status: 'bogus', reason: 'host: signs an answer or owns its SOA, but . proves it is no zone cut at ns' });
  });

  it('calls a deeper signer bogus when its DS cannot be asked', async () => {
    const status = await validateChain(answer(sub, 'www.sub'), context([], false));
    expect(status).toEqual({ status: 'bogus', reason: 'sub: DS could not be fetched: no DS lookup' });
  });
});
